"""Match user text to a knowledge entry: error fingerprints first, then weighted fuzzy term matching.

The score of an entry is how much of the question's informative content the entry explains
(IDF-weighted coverage), damped when the shared evidence is thin, so that one shared generic word
("flow", "Salesforce") never yields a confident answer. Typos are repaired with rapidfuzz against the
knowledge base's own vocabulary before matching. Pure: no I/O, deterministic, thresholds passed in.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from knowledge.loader import KnowledgeBase
from knowledge.models import LANGS, Lang, Lexicon, Match
from knowledge.text import CANON, Lexer, fingerprint_text, fold, stem

#: weight of a term by where the entry uses it
QUESTION_WEIGHT = 1.0
ANSWER_WEIGHT = 0.6


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the 0–1 confidence scale (from settings)."""

    answer_at: float = 0.36
    suggest_at: float = 0.25
    margin: float = 0.05
    evidence: float = 3.0  # IDF mass a match needs before its coverage counts in full
    phrasing_weight: float = 0.8  # share of the closest single phrasing (vs the whole entry) in the score
    unknown: float = 0.6  # weight of a word the knowledge base never uses, relative to the rarest known term


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
class _Scored:
    entry: str
    confidence: float


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
    anchors: frozenset[str] = frozenset()
    out_of_scope_re: re.Pattern[str] | None = None  # any out-of-scope product or topic, on folded text
    in_scope: frozenset[str] = frozenset()  # content words that keep a question in scope anyway
    unit_postings: dict[str, dict[int, list[int]]] = field(default_factory=dict)  # term → entry → phrasings
    unit_entry: list[int] = field(default_factory=list)
    unit_mass: list[float] = field(default_factory=list)
    max_idf: float = field(default=0.0)

    def terms(self, text: str, lang: Lang, unknown: float = 0.8) -> list[tuple[str | None, float]]:
        """Query terms with their weights, each known term once ("app" and "apps" are one); unknown words come
        back as (None, weight)."""
        out: list[tuple[str | None, float]] = []
        seen: set[str] = set()
        other: Lang = "it" if lang == "en" else "en"
        for word in self.lexer.content(text):
            term = next((s for s in (stem(word, lang), stem(word, other)) if s in self.idf), None)
            if term is None:
                # numbers and short tokens carry little meaning on their own
                weight = unknown * self.max_idf * (0.4 if word.isdigit() or len(word) <= 3 else 1.0)
                out.append((None, weight))
            elif term not in seen:
                seen.add(term)
                out.append((term, self.idf[term]))
        return out


def _doc_terms(lexer: Lexer, texts: Iterable[str], lang: Lang) -> set[str]:
    return {stem(w, lang) for t in texts for w in lexer.content(t)}


def _entry_weights(lexer: Lexer, d: Doc) -> dict[str, float]:
    w: dict[str, float] = {}
    for lang in LANGS:
        for term in _doc_terms(lexer, d.answer_texts[lang], lang):
            w[term] = max(w.get(term, 0.0), ANSWER_WEIGHT)
        for term in _doc_terms(lexer, d.question_texts[lang], lang):
            w[term] = QUESTION_WEIGHT
    return w


def _add_units(index: Index, docs: Sequence[Doc]) -> None:
    """Index each phrasing on its own, so a query close to one phrasing scores above a scattered match."""
    for i, d in enumerate(docs):
        for lang in LANGS:
            for text in d.phrasings[lang]:
                terms = _doc_terms(index.lexer, (text,), lang)
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
    weights = [_entry_weights(lexer, d) for d in docs]
    df: dict[str, int] = {}
    for w in weights:
        for term in w:
            df[term] = df.get(term, 0) + 1
    n = len(docs)
    idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
    postings: dict[str, dict[int, float]] = {}
    for i, w in enumerate(weights):
        for term, weight in w.items():
            postings.setdefault(term, {})[i] = weight
    index = Index(
        lexer=lexer,
        ids=[d.id for d in docs],
        postings=postings,
        idf=idf,
        fingerprints=[(_fingerprint_re(p), i) for i, d in enumerate(docs) for p in d.fingerprints],
        generic_fingerprints=[(_fingerprint_re(p), i) for i, d in enumerate(docs) for p in d.generic_fingerprints],
        smalltalk={
            fold(form): kind
            for kind, by_lang in lexicon.smalltalk.items()
            for forms in by_lang.values()
            for form in forms
        },
        max_idf=math.log((n + 1) / 1.5),
    )
    if every := index.fingerprints + index.generic_fingerprints:
        index.fingerprint_any = _fingerprint_re("|".join(f"(?:{p.pattern})" for p, _ in every))
    index.anchors = frozenset(
        stem(w, lang) for a in lexicon.anchors for w in lexer.content(a) for lang in LANGS if stem(w, lang) in idf
    )
    if lexicon.out_of_scope:
        forms = sorted({fold(f) for f in lexicon.out_of_scope}, key=len, reverse=True)
        index.out_of_scope_re = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b")
    index.in_scope = frozenset(w for phrase in lexicon.in_scope for w in lexer.content(phrase))
    if index.smalltalk:
        forms = sorted(index.smalltalk, key=len, reverse=True)
        index.smalltalk_re = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b")
    _add_units(index, docs)
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
            a[lang] = (c.lead, *steps, c.note or "")
        p = {lang: (e.content(lang).title, *e.content(lang).phrasings) for lang in LANGS}
        docs.append(
            Doc(id=e.id, question_texts=q, answer_texts=a, phrasings=p, fingerprints=e.fingerprints,
                generic_fingerprints=e.generic_fingerprints)
        )  # fmt: skip
    return docs


