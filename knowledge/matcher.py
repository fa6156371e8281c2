"""Match user text to a knowledge entry: error fingerprints first, then weighted fuzzy term matching.

The score of an entry is how much of the question's informative content the entry explains
(IDF-weighted coverage over its questions, answer, steps and check; a word it uses only in its other language
counts half), damped when the shared evidence is thin, so that one shared generic word ("flow", "Salesforce")
never yields a confident answer. Typos are repaired with rapidfuzz against the knowledge base's own vocabulary
before matching. Pure: no I/O, deterministic, thresholds passed in.

The decision: an answer needs the confidence, a lead over the next entry on short questions (on longer ones the
closer entry answers) and two informative shared terms; below that a choice of the close entries, or for a
short vague question of known words the few entries it could mean. The constants were fitted on the
leave-one-phrasing-out objective (`cosell-bot eval --loo`) with the own evaluation set for abstention; the
shared dev set was only checked, never fitted.

With a learned model (`knowledge.learned`, trained by `cosell-bot train`) that verdict is revised: a sure hand-built
answer stands, otherwise confidence plus the model's probability decides (`_revise`).
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass

from knowledge.index import (
    FOREIGN_WEIGHT,
    QUESTION_WEIGHT,
    Doc,
    Index,
    build_index,
    index_kb,
    kb_docs,
)
from knowledge.learned import NONE, Model, features
from knowledge.models import Lang, Match
from knowledge.text import CANON, fingerprint_text, fold


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the 0–1 confidence scale (from settings)."""

    answer_at: float = 0.36
    suggest_at: float = 0.25
    margin: float = 0.05
    evidence: float = 3.0  # IDF mass a match needs before its coverage counts in full
    phrasing_weight: float = 0.8  # share of the closest single phrasing (vs the whole entry) in the score
    unknown: float = 0.6  # weight of a word the knowledge base never uses, relative to the rarest known term
    short_question: int = 4  # words (known or not) up to which a question close to two entries asks which one
    long_question: int = 10  # words (known or not) from which a message is long: context, a log, then the question
    long_answer_at: float = 0.27  # a long message's confidence needed to answer when it leads the next entry by
    long_lead: float = 0.03  # this much (its context words dilute the confidence an equally clear short one reaches)
    unknown_words: int = 3  # unknown words past this many share their weight: a long message's context dilutes less
    # the learned model (`knowledge.learned`), where one is loaded: an entry's combined score is its confidence plus
    # `learned_weight` times the model's probability for it; an answer needs `learned_answer_at` and a lead of
    # `learned_margin` over the next entry; from `learned_none` of the model's "none" probability, a verdict short
    # of an answer is not promoted; short of that bar, the model alone answers with an entry it gives at least
    # `learned_alone` while giving "none" less than `learned_alone_none` (the right entry is often one the words
    # rank low or not at all: "the checkbox on the opportunity" has no term of its entry); the entries within
    # `learned_close` of the best are the choice offered. From `learned_doubt` of "none" nothing is answered, not
    # even a hand-built answer `_sure` of itself ("How do I set up a private offer in the commercial marketplace?"
    # shares the marketplace-leads entry's terms): a choice at most. Fitted by 5-fold cross-validation on the
    # training sets (`cosell-bot train --cv`); the held-out sets and the shared dev set were only measured.
    learned_weight: float = 1.0
    learned_answer_at: float = 1.1
    learned_margin: float = 0.06
    learned_none: float = 0.2
    learned_close: float = 0.25
    learned_alone: float = 0.7
    learned_alone_none: float = 0.1
    learned_doubt: float = 0.5
    sure_at: float = 0.6  # a hand-built answer this confident and this far ahead of the next entry stands unless
    sure_lead: float = 0.15  # the model doubts it (it leans to "none" on short questions: see `_revise`)


@dataclass
class _Scored:
    entry: str
    confidence: float
    informative: int = 0  # query terms the entry shares that are not common to most entries (`Index.informative`)


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
#: an answer needs at least this many informative terms in common with the question (informative: used by at most
#: `knowledge.index.INFORMATIVE_SHARE` of the entries): one shared word, however rare ("paid", "ready", "contact"),
#: is a guess to offer, not an answer ("when do we get paid for the co-sell incentive" is no question of pricing)
ANSWER_TERMS = 2


