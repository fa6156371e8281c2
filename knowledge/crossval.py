"""Leave-one-phrasing-out cross-validation of the matcher: each phrasing of each entry, in turn, is taken out of
the knowledge base, the index is rebuilt without it (its words leave the vocabulary too) and the phrasing is
matched as a user question. Top-1 per language says how the hand-built scores do on wordings they have never seen,
with no evaluation file at all (the learned model is left out here: it was trained on those phrasings). Pure and
deterministic; ~0.05 s of index building per phrasing.

`k_fold`: k-fold cross-validation of the learned model on the training sets, the figure its decision constants
were fitted on.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from knowledge import learned
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Doc, Index, Thresholds, build_index, match, reaches_model
from knowledge.models import LANGS, Lang, Lexicon


@dataclass
class LooScore:
    """Per language: phrasings answered with their own entry, asked back as a choice that offers it, and missed."""

    hits: dict[Lang, int] = field(default_factory=lambda: dict.fromkeys(LANGS, 0))
    offered: dict[Lang, int] = field(default_factory=lambda: dict.fromkeys(LANGS, 0))
    total: dict[Lang, int] = field(default_factory=lambda: dict.fromkeys(LANGS, 0))
    misses: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Top-1 and offered-in-a-choice rates per language, and overall top-1."""
        out: dict[str, float] = {}
        for lang in LANGS:
            n = self.total[lang] or 1
            out[f"loo_top1_{lang}"] = self.hits[lang] / n
            out[f"loo_offered_{lang}"] = self.offered[lang] / n
        out["loo_top1_all"] = sum(self.hits.values()) / (sum(self.total.values()) or 1)
        return out


def _without(doc: Doc, lang: Lang, phrasing: str) -> Doc:
    """`doc` with one phrasing of `lang` taken out (from both the entry's question text and its phrasings)."""
    q = dict(doc.question_texts)
    p = dict(doc.phrasings)
    q[lang] = tuple(t for t in q[lang] if t != phrasing)
    p[lang] = tuple(t for t in p[lang] if t != phrasing)
    return replace(doc, question_texts=q, phrasings=p)


def leave_one_out(
    docs: Sequence[Doc],
    lexicon: Lexicon,
    th: Thresholds,
    *,
    held_out: Callable[[Doc, Lang], Sequence[str]],
    build: Callable[[Sequence[Doc], Lexicon], Index] = build_index,
) -> LooScore:
    """Match each phrasing `held_out(doc, lang)` names against an index built without it.

    Args:
        docs: the entries as the index sees them (`knowledge.matcher.kb_docs`).
        lexicon: the knowledge base's lexicon.
        th: the decision thresholds.
        held_out: the phrasings of an entry to hold out, one at a time, per language.
        build: how to build an index (the model under test).
    """
    score = LooScore()
    for i, doc in enumerate(docs):
        for lang in LANGS:
            for phrasing in held_out(doc, lang):
                rest = [*docs[:i], _without(doc, lang, phrasing), *docs[i + 1 :]]
                m = match(build(rest, lexicon), phrasing, th, locale_hint=lang)
                score.total[lang] += 1
                if m.kind == "answer" and m.entry == doc.id:
                    score.hits[lang] += 1
                    continue
                if m.kind == "clarify" and doc.id in m.alternatives:
                    score.offered[lang] += 1
                got = m.entry or "/".join(m.alternatives) or m.kind
                score.misses.append(f"{doc.id} [{lang}] got {got}: {phrasing}")
    return score


def user_phrasings(doc: Doc, lang: Lang) -> Sequence[str]:
    """The phrasings written as users would ask (the entry's title, the source page's own question, excluded)."""
    return doc.phrasings[lang][1:]


@dataclass
class FoldScore:
    """k-fold cross-validation of the learned model: per language top-1 on match cases, abstention on none cases."""

    top1: dict[Lang, list[bool]] = field(default_factory=lambda: {lang: [] for lang in LANGS})
    none: list[bool] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Rates per language, overall and for abstention."""
        out = {f"cv_top1_{lang}": sum(v) / (len(v) or 1) for lang, v in self.top1.items()}
        every = [x for v in self.top1.values() for x in v]
        out["cv_top1_all"] = sum(every) / (len(every) or 1)
        out["cv_none"] = sum(self.none) / (len(self.none) or 1)
        return out


def k_fold(
    index: Index, kb: KnowledgeBase, cases: Sequence[dict[str, Any]], th: Thresholds, *, k: int = 5, seed: int = 1
) -> FoldScore:
    """Train the learned model on the entries and k-1 folds of `cases`, match the k-th fold's questions with it,
    each fold in turn (ambiguous cases teach and test nothing). Deterministic: a seeded shuffle."""
    order = [c for c in cases if c.get("kind") in ("match", "none")]
    keep = {c["text"]: reaches_model(index, c["text"], th) for c in order}
    random.Random(seed).shuffle(order)
    base = learned.entry_examples(index.lexer, index.idf, kb, index.courtesy)
    score = FoldScore()
    for fold in range(k):
        rest = [c for i, c in enumerate(order) if i % k != fold]
        model = learned.train(
            [*base, *learned.case_examples(index.lexer, index.idf, rest, keep.__getitem__, index.courtesy)]
        )
        for case in order[fold::k]:
            m = match(index, case["text"], th, locale_hint=case["lang"], model=model)
            if case["kind"] == "none":
                score.none.append(m.kind != "answer")
            else:
                score.top1[case["lang"]].append(m.kind == "answer" and m.entry == case["faq"])
    return score