def index_kb(kb: KnowledgeBase) -> Index:
    """Index a loaded knowledge base."""
    return build_index(kb_docs(kb), kb.lexicon)


def _smalltalk(index: Index, text: str) -> str | None:
    folded = fold(text)
    if folded in index.smalltalk:
        return index.smalltalk[folded]
    if index.smalltalk_re is None or len(folded) > 60:  # small talk is short
        return None
    # "ciao, grazie mille!": only small-talk phrases and stopwords
    found = [index.smalltalk[m.group(0)] for m in index.smalltalk_re.finditer(folded)]
    rest = index.smalltalk_re.sub(" ", folded).split()
    if found and all(w in index.lexer.stopwords for w in rest):
        return found[0]
    return None


def _out_of_scope(index: Index, text: str) -> bool:
    """True when `text` names a product or topic this assistant does not cover and nothing of its own subject
    ("how do I connect power bi to dataverse"; not "the co-sell connector emails never reach outlook")."""
    if index.out_of_scope_re is None or not index.out_of_scope_re.search(fold(text)):
        return False
    return not any(w in index.in_scope for w in index.lexer.content(text))


def _fingerprint(index: Index, text: str) -> str | None:
    fp = fingerprint_text(text)
    if index.fingerprint_any is None or not index.fingerprint_any.search(fp):
        return None  # one search instead of one per fingerprint; a hit is then ranked below
    return _longest(index, index.fingerprints, fp) or _longest(index, index.generic_fingerprints, fp)


def _longest(index: Index, fingerprints: list[tuple[re.Pattern[str], int]], fp: str) -> str | None:
    """The entry of the fingerprint with the longest match in `fp`, if any matches."""
    best: tuple[int, int] | None = None
    for pattern, i in fingerprints:
        m = pattern.search(fp)
        if m and (best is None or len(m.group(0)) > best[0]):
            best = (len(m.group(0)), i)
    return index.ids[best[1]] if best else None


#: a question is matched on its first this many characters; past that it is a pasted log, whose error text the
#: fingerprints look for in the first FINGERPRINT_CHARS (a 256 KB message of random words would otherwise cost
#: a third of a second of typo repair)
FUZZY_CHARS = 2_000
FINGERPRINT_CHARS = 32_768
#: once this many entries are candidates, commoner terms only add to them, and only the best this many by
#: entry mass are compared phrasing by phrasing (a large knowledge base's generic words would otherwise
#: touch most entries on every query); a 19-entry knowledge base is scored exactly
CANDIDATES = 64
#: a term shared by at most this many entries is specific enough to anchor a question on its own
DISTINCTIVE = 2


def _entry_mass(index: Index, terms: list[tuple[str, float]]) -> tuple[dict[int, float], dict[int, float]]:
    """Per entry, the weighted shared mass and the query weight it covers, rarest terms first."""
    acc: dict[int, float] = {}
    cover: dict[int, float] = {}
    for term, qw in sorted(terms, key=lambda t: len(index.postings[t[0]])):
        posting = index.postings[term]
        if len(acc) < CANDIDATES:
            for i, w in posting.items():
                acc[i] = acc.get(i, 0.0) + qw * w
                cover[i] = cover.get(i, 0.0) + qw
        else:
            for i in acc.keys() & posting.keys():
                acc[i] += qw * posting[i]
                cover[i] += qw
    return acc, cover