def _entry_mass(index: Index, terms: list[tuple[str, float]], lang: Lang) -> tuple[dict[int, float], dict[int, float]]:
    """Per entry, the weighted shared mass and the query weight it covers, rarest terms first."""
    acc: dict[int, float] = {}
    cover: dict[int, float] = {}
    foreign = index.foreign.get(lang, {})
    for term, qw in sorted(terms, key=lambda t: len(index.postings[t[0]])):
        posting = index.postings[term]
        elsewhere = foreign.get(term, ())
        if len(acc) < CANDIDATES:
            for i, w in posting.items():
                acc[i] = acc.get(i, 0.0) + qw * w * (FOREIGN_WEIGHT if i in elsewhere else 1.0)
                cover[i] = cover.get(i, 0.0) + qw
        else:
            for i in acc.keys() & posting.keys():
                acc[i] += qw * posting[i] * (FOREIGN_WEIGHT if i in elsewhere else 1.0)
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


def _in_domain(index: Index, terms: list[tuple[str | None, float]]) -> list[tuple[str, float]]:
    """The known terms of a question, or none when they are no evidence of this domain."""
    known = [(t, w) for t, w in terms if t is not None]
    if len(known) < 2 and len(known) < len(terms):
        return []  # one shared word amid words we don't know is not evidence ("reset my Outlook password")
    if sum(w for _, w in terms) <= 0 or not any(
        t in index.anchors or len(index.postings[t]) <= DISTINCTIVE for t, _ in known
    ):
        return []  # nothing places the question in this domain ("reset a user's password in the admin center")
    return known


def _query_mass(terms: list[tuple[str | None, float]], th: Thresholds) -> float:
    known = sum(w for t, w in terms if t is not None)
    unknown = [w for t, w in terms if t is None]
    return known + sum(unknown) * min(1.0, th.unknown_words / max(len(unknown), 1))


def score(
    index: Index,
    text: str,
    lang: Lang,
    th: Thresholds,
    *,
    top: int = 5,
    terms: list[tuple[str | None, float]] | None = None,
) -> list[_Scored]:
    """The `top` entries sharing terms with `text`, best first, with their confidence.

    An entry's confidence mixes its shared mass with the Dice similarity of its closest phrasing. The phrasing
    part is the costly one, so entries are visited in order of an upper bound on their confidence and the walk
    stops once `top` exact confidences beat every bound left: the result is the one scoring them all gives.
    The bound: a phrasing shares at most the query weight `c` its entry covers, and its own mass is at least what
    it shares, so its Dice is at most 2c / (total + c). `terms`: `index.terms(text, ...)` when already read.
    """
    if terms is None:
        terms = index.terms(text, lang, th.unknown)
    if not (known := _in_domain(index, terms)):
        return []
    total = _query_mass(terms, th)
    acc, cover = _entry_mass(index, known, lang)
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
    informative = [(t, index.postings[t]) for t, w in known if w >= index.informative]
    return [
        _Scored(index.ids[-neg], conf, sum(1 for _, p in informative if -neg in p))
        for conf, neg in sorted(best, reverse=True)
    ]


#: a question of at most this many words, all known, is vague rather than unknown ("sync issue", "ruoli necessari?")
VAGUE_TERMS = 2
#: how many entries a clarifying question offers at most
CHOICES = 3


def _vague(index: Index, terms: list[tuple[str | None, float]]) -> tuple[str, ...]:
    """For a short question made only of words the knowledge base knows, too thin to answer ("what role do I
    need", "problema sincronizzazione"): the entries that use every one of its words, one of them in their own
    questions, when they are a few (the closest phrasing first), to ask which one is meant; else nothing."""
    known = [(t, w) for t, w in terms if t is not None]
    if not known or len(known) > VAGUE_TERMS or len(known) < len(terms):
        return ()
    asked = set.intersection(*(set(index.postings[t]) for t, _ in known))
    asked = {i for i in asked if any(index.postings[t][i] == QUESTION_WEIGHT for t, _ in known)}
    if not 2 <= len(asked) <= 2 * CHOICES:
        return ()
    total = sum(w for _, w in known)
    ranked = sorted(asked, key=lambda i: (-_closest_one(index, known, i, total), i))
    return tuple(index.ids[i] for i in ranked[:CHOICES])


