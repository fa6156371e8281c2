"""The live checks as data: `knowledge/data/checks/*.yaml`, loaded and validated at start-up (fail fast, naming the
file and the check).

`<area>.yaml` (prerequisites, configuration, maintenance) declares that area's checks, in the order a sweep shows
them (the areas in `Area` order, like the entries)::

    area: prerequisites              # the file's name
    checks:
      - id: crm-currency             # the id its run function registers (tenant/checks: `@check("crm-currency")`)
        title: {en: CRM currency, it: Valuta del CRM}
        systems: [dataverse]         # the tenant.base.System values it calls; its findings name the first
        needs: [dataverse]           # credentials it cannot run without, among `systems` (default: none)
        entries: [pre-crm-fields]    # the FAQ entries it diagnoses (knowledge/data/entries)
        estimated_calls: 2           # API calls one run makes, for the daily call budget (default 1)
        messages:                    # what its findings say, by key; syntax in knowledge/messages.py
          currencies:
            en: "Base currency {base:or:unknown}, {active} active {active:plural:currency|currencies}."
            it: "Valuta di base {base:or:sconosciuta}, {active} {active:plural:valuta attiva|valute attive}."

`messages.yaml` holds `messages:` that the runner, the clients and every check share (errors, skips, clauses such
as " (use {code})"). A check's own messages are looked up first; they may not reuse a shared key.

Loading checks the YAML and the schema, that ids are unique, that every entry named exists, that `needs` are among
`systems`, and that both languages of every message name the same parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from knowledge.loader import DATA_DIR, KnowledgeError, describe, read_yaml
from knowledge.messages import Lookup, Message
from knowledge.models import Area

SHARED = "messages"  # the stem of the shared messages' file
_KEY = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    if repeated := sorted({v for v in values if values.count(v) > 1}):
        raise ValueError(f"repeated: {repeated}")
    return values


def _keys(messages: dict[str, Message]) -> dict[str, Message]:
    if bad := [key for key in messages if not re.fullmatch(_KEY, key)]:
        raise ValueError(f"message keys must be lower-case words joined by '-': {bad}")
    return messages


class CheckSpec(BaseModel):
    """One live check's declaration and words; its run function is Python (tenant/checks)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_KEY)
    area: Area
    title: Message
    systems: tuple[str, ...] = Field(min_length=1)
    needs: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    estimated_calls: int = Field(default=1, ge=1)
    messages: dict[str, Message] = Field(default_factory=dict)

    _unique_lists = field_validator("systems", "needs", "entries")(_unique)
    _message_keys = field_validator("messages")(_keys)

    @model_validator(mode="after")
    def _needs_among_systems(self) -> CheckSpec:
        if stray := [need for need in self.needs if need not in self.systems]:
            raise ValueError(f"needs {stray} are not among systems {list(self.systems)}")
        return self


class _AreaFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    area: Area
    checks: tuple[dict[str, Any], ...] = Field(min_length=1)


class _SharedFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: dict[str, Message]

    _message_keys = field_validator("messages")(_keys)


@dataclass(frozen=True)
class CheckBook:
    """Every declared check, in sweep order, and the shared messages."""

    checks: tuple[CheckSpec, ...]
    messages: Mapping[str, Message]

    def get(self, check_id: str) -> CheckSpec:
        """The check `check_id` (KeyError if undeclared)."""
        found = next((spec for spec in self.checks if spec.id == check_id), None)
        if found is None:
            raise KeyError(check_id)
        return found

    def lookup(self, check_id: str | None = None) -> Lookup:
        """Messages by key: the check's own (when `check_id` is given), else the shared ones; KeyError if neither."""
        own = self.get(check_id).messages if check_id is not None else {}

        def find(key: str) -> Message:
            return own[key] if key in own else self.messages[key]

        return find


def _load_area(path: Path, entry_ids: set[str]) -> list[CheckSpec]:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path.name}: expected a mapping with area and checks")
    try:
        declared = _AreaFile.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {describe(exc)}") from exc
    if declared.area.value != path.stem:
        raise KnowledgeError(f"{path.name}: area {declared.area.value} in a file that must be named after it")
    specs = []
    for block in declared.checks:
        check_id = block.get("id", "?")
        if "area" in block:
            raise KnowledgeError(f"{path.name} (check {check_id}): area: the file gives it")
        try:
            spec = CheckSpec.model_validate({**block, "area": declared.area})
        except ValidationError as exc:
            raise KnowledgeError(f"{path.name} (check {check_id}): {describe(exc)}") from exc
        if unknown := [entry for entry in spec.entries if entry not in entry_ids]:
            raise KnowledgeError(f"{path.name} (check {spec.id}): unknown entries {unknown}")
        specs.append(spec)
    return specs


def _load_shared(path: Path) -> dict[str, Message]:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path.name}: expected a mapping with messages")
    try:
        return _SharedFile.model_validate(raw).messages
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {describe(exc)}") from exc


def load_checks(data_dir: Path = DATA_DIR) -> CheckBook:
    """Load `data_dir/checks` (checks against the entries of `data_dir/entries`); raise KnowledgeError on any
    problem."""
    folder = data_dir / "checks"
    names = {path.stem for path in folder.glob("*.yaml")}
    if stray := sorted(names - {area.value for area in Area} - {SHARED}):
        raise KnowledgeError(f"{folder}: files named after no area: {[f'{name}.yaml' for name in stray]}")
    entry_ids = {path.stem for path in (data_dir / "entries").glob("*.yaml")}
    shared = _load_shared(folder / f"{SHARED}.yaml")
    specs = [spec for area in Area if area.value in names for spec in _load_area(folder / f"{area}.yaml", entry_ids)]
    if not specs:
        raise KnowledgeError(f"{folder}: no checks")
    seen: dict[str, Area] = {}
    for spec in specs:
        if spec.id in seen:
            raise KnowledgeError(f"{spec.area}.yaml (check {spec.id}): id already declared in {seen[spec.id]}.yaml")
        seen[spec.id] = spec.area
        if shadowed := sorted(set(spec.messages) & set(shared)):
            raise KnowledgeError(f"{spec.area}.yaml (check {spec.id}): messages {shadowed} are shared ones")
    return CheckBook(tuple(specs), shared)
