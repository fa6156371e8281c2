"""The product's shape: no module over 400 lines, no top-level package over 40% of the product's code, and every
package folder opening with a docstring that says what lives there.

Module size is counted in physical lines (what `wc -l` says). A package's share is counted in lines of code as cloc
counts them for Python: no blank lines, comments or docstrings, so that splitting a module (a docstring and imports
more) or documenting one does not count as growth.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = tuple(
    name
    for name in ("bot", "dialogs", "support", "assistant", "tenant", "knowledge", "stores")
    if (ROOT / name).is_dir()
)
MAX_MODULE_LINES = 400
MAX_PACKAGE_SHARE = 0.40
_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


def _modules(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    docstrings = _docstring_lines(ast.parse(source))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NOT_CODE:
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return len(lines)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_only_the_host_imports_the_telemetry_sdk() -> None:
    """The SDK-free packages record through the OpenTelemetry API alone; the SDK, the instrumentations and the
    exporter are bot's (bot/telemetry_export.py), imported only when telemetry is on (import-linter cannot say so)."""
    edge = ("opentelemetry.sdk", "opentelemetry.instrumentation", "azure")
    packages = [name for name in PRODUCT if name != "bot"]
    found = {
        str(path.relative_to(ROOT)): name
        for path in _modules(*packages)
        for name in _imported(path)
        if name.startswith(edge)
    }
    assert not found, f"telemetry SDK imported beyond bot/: {found}"
    recorders = {str(path.relative_to(ROOT)) for path in _modules(*packages) if "opentelemetry" in _imported(path)}
    assert {"tenant/telemetry.py", "assistant/telemetry.py"} <= recorders


def test_code_lines_skip_blanks_comments_and_docstrings() -> None:
    source = (
        '"""Module.\n\nMore."""\n\nimport os  # why\n\n# a comment\ndef f():\n    """Doc."""\n    return """text\n"""\n'
    )
    assert code_lines(source) == 4  # import, def, and the two lines of the returned string


def test_the_product_packages_are_found() -> None:
    assert {"bot", "dialogs", "assistant", "tenant", "knowledge"} <= set(PRODUCT)


def test_no_product_module_exceeds_400_lines() -> None:
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in _modules(*PRODUCT)
    }
    too_long = {name: size for name, size in sizes.items() if size > MAX_MODULE_LINES}
    assert too_long == {}, f"split these along their seams (at most {MAX_MODULE_LINES} lines a module)"


def test_no_top_level_package_exceeds_40_percent_of_the_product() -> None:
    code = {
        package: sum(code_lines(path.read_text(encoding="utf-8")) for path in _modules(package)) for package in PRODUCT
    }
    total = sum(code.values())
    shares = {package: round(lines / total, 3) for package, lines in code.items()}
    assert max(shares.values()) <= MAX_PACKAGE_SHARE, f"lines of code per package: {code}, shares: {shares}"


PACKAGES = [path for path in _modules(*PRODUCT, "devtools") if path.name == "__init__.py"]


@pytest.mark.parametrize("init", PACKAGES, ids=lambda path: path.parent.relative_to(ROOT).as_posix())
def test_every_package_opens_with_a_docstring(init: Path) -> None:
    docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert docstring and len(docstring) > 40, "say what lives in this package and what may import it"
