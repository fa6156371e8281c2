"""The matcher's index: each entry's terms weighted by where it uses them (its questions, its answer, its other
language), IDF, the postings, each phrasing as a unit, the fingerprints, small talk and scope. Built once from the
knowledge base (`index_kb`) or from any documents (`build_index`: the benchmark's synthetic ones, cross-validation's
leave-one-out); read by `knowledge.matcher`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from knowledge.crm import matching_words
from knowledge.loader import KnowledgeBase
from knowledge.models import LANGS, Lang, Lexicon
from knowledge.text import Lexer, fold, stem

#: weight of a term by where the entry uses it
QUESTION_WEIGHT = 1.0
ANSWER_WEIGHT = 0.6
#: share of that weight when the entry uses the term only in the other language than the question's
FOREIGN_WEIGHT = 0.5

#: a term is informative when at most this share of the entries use it (see `knowledge.matcher.ANSWER_TERMS`)
INFORMATIVE_SHARE = 0.7


@dataclass(frozen=True)
class Doc:
    """What the index needs of one entry: its texts by weight, per language, and its fingerprints."""

    id: str
    question_texts: dict[Lang, tuple[str, ...]]
    answer_texts: dict[Lang, tuple[str, ...]]
    phrasings: dict[Lang, tuple[str, ...]]
    fingerprints: tuple[str, ...] = ()
    generic_fingerprints: tuple[str, ...] = ()  # consulted only when no entry's own fingerprint matches


@dataclass
class Index:
    """An inverted index over entries; build once with `build_index`, share between turns."""

    lexer: Lexer
    ids: list[str]
    postings: dict[str, dict[int, float]]  # term → entry → weight
    idf: dict[str, float]
    fingerprints: list[tuple[re.Pattern[str], int]]
    smalltalk: dict[str, str]
    fingerprint_any: re.Pattern[str] | None = None  # every fingerprint in one alternation: most texts hit none
    generic_fingerprints: list[tuple[re.Pattern[str], int]] = field(default_factory=list)
    smalltalk_re: re.Pattern[str] | None = None
    courtesy: frozenset[str] = frozenset()  # the words of the small-talk forms ("hi", "good", "morning", "grazie")
    anchors: frozenset[str] = frozenset()
    out_of_scope_re: re.Pattern[str] | None = None  # any out-of-scope product or topic, on folded text
    in_scope: frozenset[str] = frozenset()  # content words that keep a question in scope anyway
    unit_postings: dict[str, dict[int, list[int]]] = field(default_factory=dict)  # term → entry → phrasings
    unit_entry: list[int] = field(default_factory=list)
    unit_mass: list[float] = field(default_factory=list)
    max_idf: float = field(default=0.0)
    informative: float = field(default=0.0)  # the IDF from which a term counts as informative
    #: per language of the question: term → the entries that use it only in their other language's text ("verifica"
    #: of "si verifica l'errore" is no English "verification"), which count for FOREIGN_WEIGHT of it
    foreign: dict[Lang, dict[str, frozenset[int]]] = field(default_factory=dict)

    def terms(
        self, text: str, lang: Lang, unknown: float = 0.8, *, words: list[str] | None = None
    ) -> list[tuple[str | None, float]]:
        """Query terms with their weights, each known term once ("app" and "apps" are one); unknown words come
        back as (None, weight). `words`: `lexer.content(text)` when already read."""
        out: list[tuple[str | None, float]] = []
        seen: set[str] = set()
        other: Lang = "it" if lang == "en" else "en"
        for word in self.lexer.content(text) if words is None else words:
            term = next((s for s in (stem(word, lang), stem(word, other)) if s in self.idf), None)
            if term is None:
                # numbers and short tokens carry little meaning on their own
                weight = unknown * self.max_idf * (0.4 if word.isdigit() or len(word) <= 3 else 1.0)
                out.append((None, weight))
            elif term not in seen:
                seen.add(term)
                out.append((term, self.idf[term]))
        return out


class _Content:
    """`Lexer.content` remembered per text while an index is built: each phrasing is read as a question text and
    again as a unit, and both languages' terms come from the same words (a third fewer readings, ~10% of `index_kb`)."""

    def __init__(self, lexer: Lexer) -> None:
        self._lexer = lexer
        self._seen: dict[str, list[str]] = {}

    def __call__(self, text: str) -> list[str]:
        if (words := self._seen.get(text)) is None:
            words = self._seen[text] = self._lexer.content(text)
        return words


def _doc_terms(content: _Content, texts: Iterable[str], lang: Lang) -> set[str]:
    return {stem(w, lang) for t in texts for w in content(t)}


def _entry_weights(content: _Content, d: Doc) -> dict[Lang, dict[str, float]]:
    """Per language, the entry's terms with the weight of where it uses them (its questions, else its answer)."""
    by_lang: dict[Lang, dict[str, float]] = {}
    for lang in LANGS:
        w = by_lang[lang] = dict.fromkeys(_doc_terms(content, d.answer_texts[lang], lang), ANSWER_WEIGHT)
        w.update(dict.fromkeys(_doc_terms(content, d.question_texts[lang], lang), QUESTION_WEIGHT))
    return by_lang


