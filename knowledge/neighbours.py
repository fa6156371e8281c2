"""Off-topic neighbours: Partner Center topics next to the co-sell connectors (payouts, partner ids, co-sell
readiness, account verification, marketplace offers) that get a polite pointer, never an FAQ entry.

`knowledge/data/neighbours.yaml` holds each topic's cues (regular expressions on the folded message) and its one-line
pointer with a Microsoft docs link in English and Italian.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.loader import KnowledgeError, describe, read_yaml
from knowledge.models import Lang, Link
from knowledge.text import fold

DATA = Path(__file__).parent / "data" / "neighbours.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Neighbour(_Frozen):
    """One neighbouring topic: what recognises it and where it is answered."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    cues: tuple[str, ...] = Field(min_length=1)
    pointer: dict[Lang, str]
    link: dict[Lang, Link]

    @field_validator("cues")
    @classmethod
    def _compiles(cls, cues: tuple[str, ...]) -> tuple[str, ...]:
        for cue in cues:
            try:
                re.compile(cue)
            except re.error as exc:
                raise ValueError(f"bad cue {cue!r}: {exc}") from exc
        return cues

    @field_validator("pointer", "link")
    @classmethod
    def _both_languages(cls, value: dict[Lang, object]) -> dict[Lang, object]:
        if set(value) != {"en", "it"}:
            raise ValueError("needs exactly en and it")
        return value

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(r"\b(?:" + "|".join(f"(?:{c})" for c in self.cues) + r")\b")

    def recognises(self, folded: str) -> bool:
        """True when one of the cues occurs, as whole words, in `folded` (a `fold`ed message)."""
        return bool(self._pattern.search(folded))


class Neighbours(_Frozen):
    """All neighbouring topics, in the data file's order (the first that recognises a message wins)."""

    neighbours: tuple[Neighbour, ...]

    @cached_property
    def _any(self) -> re.Pattern[str]:
        """Every topic's cues in one pattern: it matches exactly when one of the topics' patterns does."""
        return re.compile(r"\b(?:" + "|".join(f"(?:{c})" for n in self.neighbours for c in n.cues) + r")\b")

    def recognise(self, text: str) -> Neighbour | None:
        """The neighbouring topic `text` asks about, if any."""
        folded = fold(text)
        # every FAQ question is checked and almost none is about a neighbour: one search says so at half the cost
        # of one per topic; only a message that is about one looks for the first topic, in the data's order
        if not self._any.search(folded):
            return None
        return next((n for n in self.neighbours if n.recognises(folded)), None)

    def get(self, neighbour_id: str) -> Neighbour:
        """The topic with this id (KeyError if unknown)."""
        for n in self.neighbours:
            if n.id == neighbour_id:
                return n
        raise KeyError(neighbour_id)


def load_neighbours(path: Path = DATA) -> Neighbours:
    """Load the neighbouring topics; KnowledgeError naming the file on any problem."""
    try:
        return Neighbours.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {describe(exc)}") from exc
