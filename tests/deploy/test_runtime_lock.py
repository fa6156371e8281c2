"""deploy/runtime_lock.py: the image installs the runtime part of requirements.lock. It must keep every pin the
product needs (followed through uv's `# via` lines, checked here against the product's own imports) and leave out the
dev extra, copying each kept pin with its hashes unchanged."""

from __future__ import annotations

import ast
import importlib.util
import sys
from importlib.metadata import packages_distributions
from pathlib import Path
from types import ModuleType

import pytest

from tests.deploy.readers import REPO

LOCK = (REPO / "requirements.lock").read_text(encoding="utf-8")
PYPROJECT = (REPO / "pyproject.toml").read_text(encoding="utf-8")
PRODUCT = ["bot", "dialogs", "assistant", "tenant", "knowledge", "stores", "support"]
DEV_ONLY = {"pytest", "pytest-asyncio", "pytest-aiohttp", "ruff", "mypy", "playwright", "hypothesis", "import-linter"}


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("runtime_lock", REPO / "deploy" / "runtime_lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["runtime_lock"] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


rl = _load()
KEPT = rl.runtime_pins(LOCK, PYPROJECT)
KEPT_NAMES = {pin.name for pin in KEPT}


def test_keeps_every_runtime_dependency_and_no_dev_tool() -> None:
    assert rl.runtime_roots(PYPROJECT) <= KEPT_NAMES
    assert {"botbuilder-core", "aiohttp", "pydantic-settings", "pyyaml", "pystemmer"} <= KEPT_NAMES
    assert not DEV_ONLY & KEPT_NAMES
    assert not {"greenlet", "pluggy", "iniconfig", "grimp", "types-pyyaml"} & KEPT_NAMES  # dev tools' own needs
    _, everything = rl.read_lock(LOCK)
    assert len(KEPT) < len(everything)


def test_what_a_kept_package_requires_is_kept() -> None:
    _, everything = rl.read_lock(LOCK)
    for pin in everything:
        if pin.via & KEPT_NAMES:
            assert pin.name in KEPT_NAMES, f"{pin.name} is required by {sorted(pin.via & KEPT_NAMES)}"


def test_kept_pins_are_copied_verbatim_with_their_hashes() -> None:
    text = rl.render(LOCK, PYPROJECT)
    for pin in KEPT:
        assert pin.text in LOCK and pin.text in text
        assert "--hash=sha256:" in pin.text
    assert text.count("==") == len(KEPT)
    assert text.startswith("# The runtime part of requirements.lock")


def _third_party_imports() -> dict[str, str]:
    """Top-level modules the product imports that are neither stdlib nor its own, with one file importing each."""
    found: dict[str, str] = {}
    own = set(PRODUCT) | {"devtools"}
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in own and top != "__future__":
                        found.setdefault(top, str(path.relative_to(REPO)))
    return found


def test_every_module_the_product_imports_comes_from_a_kept_pin() -> None:
    imports = _third_party_imports()
    assert {"aiohttp", "botbuilder", "httpx", "pydantic", "yaml"} <= set(imports)
    providers = packages_distributions()
    missing = {}
    for module, where in imports.items():
        dists = {rl.normalise(dist) for dist in providers.get(module, [])}
        if not dists & KEPT_NAMES:
            missing[module] = (where, sorted(dists))
    assert not missing, f"imported by the product, not in the runtime lock: {missing}"


_TOY_LOCK = """\
# header
a==1 \\
    --hash=sha256:aa
    # via toy (pyproject.toml)
b==2 \\
    --hash=sha256:bb
    # via
    #   a
    #   devtool
c==3 \\
    --hash=sha256:cc
    # via devtool
devtool==4 \\
    --hash=sha256:dd
    # via toy (pyproject.toml)
d==5 \\
    --hash=sha256:ee
    # via b
"""
_TOY_PYPROJECT = (
    '[project]\nname = "toy"\ndependencies = ["A>=1"]\n[project.optional-dependencies]\ndev = ["devtool"]\n'
)


def test_follows_via_lines_from_the_runtime_roots_only() -> None:
    assert [pin.name for pin in rl.runtime_pins(_TOY_LOCK, _TOY_PYPROJECT)] == ["a", "b", "d"]


def test_a_runtime_dependency_missing_from_the_lock_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lock").write_text(_TOY_LOCK)
    (tmp_path / "pyproject.toml").write_text(_TOY_PYPROJECT.replace('["A>=1"]', '["A>=1", "Zed_Pkg"]'))
    assert rl.main([str(tmp_path / "lock"), str(tmp_path / "pyproject.toml")]) == 1
    assert "zed-pkg" in capsys.readouterr().err
    assert rl.main([]) == 2