def _add_units(index: Index, docs: Sequence[Doc], content: _Content) -> None:
    """Index each phrasing on its own, so a query close to one phrasing scores above a scattered match."""
    for i, d in enumerate(docs):
        for lang in LANGS:
            for text in d.phrasings[lang]:
                terms = _doc_terms(content, (text,), lang)
                if not terms:
                    continue
                unit = len(index.unit_entry)
                index.unit_entry.append(i)
                index.unit_mass.append(sum(index.idf[t] for t in terms))
                for t in terms:
                    index.unit_postings.setdefault(t, {}).setdefault(i, []).append(unit)


def _fingerprint_re(pattern: str) -> re.Pattern[str]:
    """Fingerprints see case-folded text (`fingerprint_text`), so a pattern without capitals needs no IGNORECASE,
    which makes Python's regex engine 2-3 times slower; any capital (a literal, or an escape such as \\S or \\B)
    keeps it, since lowering those would change the pattern's meaning."""
    return re.compile(pattern) if pattern == pattern.lower() else re.compile(pattern, re.IGNORECASE)


def build_index(docs: Sequence[Doc], lexicon: Lexicon) -> Index:
    """Build the index for `docs` (entries) with `lexicon`."""
    vocabulary = [t for d in docs for lang in LANGS for t in (*d.question_texts[lang], *d.answer_texts[lang])]
    lexer = Lexer(lexicon, vocabulary)
    content = _Content(lexer)
    by_lang = [_entry_weights(content, d) for d in docs]
    postings: dict[str, dict[int, float]] = {}
    foreign: dict[Lang, dict[str, set[int]]] = {lang: {} for lang in LANGS}
    for i, w in enumerate(by_lang):
        for lang in LANGS:
            other = w["it" if lang == "en" else "en"]
            for term, weight in w[lang].items():
                postings.setdefault(term, {})[i] = max(postings.get(term, {}).get(i, 0.0), weight)
            for term in other.keys() - w[lang].keys():
                foreign[lang].setdefault(term, set()).add(i)
    n = len(docs)
    idf = {t: math.log((n + 1) / (len(p) + 0.5)) for t, p in postings.items()}
    index = Index(
        lexer=lexer,
        ids=[d.id for d in docs],
        postings=postings,
        idf=idf,
        foreign={lang: {t: frozenset(e) for t, e in by_term.items()} for lang, by_term in foreign.items()},
        fingerprints=[(_fingerprint_re(p), i) for i, d in enumerate(docs) for p in d.fingerprints],
        generic_fingerprints=[(_fingerprint_re(p), i) for i, d in enumerate(docs) for p in d.generic_fingerprints],
        smalltalk={
            fold(form): kind
            for kind, by_lang in lexicon.smalltalk.items()
            for forms in by_lang.values()
            for form in forms
        },
        max_idf=math.log((n + 1) / 1.5),
        informative=math.log((n + 1) / (INFORMATIVE_SHARE * n + 0.5)),
    )
    if every := index.fingerprints + index.generic_fingerprints:
        index.fingerprint_any = _fingerprint_re("|".join(f"(?:{p.pattern})" for p, _ in every))
    index.anchors = frozenset(
        stem(w, lang) for a in lexicon.anchors for w in content(a) for lang in LANGS if stem(w, lang) in idf
    )
    if lexicon.out_of_scope:
        forms = sorted({fold(f) for f in lexicon.out_of_scope}, key=len, reverse=True)
        index.out_of_scope_re = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b")
    index.in_scope = frozenset(w for phrase in lexicon.in_scope for w in content(phrase))
    if index.smalltalk:
        index.courtesy = frozenset(w for form in index.smalltalk for w in form.split())
        forms = sorted(index.smalltalk, key=len, reverse=True)
        index.smalltalk_re = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b")
    _add_units(index, docs, content)
    return index


def kb_docs(kb: KnowledgeBase) -> list[Doc]:
    """The index's view of each entry of `kb`."""
    docs = []
    for e in kb.entries:
        q: dict[Lang, tuple[str, ...]] = {}
        a: dict[Lang, tuple[str, ...]] = {}
        for lang in LANGS:
            c = e.content(lang)
            q[lang] = (c.title, *c.phrasings, *c.keywords)
            steps = tuple(s.text for s in c.steps) + tuple(x for s in c.steps for x in s.substeps)
            a[lang] = tuple(matching_words(t) for t in (c.lead, *steps, c.note or "", c.check))
        p = {lang: (e.content(lang).title, *e.content(lang).phrasings) for lang in LANGS}
        docs.append(
            Doc(id=e.id, question_texts=q, answer_texts=a, phrasings=p, fingerprints=e.fingerprints,
                generic_fingerprints=e.generic_fingerprints)
        )  # fmt: skip
    return docs


def index_kb(kb: KnowledgeBase) -> Index:
    """Index a loaded knowledge base."""
    return build_index(kb_docs(kb), kb.lexicon)
