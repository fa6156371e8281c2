"""What a message asks for besides an FAQ answer: a person (the hand-over intent), recognised from word classes.

`knowledge/data/intents.yaml` lists the classes; `knowledge.intent_grammar` holds the structures a clause of them may
form. Here the words are read: a message is cut into clauses at punctuation and folded (`knowledge.text.fold`); each
word gets the bits of its classes, Italian verbs with their enclitic pronouns ("chiamatemi" is "chiamate" + "mi") and
English verbs with their inflections; the knowledge base's own words (and their other forms: "condizione" for
"condizioni") are the domain, and are never "repaired"; any other word one edit away from a cue is taken as that cue's
typo ("opertor", "assitenza", "tlak"). Multi-word cues ("help desk", "c'è") are joined into one word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from knowledge.intent_grammar import CLASSES, CLITIC, DOMAIN, INFLECTED, ING, VERBS, alone, asks
from knowledge.loader import SAFE_LOADER, KnowledgeBase
from knowledge.models import LANGS
from knowledge.text import fold, light

DATA = Path(__file__).parent / "data" / "intents.yaml"
_CLAUSE = re.compile(r"[.,;:!?…\n\r()\[\]{}]+|\s[-–—]+\s")
_MIN_REPAIR = 4  # shorter words are never repaired: "tak" could be "talk" or "take"


class IntentError(Exception):
    """The intent data is invalid; the message says where."""


class HandoffCues(BaseModel):
    """The hand-over word classes as written in the data file (`CLASSES` names them; Italian verbs as
    "stem-conjugation"), and the Italian morphology: enclitic pronouns, endings and participles per conjugation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classes: dict[str, tuple[str, ...]]
    clitics: tuple[str, ...]
    endings: dict[str, tuple[str, ...]]
    participles: dict[str, tuple[str, ...]]

    @field_validator("classes")
    @classmethod
    def _every_class_named(cls, classes: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if unknown := sorted(set(classes) - set(CLASSES)):
            raise ValueError(f"unknown word classes {unknown}")
        if missing := sorted(set(CLASSES) - set(classes)):
            raise ValueError(f"missing word classes {missing}")
        return classes

    @model_validator(mode="after")
    def _every_conjugation_known(self) -> HandoffCues:
        verbs = {entry for words in self.classes.values() for entry in words if "-" in entry}
        if unknown := sorted(v for v in verbs if v.split("-")[1] not in self.endings):
            raise ValueError(f"verbs of no known conjugation {unknown} (known: {sorted(self.endings)})")
        return self


def load_cues(path: Path = DATA) -> HandoffCues:
    """The hand-over cues of `path`; a missing or malformed file raises `IntentError` naming it."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
        data = dict(raw["handoff"])
        morphology = {key: data.pop(key) for key in ("clitics", "endings", "participles") if key in data}
        return HandoffCues(classes=data, **morphology)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, ValidationError) as exc:
        raise IntentError(f"{path.name}: {exc}") from exc


def _english_forms(verb: str) -> dict[str, int]:
    """A verb and its -s / -ed / -ing forms, marked INFLECTED: they report or describe, they do not ask."""
    stem = verb[:-1] if verb.endswith("e") else verb
    forms = {verb: 0}
    for form in (verb + "s", verb + "es", stem + "ed", verb + verb[-1] + "ed"):
        forms.setdefault(form, INFLECTED)
    for form in (stem + "ing", verb + verb[-1] + "ing"):
        forms.setdefault(form, INFLECTED | ING)
    return forms


def _italian_forms(entry: str, cues: HandoffCues) -> dict[str, int]:
    """Every form of an Italian verb written "stem-conjugation" ("chiam-are"): the endings of its conjugation, and its
    participles marked INFLECTED."""
    stem, conjugation = entry.split("-")
    forms = {stem + end: 0 for end in cues.endings[conjugation]}
    forms.update({stem + end: INFLECTED for end in cues.participles.get(conjugation, ()) if stem + end not in forms})
    return forms


def build_lexicon(cues: HandoffCues) -> tuple[dict[str, int], frozenset[str]]:
    """Word → class bits for every form the cues name, and the words written out in the data (not generated)."""
    lexicon: dict[str, int] = {}
    written: set[str] = set()
    for name, bit in CLASSES.items():
        for entry in cues.classes[name]:
            if "-" in entry:
                forms = _italian_forms(entry, cues)
            elif bit & VERBS and " " not in entry:
                forms = _english_forms(entry)
            else:
                forms = {"_".join(fold(entry).split()): 0}
            written.add("_".join(fold(entry).split()))
            for form, extra in forms.items():
                lexicon[form] = lexicon.get(form, 0) | bit | extra
    return lexicon, frozenset(written)


class HandoffRecognizer:
    """`recognizer(text)` is True when `text` asks for a person rather than asking a question.

    Args:
        cues: the word classes (`load_cues`).
        vocabulary: texts of the knowledge base: their words are never "repaired" into a cue, and those that are
            neither function words nor cues count as the domain (a person followed by one is not asked for).
        function_words: words of no domain (the knowledge base's stopwords).
    """

    def __init__(self, cues: HandoffCues, vocabulary: Iterable[str] = (), function_words: Iterable[str] = ()) -> None:
        lexicon, written = build_lexicon(cues)
        kb_words = {w for text in vocabulary for w in fold(text).split()}
        stop = {fold(w) for w in function_words}
        # a support request is named with the domain's own words ("segnalazione" is also a referral): they stay domain
        domain = kb_words - stop - (written - set(cues.classes["support_requests"]))
        for word in domain:
            lexicon[word] = lexicon.get(word, 0) | DOMAIN
        # other forms of a domain word are the domain too ("condizione" for "condizioni"), never a typo of a cue
        self._domain_stems = frozenset(light(w) for w in domain) - {light(w) for w in written}
        self._lexicon = lexicon
        self._phrases = {tuple(w.split("_")): w for w in lexicon if "_" in w}
        self._longest = max((len(p) for p in self._phrases), default=1)
        self._phrase_starts = frozenset(phrase[0] for phrase in self._phrases)
        self._clitics = tuple(sorted(cues.clitics, key=len, reverse=True))
        self._known = frozenset(kb_words | stop | set(lexicon))
        pool = sorted(w for w, bits in lexicon.items() if len(w) >= _MIN_REPAIR and "_" not in w and not bits & DOMAIN)
        self._pool_by_length: dict[int, list[str]] = {}
        for word in pool:
            self._pool_by_length.setdefault(len(word), []).append(word)
        self._word = lru_cache(maxsize=16384)(self._read_word)

    def __getstate__(self) -> dict[str, object]:
        """Pickled (`knowledge.snapshot`) without its cache: it is rebuilt empty."""
        state = self.__dict__.copy()
        del state["_word"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._word = lru_cache(maxsize=16384)(self._read_word)

    def words(self, text: str) -> list[str]:
        """The words of `text` as the recogniser reads them: folded, typos repaired, phrases joined by "_"."""
        return [w for clause in _CLAUSE.split(text) for w, _ in self._clause(clause)]

    def __call__(self, text: str) -> bool:
        clauses = [[bits for _, bits in self._clause(c)] for c in _CLAUSE.split(text)]
        clauses = [c for c in clauses if c]
        if not clauses:
            return False
        return alone([bits for c in clauses for bits in c]) or any(asks(c) for c in clauses)

    # --- reading words ---------------------------------------------------------------------------------

    def _clause(self, text: str) -> list[tuple[str, int]]:
        read = [self._word(w) for w in fold(text).split()]
        if self._phrases:
            read = self._join_phrases(read)
        return read

    def _join_phrases(self, read: list[tuple[str, int]]) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        i = 0
        starts = self._phrase_starts
        while i < len(read):
            if read[i][0] not in starts:  # most words start no phrase: no tuples built for them
                out.append(read[i])
                i += 1
                continue
            for size in range(min(self._longest, len(read) - i), 1, -1):
                joined = self._phrases.get(tuple(w for w, _ in read[i : i + size]))
                if joined is not None:
                    out.append((joined, self._lexicon[joined]))
                    i += size
                    break
            else:
                out.append(read[i])
                i += 1
        return out

    def _read_word(self, word: str) -> tuple[str, int]:
        """The word (repaired when it is a typo of a cue) and its class bits."""
        bits = self._bits(word)
        if bits or word in self._known:
            return word, bits
        if light(word) in self._domain_stems:
            return word, DOMAIN
        fixed = self._repair(word)
        return fixed, self._bits(fixed)

    def _bits(self, word: str) -> int:
        bits = self._lexicon.get(word)
        if bits is not None:
            return bits
        for clitic in self._clitics:  # passami, chiamatemi, aprirmi, dammi: a verb and "me"
            base = word[: -len(clitic)]
            if len(base) < 3 or not word.endswith(clitic):
                continue
            # "dammi" is "da" + "mmi"; "farmi" is "fare" + "mi"
            for candidate in (base, base[:-1] if base.endswith(clitic[0]) else base, base + "e"):
                verb = self._lexicon.get(candidate, 0) & (VERBS | INFLECTED)
                if verb & VERBS:
                    return verb | CLITIC
        return 0

    def _repair(self, word: str) -> str:
        """The cue one edit away from `word` (a swap of two letters counts as one), else `word`. Four-letter words
        are repaired only by a swap or a lost letter ("tlak", "humn"; "that" stays, it is no "chat"); a cue plus
        another ending is another word ("personal", "supporter"), no typo."""
        if len(word) < _MIN_REPAIR or word.isdigit():
            return word
        for size in (len(word), len(word) - 1, len(word) + 1):
            pool = self._pool_by_length.get(size)
            best = pool and process.extractOne(word, pool, scorer=DamerauLevenshtein.distance, score_cutoff=1)
            if not best:
                continue
            cue = str(best[0])
            if len(word) == _MIN_REPAIR and not (sorted(cue) == sorted(word) or len(cue) > len(word)):
                continue
            if word.startswith(cue) and word[-1] != cue[-1]:
                continue
            return cue
        return word


def recognizer_for(kb: KnowledgeBase, path: Path = DATA) -> HandoffRecognizer:
    """The hand-over recogniser for `kb`: the cues of `path`, the entries' words as the domain."""
    texts = []
    for entry in kb.entries:
        for lang in LANGS:
            c = entry.content(lang)
            texts += [c.title, c.lead, c.check, c.note or "", *c.phrasings, *c.keywords, *(s.text for s in c.steps)]
    stopwords = [w for words in kb.lexicon.stopwords.values() for w in words]
    return HandoffRecognizer(load_cues(path), texts, stopwords)