def _confident(best: _Scored, ranked: list[_Scored], words: int, th: Thresholds) -> bool:
    """The best entry is confident enough to answer: above `answer_at`, or for a long message above
    `long_answer_at` and ahead of the next entry by `long_lead`."""
    if best.confidence >= th.answer_at:
        return True
    runner_up = ranked[1].confidence if len(ranked) > 1 else 0.0
    return (
        words >= th.long_question
        and best.confidence >= th.long_answer_at
        and best.confidence - runner_up >= th.long_lead
    )


def match(
    index: Index, text: str, th: Thresholds, *, locale_hint: Lang | None = None, model: Model | None = None
) -> Match:
    """Decide what `text` asks: an entry, a clarifying choice, small talk, or nothing we know. With a learned
    `model` the hand-built scores' verdict is revised by it (`_revise`)."""
    pasted, text = text[:FINGERPRINT_CHARS], text[:FUZZY_CHARS]
    lang = index.lexer.language(text, locale_hint)
    if early := _before_scoring(index, text, pasted, lang):
        return early
    words = index.lexer.content(text)
    terms = index.terms(text, lang, th.unknown, words=words)
    ranked = score(index, text, lang, th, top=5 if model else 3, terms=terms)
    verdict = _decide(index, terms, ranked[:3], lang, th)
    if model is None or not ranked:
        return verdict  # what the words do not place in this domain, the model does not answer either
    p = model.probabilities(features(index.lexer, index.idf, words, lang, index.courtesy))
    if _sure(verdict, ranked, th) and p.get(NONE, 0.0) < th.learned_doubt:
        return verdict
    return _revise(verdict, ranked, p, th)


def reaches_model(index: Index, text: str, th: Thresholds) -> bool:
    """True when `match` would ask the learned model about `text`: no out-of-scope product, pasted error or small
    talk decided it first, and its words place it in this domain. Training keeps to such questions: a greeting
    taught as "none" would otherwise make "Hi, our referrals stopped syncing" look off-topic."""
    pasted, text = text[:FINGERPRINT_CHARS], text[:FUZZY_CHARS]
    lang = index.lexer.language(text)
    if _before_scoring(index, text, pasted, lang):
        return False
    return bool(_in_domain(index, index.terms(text, lang, th.unknown)))


def _before_scoring(index: Index, text: str, pasted: str, lang: Lang) -> Match | None:
    """What `text` is decided as before any score: another product, a pasted error, small talk; else None."""
    if _out_of_scope(index, text):
        return Match(kind="none", lang=lang, via="out_of_scope")
    if entry := _fingerprint(index, pasted):
        return Match(kind="answer", lang=lang, entry=entry, confidence=1.0, via="fingerprint")
    if kind := _smalltalk(index, text):
        return Match(kind="smalltalk", lang=lang, smalltalk=kind, via="smalltalk")
    return None


def _decide(
    index: Index, terms: list[tuple[str | None, float]], ranked: list[_Scored], lang: Lang, th: Thresholds
) -> Match:
    """The hand-built scores' verdict on the best three entries."""
    if not ranked or ranked[0].confidence < th.suggest_at:
        top = ranked[0].confidence if ranked else 0.0
        if vague := _vague(index, terms):
            return Match(kind="clarify", lang=lang, alternatives=vague, confidence=round(top, 3), via="fuzzy")
        return Match(kind="none", lang=lang, confidence=round(top, 3))
    best = ranked[0]
    # a short question that two entries explain about as well is theirs to choose between; a longer one carries
    # the evidence to answer with the closer (fitted by leave-one-phrasing-out and on the own set: see the README)
    margin = th.margin if len(terms) <= th.short_question else 0.0
    close = [s for s in ranked[1:3] if s.confidence >= th.suggest_at and best.confidence - s.confidence < margin]
    if _confident(best, ranked, len(terms), th) and not close and best.informative >= ANSWER_TERMS:
        return Match(kind="answer", lang=lang, entry=best.entry, confidence=round(best.confidence, 3), via="fuzzy")
    alternatives = (best.entry, *(s.entry for s in close))
    if len(alternatives) == 1 and len(ranked) > 1 and ranked[1].confidence >= th.suggest_at:
        alternatives = (best.entry, ranked[1].entry)
    if len(alternatives) == 1 and best.informative < ANSWER_TERMS:
        # "did you mean X?" on one shared informative word is a guess ("who won the game last night")
        return Match(kind="none", lang=lang, confidence=round(best.confidence, 3))
    return Match(
        kind="clarify",
        lang=lang,
        alternatives=alternatives,
        confidence=round(best.confidence, 3),
        via="fuzzy",
    )


