"""Text normalisation shared by the index and the matcher: language guess, synonyms, stems, typo repair.

Pure and deterministic; per-word work (stemming, fuzzy repair) is memoised in bounded caches because
users repeat the same vocabulary and snowball stemming costs ~45 µs a word in pure Python.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from knowledge.models import LANGS, Lang, Lexicon

_GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'", "`": "'"})
_NOT = re.compile(r"\b(is|are|was|were|do|does|did|has|have|had|could|would|should|must)n't\b")
_CANT = {"can't": "can not", "won't": "will not", "cannot": "can not"}
_CANT_RE = re.compile(r"\b(?:can't|won't|cannot)\b")
_NON_WORD = re.compile(r"[^a-z0-9_]+")
#: a pasted identifier's words, before folding: "REQUEST_LIMIT_EXCEEDED", "ConnectionAuthorizationFailed" (three
#: capitalised words or more: "AppSource" and "SaaS" stay whole)
_SNAKE = re.compile(r"_+")
_CAMEL = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+){2,}\b")
_HUMP = re.compile(r"(?<=[a-z])(?=[A-Z])")
_IT_HINTS = re.compile(r"[àèéìòù]|zion[ei]\b|\b(?:il|gli|della|delle|nel|sono|perch[eé]|cosa|devo|non)\b")

_MIN_STEM = 5  # shorter stems are shared by unrelated words
LANGUAGE_CHARS = 2_000  # the language of a long paste is guessed from its beginning

CANON = "_"  # prefix of canonical synonym tokens; they bypass stopwords and stemming


def fingerprint_text(text: str) -> str:
    """Lower-case, straight quotes, GUIDs → `<guid>`, collapsed spaces: what error fingerprints see."""
    text = text.translate(_QUOTES).casefold()
    text = _GUID.sub("<guid>", text)
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation: plain words separated by single spaces."""
    text = _GUID.sub(" ", text.translate(_QUOTES).casefold())
    text = _NOT.sub(
        r"\1 not", _CANT_RE.sub(lambda m: _CANT[m.group(0)], text)
    )  # "isn't" → "is not", so "not allowed" stays a phrase
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=1)
def _stemmers() -> dict[Lang, Any]:
    return {"en": snowballstemmer.stemmer("english"), "it": snowballstemmer.stemmer("italian")}


@lru_cache(maxsize=65536)
def stem(word: str, lang: Lang) -> str:
    """Snowball stem of `word` in `lang`; canonical tokens and numbers are kept as they are."""
    if word.startswith(CANON) or word.isdigit():
        return word
    return str(_stemmers()[lang].stemWord(word))


def light(word: str) -> str:
    """A light, language-neutral stem for synonym lookup: plural and gender endings off
    ("permessi"/"permesso" → "permess", "opportunities" → "opportunity", "errori"/"errors" → "error")."""
    if len(word) <= 4 or word.isdigit():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if word[-1] in "aeio" and len(word) > 4:
        word = word[:-1]
    return word


def _stem_forms(lexicon: Lexicon) -> dict[str, str]:
    """Snowball stem → canonical token, for the one-word synonym forms whose stem is long enough and belongs to
    one group only: inflections the lexicon does not list ("attivando", "recreating") reach their group."""
    by_stem: dict[str, set[str]] = {}
    for group in lexicon.synonyms:
        canon = CANON + fold(group[0]).replace(" ", "_")
        for form in group:
            if len(words := fold(form).split()) == 1:
                for lang in LANGS:
                    if len(root := stem(words[0], lang)) >= _MIN_STEM:
                        by_stem.setdefault(root, set()).add(canon)
    return {root: next(iter(canons)) for root, canons in by_stem.items() if len(canons) == 1}


def _identifier_words(text: str) -> str:
    """`text` with snake_case and CamelCase identifiers cut into their words."""
    if "_" in text:
        text = _SNAKE.sub(" ", text)
    return _CAMEL.sub(lambda m: _HUMP.sub(" ", m.group(0)), text)


