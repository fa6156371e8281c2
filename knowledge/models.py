"""Typed knowledge model: FAQ entries, their bilingual content, and match results (pydantic, frozen)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

Lang = Literal["en", "it"]
LANGS: tuple[Lang, ...] = ("en", "it")


class Area(StrEnum):
    """The three areas of the source page, in its order."""

    prerequisites = "prerequisites"
    configuration = "configuration"
    maintenance = "maintenance"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Link(_Frozen):
    """A link to a page: one kept from the source page, or a source an answer cites."""

    title: str = Field(min_length=1)
    url: HttpUrl


class Sources(_Frozen):
    """Where an entry's answer comes from, per language: first the page it is taken from (the troubleshooting
    page's section, or for a beyond-page entry the doc it comes from), then Microsoft docs on the same topic."""

    en: tuple[Link, ...] = Field(min_length=1)
    it: tuple[Link, ...] = Field(min_length=1)

    def of(self, lang: Lang) -> tuple[Link, ...]:
        """The sources in `lang`."""
        return self.en if lang == "en" else self.it


class Step(_Frozen):
    """One step of an answer; `substeps` keep the source's nested lists (e.g. the flow names in order)."""

    text: str = Field(min_length=1)
    substeps: tuple[str, ...] = ()


class Content(_Frozen):
    """Everything an entry says in one language."""

    title: str = Field(min_length=5)
    #: what a button or a list names the entry by ("Country code missing"): short, distinct within a language
    label: str = Field(min_length=3, max_length=40)
    phrasings: tuple[str, ...] = Field(min_length=5)
    keywords: tuple[str, ...] = Field(min_length=3)
    lead: str = Field(min_length=10)
    steps: tuple[Step, ...] = ()
    note: str | None = None
    links: tuple[Link, ...] = ()
    check: str = Field(min_length=10)

    @field_validator("phrasings", "keywords")
    @classmethod
    def _no_blank(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in values):
            raise ValueError("blank string")
        return values


class Entry(_Frozen):
    """One question of the source page with its answer in English and Italian."""

    id: str = Field(pattern=r"^(pre|cfg|run)-[a-z0-9-]+$")
    area: Area
    order: int = Field(ge=1)
    fingerprints: tuple[str, ...] = ()
    #: patterns of messages that only say that something failed ("ActionFailed"): they answer with this entry
    #: when no entry's own fingerprint matches, so a pasted run error that also names its cause gets the cause
    generic_fingerprints: tuple[str, ...] = ()
    en: Content
    it: Content
    #: the entry answers a question the troubleshooting page does not (from Microsoft's other docs): said to the
    #: user, and kept out of the area's checklist
    beyond_page: bool = False
    sources: Sources

    def content(self, lang: Lang) -> Content:
        """The entry's content in `lang`."""
        return self.en if lang == "en" else self.it


class Lexicon(_Frozen):
    """Language data for the matcher: stopwords per language and synonym groups."""

    stopwords: dict[Lang, frozenset[str]]
    synonyms: tuple[tuple[str, ...], ...]
    smalltalk: dict[str, dict[Lang, tuple[str, ...]]]
    #: words that place a question in this domain; without one, only a term few entries share counts as evidence
    anchors: tuple[str, ...] = ()
    #: products and topics this assistant does not cover ("outlook", "power bi"): a question naming one is out of
    #: scope unless it also names something of the co-sell connectors (`in_scope`)
    out_of_scope: tuple[str, ...] = ()
    #: words that keep a question in scope whatever other product it names ("co-sell", "referral", "connector")
    in_scope: tuple[str, ...] = ()


class Match(_Frozen):
    """The matcher's verdict for one text.

    kind: `answer` (entry set), `clarify` (alternatives set, entry None), `none` (off-topic),
    `smalltalk` (greeting/thanks; `smalltalk` names which).
    """

    kind: Literal["answer", "clarify", "none", "smalltalk"]
    lang: Lang
    entry: str | None = None
    confidence: float = 0.0
    alternatives: tuple[str, ...] = ()
    smalltalk: str | None = None
    via: Literal["fingerprint", "fuzzy", "learned", "none", "smalltalk", "out_of_scope", "neighbour"] = "none"
    #: the off-topic neighbour (payouts, partner ids, ...) a `none` verdict recognised: the reply points there
    neighbour: str | None = None
