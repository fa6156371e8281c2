"""Small, honest readers of the deployment files for tests/deploy: no Docker, no Bicep compiler on this machine.

- `read_dockerfile`: instructions as Docker's parser splits them (comments and parser directives dropped, `\\`
  continuations joined, JSON exec forms decoded), grouped by build stage, `ARG` defaults substituted in `FROM`.
- `dockerignore_excludes`: .dockerignore semantics (Go `filepath.Match` patterns plus `**`, `!` exceptions, the last
  matching line wins, a path is excluded when it or one of its parent folders matches).
- `read_bicep`: regular expressions over the lines of deploy/azure/main.bicep, not a Bicep parser. It reads the
  parameters (type, default, decorators) and the Web App's app settings from the `var …Settings`/`…Setting` blocks that
  the `appsettings` resource unions, in the two shapes the template keeps (one `NAME: value` per line; an optional
  one as `empty(param) ? {} : { NAME: value }`). Any other line in those blocks is an error, so a setting written in
  another shape fails the tests instead of going unchecked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
BICEP = REPO / "deploy" / "azure" / "main.bicep"
PARAMETERS = REPO / "deploy" / "azure" / "main.parameters.json"


# ------------------------------------------------------------------------------------------------ Dockerfile


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: keyword (upper case), its argument text, the decoded exec form if it has one."""

    keyword: str
    args: str
    line: int

    @property
    def exec_form(self) -> list[str] | None:
        """`["a", "b"]` arguments as a list; None for the shell form."""
        text = self.args
        while text.startswith("--"):  # HEALTHCHECK --interval=… CMD [...]
            text = text.split(None, 1)[1]
        if text.startswith("CMD "):
            text = text[4:].lstrip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"line {self.line}: bad exec form"
        return value


@dataclass
class Stage:
    """A build stage: its base image (ARG defaults substituted), its name, its instructions."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        """The stage's instructions with that keyword, in order."""
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """The stage's ENV values (`KEY=value` pairs; quotes removed; `$PATH`-style references left as written)."""
        values: dict[str, str] = {}
        for ins in self.all("ENV"):
            for key, value in re.findall(r"""([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)""", ins.args):
                values[key] = value.strip("\"'")
        return values


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) per instruction: comments dropped, backslash continuations joined."""
    out: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue  # a comment (or a parser directive), also inside a continued instruction
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        out.append((start, " ".join(part for part in buffer if part)))
        buffer = []
    assert not buffer, "the Dockerfile ends inside a continued instruction"
    return out


def read_dockerfile(path: Path = DOCKERFILE) -> tuple[dict[str, str], list[Stage]]:
    """The global ARG defaults and the build stages."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for number, line in _logical_lines(path.read_text(encoding="utf-8")):
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            found = re.match(r"^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest, re.IGNORECASE)
            assert found, f"line {number}: FROM {rest!r} not understood"
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), found.group(1))
            stages.append(Stage(base, found.group(2)))
        elif keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip().strip("\"'")
        else:
            assert stages, f"line {number}: {keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, rest, number))
    return args, stages


# ------------------------------------------------------------------------------------------------ .dockerignore


def pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def dockerignore_rules(path: Path = DOCKERIGNORE) -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, pattern) per line, in order."""
    rules = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        pattern = pattern.strip("/")  # Docker cleans the pattern: a leading or trailing slash changes nothing
        rules.append((negated, pattern_regex(pattern)))
    return rules


def dockerignore_excludes(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the context path `relative` (forward slashes) is left out of the build context."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]  # the path and its parent folders
    excluded = False
    for negated, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


# ------------------------------------------------------------------------------------------------ Bicep

_PARAM = re.compile(r"^param (\w+) (\w+)(?: = (.+))?$")
_PAIR = re.compile(r"^  (\w+): (.+)$")
_OPTIONAL = re.compile(r"^var (\w+) = empty\((\w+)\) \? \{\} : \{ (\w+): (.+) \}$")


@dataclass(frozen=True)
class Param:
    """A template parameter: its type, default expression (None when required), decorators as written."""

    name: str
    type: str
    default: str | None
    decorators: tuple[str, ...]

    @property
    def secure(self) -> bool:
        return "@secure()" in self.decorators

    @property
    def allowed(self) -> list[str]:
        """The `@allowed([...])` values (string literals), or []."""
        for decorator in self.decorators:
            if decorator.startswith("@allowed("):
                return re.findall(r"'([^']*)'", decorator)
        return []

    def bound(self, decorator: str) -> int | None:
        """The integer of `@minValue(n)` / `@maxValue(n)`, or None."""
        for text in self.decorators:
            found = re.fullmatch(rf"@{decorator}\((\d+)\)", text)
            if found:
                return int(found.group(1))
        return None


@dataclass(frozen=True)
class AppSetting:
    """One app setting: its name, its value expression as written, the parameter whose emptiness omits it (or None)."""

    name: str
    value: str
    var: str
    unless_empty: str | None


@dataclass(frozen=True)
class Template:
    """What the tests read from main.bicep."""

    text: str
    params: dict[str, Param]
    settings: list[AppSetting]
    union_vars: list[str]


def _params(lines: list[str]) -> dict[str, Param]:
    params: dict[str, Param] = {}
    decorators: list[str] = []
    open_decorator: list[str] = []
    for line in lines:
        stripped = line.strip()
        if open_decorator:  # inside a multi-line @allowed([ … ])
            open_decorator.append(stripped)
            if stripped == "])":
                decorators.append(" ".join(open_decorator))
                open_decorator = []
            continue
        if stripped.startswith("@"):
            if stripped.endswith("(["):
                open_decorator = [stripped]
            else:
                decorators.append(stripped)
            continue
        found = _PARAM.match(stripped)
        if found:
            name, kind, default = found.groups()
            params[name] = Param(name, kind, default, tuple(decorators))
        decorators = [] if not stripped.startswith("//") else decorators
    return params


def _block(lines: list[str], var: str) -> list[str]:
    """The lines between `var NAME = {` and its closing `}` at the start of a line."""
    start = lines.index(f"var {var} = {{")
    end = lines.index("}", start)
    return lines[start + 1 : end]


def read_bicep(text: str) -> Template:
    """Parameters and app settings of a template written in main.bicep's shape.

    Raises:
        AssertionError: the `appsettings` resource or a settings block is not in the expected shape.
    """
    lines = text.splitlines()
    params = _params(lines)
    found = re.search(
        r"^resource \w+ 'Microsoft\.Web/sites/config@[^']+' = \{\n  parent: \w+\n  name: 'appsettings'\n"
        r"  properties: union\(([\w\s,]+)\)\n",
        text,
        re.MULTILINE,
    )
    assert found, "no `appsettings` config resource whose properties are union(var, …) of settings variables"
    union_vars = [name.strip() for name in found.group(1).split(",") if name.strip()]
    settings: list[AppSetting] = []
    for var in union_vars:
        optional = [m for m in map(_OPTIONAL.match, lines) if m and m.group(1) == var]
        if optional:
            _, param, name, value = optional[0].groups()
            settings.append(AppSetting(name, value, var, param))
            continue
        for line in _block(lines, var):
            pair = _PAIR.match(line)
            assert pair, f"var {var}: line {line!r} is not `  NAME: value` (the tests could not check it)"
            settings.append(AppSetting(pair.group(1), pair.group(2), var, None))
    return Template(text, params, settings, union_vars)