def _sure(verdict: Match, ranked: list[_Scored], th: Thresholds) -> bool:
    """The hand-built scores answer with confidence to spare and well ahead of the next entry."""
    lead = ranked[0].confidence - (ranked[1].confidence if len(ranked) > 1 else 0.0)
    return verdict.kind == "answer" and ranked[0].confidence >= th.sure_at and lead >= th.sure_lead


def _revise(verdict: Match, ranked: list[_Scored], p: dict[str, float], th: Thresholds) -> Match:
    """The verdict with the learned model's say. An entry whose confidence plus the model's weighted probability
    clears the bar, ahead of the next, answers (also where the hand-built scores alone were too weak to offer
    anything); else an entry the model alone is sure of (`_model_alone`); else the close ones are offered, or the
    hand-built refusal stands. What the model takes for
    off-topic is never promoted, what it doubts (`learned_doubt`) is not answered, and a hand-built answer short
    of `_sure` that it does not back becomes a choice:
    the model's "none" withholds an answer but never refuses what the words place in the domain (its off-topic
    examples are adversarial, "Salesforce API limit of our marketing tool", so it leans to "none" on short
    questions). The confidence reported stays the hand-built one (what the settings' thresholds speak of)."""
    lang = verdict.lang
    none = p.get(NONE, 0.0)
    if none >= th.learned_none and verdict.kind != "answer":
        # what the model takes for off-topic it does not promote: the hand-built choice (or refusal) stands; a
        # hand-built answer goes to the combined score below (one the model does not back becomes a choice)
        return verdict
    combined = sorted(
        ((s.confidence + th.learned_weight * p.get(s.entry, 0.0), s) for s in ranked), key=lambda x: -x[0]
    )
    top, best = combined[0]
    runner_up = combined[1][0] if len(combined) > 1 else 0.0
    if none < th.learned_doubt:  # else the model takes it for off-topic: nothing is answered, a choice at most
        if top >= th.learned_answer_at and top - runner_up >= th.learned_margin:
            conf = round(best.confidence, 3)
            return Match(kind="answer", lang=lang, entry=best.entry, confidence=conf, via="learned")
        if alone := _model_alone(p, th):
            conf = next((round(s.confidence, 3) for s in ranked if s.entry == alone), 0.0)
            return Match(kind="answer", lang=lang, entry=alone, confidence=conf, via="learned")
    if verdict.kind == "none":
        return verdict
    close = [s.entry for c, s in combined[:CHOICES] if top - c < th.learned_close]
    if len(close) == 1 and len(combined) > 1:
        close.append(combined[1][1].entry)
    return Match(
        kind="clarify", lang=lang, alternatives=tuple(close), confidence=round(best.confidence, 3), via="learned"
    )


def _model_alone(p: dict[str, float], th: Thresholds) -> str | None:
    """The entry the model is sure of on its own, seeing almost no sign of an off-topic question (`Thresholds`)."""
    v, e = max(((v, e) for e, v in p.items() if e != NONE), default=(0.0, ""))
    return e if v >= th.learned_alone and p.get(NONE, 0.0) < th.learned_alone_none else None


__all__ = ["CANON", "Doc", "Index", "Thresholds", "build_index", "index_kb", "kb_docs", "match", "score"]
