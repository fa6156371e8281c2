"""Load and validate the knowledge base from `knowledge/data/` at start-up; fail fast naming file and entry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.models import LANGS, Area, Entry, Lexicon

DATA_DIR = Path(__file__).parent / "data"


class KnowledgeError(Exception):
    """The knowledge data is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class KnowledgeBase:
    """All entries, in source order, plus the lexicon the matcher needs."""

    entries: tuple[Entry, ...]
    lexicon: Lexicon
    by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {e.id: e for e in self.entries})

    def area(self, area: Area) -> tuple[Entry, ...]:
        """The source page's entries of one area, in its order: the area's checklist. Beyond-page entries are left
        out: they answer questions (where to get help, marketplace leads), they are no check a tenant passes."""
        return tuple(e for e in self.entries if e.area == area and not e.beyond_page)

    def get(self, entry_id: str) -> Entry:
        """The entry with this id (KeyError if unknown)."""
        return self.by_id[entry_id]


# libyaml's safe loader (same documents, same types as `yaml.safe_load`, ~10x faster: the knowledge base's YAML was
# 0.4 s of every start-up); the pure-Python one where PyYAML was built without libyaml
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> object:
    """The YAML document in `path`; KnowledgeError naming the file when it cannot be read or parsed."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path.name}: cannot read YAML: {exc}") from exc


def describe(exc: ValidationError) -> str:
    """A validation error as `field.path: problem` clauses."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())


def load_entry(path: Path) -> Entry:
    """Load one entry file; errors name the file and the entry id."""
    raw = read_yaml(path)
    entry_id = raw.get("id", "?") if isinstance(raw, dict) else "?"
    try:
        entry = Entry.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name} (entry {entry_id}): {describe(exc)}") from exc
    for pattern in (*entry.fingerprints, *entry.generic_fingerprints):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise KnowledgeError(f"{path.name} (entry {entry.id}): bad fingerprint {pattern!r}: {exc}") from exc
    if path.stem != entry.id:
        raise KnowledgeError(f"{path.name} (entry {entry.id}): file name must be the entry id")
    return entry


def load_lexicon(path: Path) -> Lexicon:
    """Load stopwords, synonyms and small talk."""
    try:
        return Lexicon.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {describe(exc)}") from exc


def _check_unique(entries: Iterable[Entry]) -> None:
    seen: dict[tuple[Area, int], str] = {}
    for e in entries:
        key = (e.area, e.order)
        if key in seen:
            raise KnowledgeError(f"{e.id}.yaml (entry {e.id}): order {e.order} already used by {seen[key]}")
        seen[key] = e.id
    labels: dict[tuple[str, str], str] = {}
    for e in entries:
        for lang in LANGS:
            label = (lang, e.content(lang).label.casefold())
            if label in labels:
                raise KnowledgeError(f"{e.id}.yaml (entry {e.id}): {lang}.label already used by {labels[label]}")
            labels[label] = e.id


def load_kb(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Load every entry under `data_dir/entries` and the lexicon; raise KnowledgeError on any problem."""
    files = sorted((data_dir / "entries").glob("*.yaml"))
    if not files:
        raise KnowledgeError(f"{data_dir / 'entries'}: no entry files")
    entries = [load_entry(f) for f in files]
    _check_unique(entries)
    area_rank = {a: i for i, a in enumerate(Area)}
    entries.sort(key=lambda e: (area_rank[e.area], e.order))
    return KnowledgeBase(entries=tuple(entries), lexicon=load_lexicon(data_dir / "lexicon.yaml"))
