"""The runtime part of requirements.lock, for the container image: no pytest, ruff, mypy, playwright, ….

requirements.lock is one `uv pip compile --extra dev` lock, so it cannot be installed without the dev extra as it is.
It does say who needs what: each pin is followed by uv's `# via` lines naming the packages that require it. Starting
from the project's own `[project].dependencies` (pyproject.toml), a pin is kept when a kept package requires it, until
nothing changes. Kept blocks are copied verbatim (pins, every hash, the `# via` lines), so
`pip install --require-hashes` installs exactly the versions and files the full lock names; a pin that a runtime
package needs but the lock lacks makes that pip refuse, not guess. `# via cosell-connectors-assistant` is not
followed: the project's own line cannot tell its dev extra from its runtime dependencies.

Usage (the Dockerfile's build stage; stdlib only, Python 3.11+):
    python runtime_lock.py requirements.lock pyproject.toml > requirements.runtime.lock
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+")
_VIA_ONE = re.compile(r"^\s+# via (\S+)")
_VIA_MANY = re.compile(r"^\s+#   (\S+)")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Pin:
    """One pinned package of the lock: its normalised name, who requires it, and its lines as written."""

    name: str
    via: frozenset[str]
    text: str


def normalise(name: str) -> str:
    """PEP 503 name: `PyYAML` → `pyyaml`, `typing_extensions` → `typing-extensions`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> tuple[str, list[Pin]]:
    """The lock's header (the lines before the first pin) and its pins, in order."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _PIN.match(line)]
    if not starts:
        raise ValueError("no `name==version` pins found: is this a uv/pip-tools lock?")
    pins = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        block = lines[start:end]
        via = set()
        for line in block[1:]:
            found = _VIA_ONE.match(line) or _VIA_MANY.match(line)
            if found:
                via.add(normalise(found.group(1)))
        head = _PIN.match(block[0])
        assert head is not None  # every block starts at a pin
        pins.append(Pin(normalise(head.group(1)), frozenset(via), "".join(block)))
    return "".join(lines[: starts[0]]), pins


def runtime_roots(pyproject: str) -> set[str]:
    """The normalised names of `[project].dependencies` (extras and markers aside)."""
    names = set()
    for dep in tomllib.loads(pyproject)["project"]["dependencies"]:
        found = _NAME.match(dep)
        if found is None:
            raise ValueError(f"a dependency without a name in pyproject.toml: {dep!r}")
        names.add(normalise(found.group(1)))
    return names


def runtime_pins(lock: str, pyproject: str) -> list[Pin]:
    """The pins the runtime dependencies need, directly or through each other, in the lock's order.

    Raises:
        ValueError: a runtime dependency has no pin in the lock.
    """
    _, pins = read_lock(lock)
    roots = runtime_roots(pyproject)
    missing = roots - {pin.name for pin in pins}
    if missing:
        raise ValueError(f"runtime dependencies missing from the lock: {', '.join(sorted(missing))}")
    kept = set(roots)
    changed = True
    while changed:
        changed = False
        for pin in pins:
            if pin.name not in kept and pin.via & kept:
                kept.add(pin.name)
                changed = True
    return [pin for pin in pins if pin.name in kept]


def render(lock: str, pyproject: str) -> str:
    """The runtime lock's text: a header saying where it comes from, then the kept blocks verbatim."""
    header = (
        "# The runtime part of requirements.lock, written by deploy/runtime_lock.py at image build time:\n"
        "# the pins [project].dependencies need (followed through uv's `# via` lines), hashes unchanged.\n"
    )
    return header + "".join(pin.text for pin in runtime_pins(lock, pyproject))


def main(argv: list[str]) -> int:
    """Print the runtime lock of `argv[0]` (requirements.lock) given `argv[1]` (pyproject.toml)."""
    if len(argv) != 2:
        sys.stderr.write("usage: runtime_lock.py requirements.lock pyproject.toml\n")
        return 2
    lock, pyproject = (Path(arg).read_text(encoding="utf-8") for arg in argv)
    try:
        sys.stdout.write(render(lock, pyproject))
    except ValueError as exc:
        sys.stderr.write(f"runtime_lock.py: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