def _closest_one(index: Index, terms: list[tuple[str, float]], i: int, total: float) -> float:
    """The Dice similarity of entry `i`'s closest single phrasing to the query (0 when none shares a term)."""
    shared: dict[int, float] = {}
    shared_get = shared.get
    for term, qw in terms:
        by_entry = index.unit_postings.get(term)
        if by_entry and (units := by_entry.get(i)):
            for u in units:
                shared[u] = shared_get(u, 0.0) + qw
    unit_mass = index.unit_mass
    return max((2 * mass / (total + unit_mass[u]) for u, mass in shared.items()), default=0.0)


def score(index: Index, text: str, lang: Lang, th: Thresholds, *, top: int = 5) -> list[_Scored]:
    """The `top` entries sharing terms with `text`, best first, with their confidence.

    An entry's confidence mixes its shared mass with the Dice similarity of its closest phrasing. The phrasing
    part is the costly one, so entries are visited in order of an upper bound on their confidence and the walk
    stops once `top` exact confidences beat every bound left: the result is the one scoring them all gives.
    The bound: a phrasing shares at most the query weight `c` its entry covers, and its own mass is at least what
    it shares, so its Dice is at most 2c / (total + c).
    """
    terms = index.terms(text, lang, th.unknown)
    known = [(t, w) for t, w in terms if t is not None]
    if len(known) < 2 and len(known) < len(terms):
        return []  # one shared word amid words we don't know is not evidence ("reset my Outlook password")
    total = sum(w for _, w in terms)
    if total <= 0 or not any(t in index.anchors or len(index.postings[t]) <= DISTINCTIVE for t, _ in known):
        return []  # nothing places the question in this domain ("reset a user's password in the admin center")
    acc, cover = _entry_mass(index, known)
    if len(acc) > CANDIDATES:
        acc = dict(heapq.nlargest(CANDIDATES, acc.items(), key=lambda kv: kv[1]))
    a = th.phrasing_weight
    share, damping = (1 - a) / total, 1 / th.evidence

    def confidence(mass: float, closest: float) -> float:
        return (mass * share + a * closest) * (mass * damping if mass < th.evidence else 1.0)

    def bound(i: int) -> float:
        return confidence(acc[i], 2 * cover[i] / (total + cover[i]))

    best: list[tuple[float, int]] = []  # min-heap of (confidence, -entry): the `top` best so far
    for ub, i in sorted(((bound(i), i) for i in acc), reverse=True):
        if len(best) == top and best[0][0] > ub + 1e-9:
            break  # no entry left can reach the ones held
        item = (confidence(acc[i], _closest_one(index, known, i, total)), -i)
        if len(best) < top:
            heapq.heappush(best, item)
        elif item > best[0]:
            heapq.heapreplace(best, item)
    return [_Scored(index.ids[-neg], conf) for conf, neg in sorted(best, reverse=True)]


def match(index: Index, text: str, th: Thresholds, *, locale_hint: Lang | None = None) -> Match:
    """Decide what `text` asks: an entry, a clarifying choice, small talk, or nothing we know."""
    pasted, text = text[:FINGERPRINT_CHARS], text[:FUZZY_CHARS]
    lang = index.lexer.language(text, locale_hint)
    if _out_of_scope(index, text):
        return Match(kind="none", lang=lang, via="out_of_scope")
    if entry := _fingerprint(index, pasted):
        return Match(kind="answer", lang=lang, entry=entry, confidence=1.0, via="fingerprint")
    if kind := _smalltalk(index, text):
        return Match(kind="smalltalk", lang=lang, smalltalk=kind, via="smalltalk")
    ranked = score(index, text, lang, th, top=3)  # the best, and the two that may be close to it
    if not ranked or ranked[0].confidence < th.suggest_at:
        top = ranked[0].confidence if ranked else 0.0
        return Match(kind="none", lang=lang, confidence=round(top, 3))
    best = ranked[0]
    close = [s for s in ranked[1:3] if s.confidence >= th.suggest_at and best.confidence - s.confidence < th.margin]
    if best.confidence >= th.answer_at and not close:
        return Match(kind="answer", lang=lang, entry=best.entry, confidence=round(best.confidence, 3), via="fuzzy")
    alternatives = (best.entry, *(s.entry for s in close))
    if len(alternatives) == 1 and len(ranked) > 1 and ranked[1].confidence >= th.suggest_at:
        alternatives = (best.entry, ranked[1].entry)
    return Match(
        kind="clarify",
        lang=lang,
        alternatives=alternatives,
        confidence=round(best.confidence, 3),
        via="fuzzy",
    )


__all__ = ["CANON", "Doc", "Index", "Thresholds", "build_index", "index_kb", "kb_docs", "match", "score"]