#: object pronouns that may stand inside a phrasal verb ("turn them on")
_PHRASAL_GAP = frozenset({"it", "them", "this", "that", "these", "those", "everything", "all", "back"})


def _phrase_span(stems: list[str], i: int, key: tuple[str, ...]) -> int | None:
    """How many words the phrase `key` covers from `i` (one gap word allowed after the first), or None."""
    n = len(key)
    if tuple(stems[i : i + n]) == key:
        return n
    if n == 2 and i + 2 < len(stems) and stems[i + 1] in _PHRASAL_GAP and stems[i + 2] == key[1]:
        return 3
    return None


def _budget(length: int) -> int:
    """Edits a typo repair may undo in a word of `length` letters."""
    return 1 if length < 9 else 2


class Lexer:
    """Turns text into content terms: typo repair, synonym canonicalisation, stopword removal.

    Args:
        lexicon: stopwords and synonym groups.
        vocabulary: every word the knowledge base uses (surface forms), the target of typo repair.
    """

    def __init__(self, lexicon: Lexicon, vocabulary: Iterable[str]) -> None:
        self._stop: dict[Lang, frozenset[str]] = {
            lang: frozenset(fold(w) for w in words) for lang, words in lexicon.stopwords.items()
        }
        self.stopwords = self._stop["en"] | self._stop["it"]
        # words only one language uses in small talk ("grazie", "buongiorno") also tell the language apart
        talk = {
            lang: {w for by in lexicon.smalltalk.values() for f in by.get(lang, ()) for w in fold(f).split()}
            for lang in ("en", "it")
        }
        self._marks: dict[Lang, frozenset[str]] = {
            "en": frozenset((self._stop["en"] | talk["en"]) - self._stop["it"] - talk["it"]),
            "it": frozenset((self._stop["it"] | talk["it"]) - self._stop["en"] - talk["en"]),
        }
        # synonym forms are matched on light stems, so "permessi negati" finds "permesso negato"
        self._forms: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        surface: set[str] = set()
        for group in lexicon.synonyms:
            canon = CANON + fold(group[0]).replace(" ", "_")
            for form in group:
                words = fold(form).split()
                surface.update(words)
                key = tuple(light(w) for w in words)
                self._forms.setdefault(key[0], []).append((key, canon))
        for forms in self._forms.values():
            forms.sort(key=lambda f: -len(f[0]))
        self._stem_forms = _stem_forms(lexicon)
        freq: dict[str, int] = {}
        for text in vocabulary:
            for w in fold(text).split():
                freq[w] = freq.get(w, 0) + 1
        self._freq = freq  # ties between equally close repairs go to the word the knowledge base uses most
        self.known = frozenset(freq) | surface | self.stopwords
        # repair candidates bucketed by (first letter, length): typos rarely hit the first letter, and the
        # buckets keep repair cheap on a large knowledge base
        buckets: dict[tuple[str, int], list[str]] = {}
        for w in self.known:
            # never "repair" into a stopword, unless it belongs to a synonym phrase ("nesun errore" → "no errors")
            if len(w) >= 4 and not w.isdigit() and (w not in self.stopwords or w in surface):
                buckets.setdefault((w[0], len(w)), []).append(w)
        # a word of length n is repaired against the words of length n - budget … n + budget (one edit changes the
        # length by at most one): those buckets joined per (first letter, n), one rapidfuzz call per word
        self._windows: dict[tuple[str, int], list[str]] = {}
        for first, length in {(first, length + d) for first, length in buckets for d in (-2, -1, 0, 1, 2)}:
            budget = _budget(length)
            self._windows[(first, length)] = [
                w for m in range(length - budget, length + budget + 1) for w in sorted(buckets.get((first, m), ()))
            ]
        self._repair = lru_cache(maxsize=65536)(self._repair_uncached)
        self._last_votes: tuple[str, int, int] = ("", 0, 0)

    def __getstate__(self) -> dict[str, object]:
        """Pickled (`knowledge.snapshot`) without its caches: they are rebuilt empty."""
        state = self.__dict__.copy()
        del state["_repair"], state["_last_votes"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._repair = lru_cache(maxsize=65536)(self._repair_uncached)
        self._last_votes = ("", 0, 0)

    def _repair_uncached(self, word: str) -> str:
        """For a `word` the knowledge base never uses: the canonical token of a synonym group it inflects
        ("attivando" → the group of "attivare"), else the known word one edit away (two for long words, same
        first letter), else `word`.

        Real words the knowledge base never uses ("imparare", "record") are usually two or more edits from
        any known word, while typos ("conettore", "subscripton") are one; so a tight edit budget repairs
        typos without dragging ordinary words onto domain terms. Inflections come first: "attivando" is
        also one edit from "attivano", a word that is no synonym.
        """
        n = len(word)
        if n < 5 or word.isdigit():
            return word
        for lang in LANGS:
            if canon := self._stem_forms.get(stem(word, lang)):
                return canon
        budget = _budget(n)
        # Levenshtein counts a transposition as two edits, so it never exceeds twice the Damerau-Levenshtein
        # distance: its bit-parallel scan (3x faster) picks the few candidates worth the exact distance
        near = process.extract(
            word,
            self._windows.get((word[0], n), ()),
            scorer=Levenshtein.distance,
            score_cutoff=2 * budget,
            limit=None,
        )
        hits = [
            (dist, -self._freq.get(cand, 0), cand)
            for cand, _, _ in near
            if (dist := DamerauLevenshtein.distance(word, cand, score_cutoff=budget)) <= budget
        ]
        return min(hits)[2] if hits else word

    def words(self, text: str) -> list[str]:
        """Folded words, each unknown one repaired: to the canonical token of the synonym group it inflects, or
        towards the knowledge base's vocabulary (typos). Identifiers are read as their words."""
        return [w if w in self.known else self._repair(w) for w in fold(_identifier_words(text)).split()]

    def canonical(self, words: list[str]) -> list[str]:
        """Words with synonym phrases (longest first) replaced by their canonical token; an object pronoun may
        split a phrasal verb ("turn them on", "switch it off")."""
        stems = [light(w) for w in words]
        out: list[str] = []
        i = 0
        while i < len(words):
            for key, canon in self._forms.get(stems[i], ()):
                if (span := _phrase_span(stems, i, key)) is not None:
                    out.append(canon)
                    i += span
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def content(self, text: str) -> list[str]:
        """Content words of `text`: repaired, canonicalised, without stopwords, in order, de-duplicated."""
        seen: dict[str, None] = {}
        for w in self.canonical(self.words(text)):
            if w.startswith(CANON) or (w not in self.stopwords and (len(w) > 1 or w.isdigit())):
                seen.setdefault(w, None)
        return list(seen)

    def language(self, text: str, hint: Lang | None = None) -> Lang:
        """Guess English or Italian from function words and spelling; `hint` (the locale) breaks ties."""
        it, en = self._language_votes(text)
        if it > en:
            return "it"
        if en > it:
            return "en"
        return hint or "en"

    def _language_votes(self, text: str) -> tuple[int, int]:
        """Italian and English evidence in `text`. A turn asks twice of the same text (the reply language, then
        the matcher's), so the last answer is kept."""
        last, it, en = self._last_votes
        if text == last:
            return it, en
        sample = text[:LANGUAGE_CHARS]
        words = fold(sample).split()
        it = sum(1 for w in words if w in self._marks["it"])
        en = sum(1 for w in words if w in self._marks["en"])
        it += 2 * len(_IT_HINTS.findall(sample.casefold()))
        self._last_votes = (text, it, en)
        return it, en
