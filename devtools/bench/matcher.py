"""[matcher] time per query on the real knowledge base and on a synthetic one of thousands of entries, warm and on
the first pass after a cold start, against a naive rapidfuzz scan of the same phrasings."""

from __future__ import annotations

import functools
import itertools
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from devtools.bench.report import Row

if TYPE_CHECKING:
    from knowledge.loader import KnowledgeBase
    from knowledge.matcher import Doc, Index
    from knowledge.models import Lang

LANGS: tuple[Lang, ...] = ("en", "it")


def synthetic_docs(kb: KnowledgeBase, n: int, seed: int = 1729) -> list[Doc]:
    """`n` deterministic entries: the real KB's words (by frequency) then a made-up long tail, Zipf-sampled;
    six phrasings a language, each mixing the entry's own topic words with common ones."""
    from knowledge.matcher import Doc
    from knowledge.text import fold

    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfglmnprstvz" for v in "aeiou"]
    fake = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(20_000)})
    rng.shuffle(fake)
    vocab, cum = {}, {}
    for lang in LANGS:
        texts = (t for e in kb.entries for c in [e.content(lang)] for t in (c.title, *c.phrasings, *c.keywords, c.lead))
        vocab[lang] = [w for w, _ in Counter(w for t in texts for w in fold(t).split()).most_common()] + fake
        cum[lang] = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(vocab[lang]))))
    docs = []
    for i in range(n):
        topic, q, a = rng.sample(fake, 2), {}, {}
        for lang in LANGS:
            words = [" ".join(rng.choices(vocab[lang], cum_weights=cum[lang], k=k)) for k in (3, 4, 5, 6, 7, 8, 9, 30)]
            own = topic + words[0].split()
            q[lang] = (*(" ".join([*rng.sample(own, 3), w]) for w in words[1:7]), *own[:3])
            a[lang] = (*words[7:], own[0])  # the answer, and a topic word it explains
        docs.append(
            Doc(id=f"syn-{i:05d}", question_texts=q, answer_texts=a, phrasings={k: v[:6] for k, v in q.items()})
        )
    return docs


def _per_query_ms(fn: Callable[[str], object], queries: Sequence[str], passes: int = 1) -> float:
    t0 = time.perf_counter()
    for q in [q for _ in range(passes) for q in queries]:
        fn(q)
    return (time.perf_counter() - t0) * 1000 / (passes * len(queries))


def _first_pass_ms(build: Callable[[], Index], queries: list[str], starts: int) -> tuple[Index, float]:
    """Per query, the first pass over `queries` right after `build()`, as at start-up, median of `starts` cold
    starts (one pass takes ~20 ms on the real knowledge base: a single one is at the mercy of a busy moment).
    Before each build the process-wide word caches are emptied, and the build fills them with the knowledge
    base's own words, as it does when serving. With `starts` 0, one pass over the index `build` returns as it is
    (one that took seconds to build just before). Returns the index too."""
    from knowledge.matcher import Thresholds
    from knowledge.text import fold, stem

    th, times = Thresholds(), []
    for _ in range(max(starts, 1)):
        if starts:
            stem.cache_clear()
            fold.cache_clear()
        index = build()
        times.append(_per_query_ms(functools.partial(_match, index, th), queries))  # repair caches still cold
    return index, statistics.median(times)


def _match(index: Index, th: Any, text: str) -> object:
    from knowledge.matcher import match

    return match(index, text, th)


def _matcher_rows(label: str, build: Callable[[], Index], phrasings: list[str], target: float, queries: list[str],
                  passes: int, naive_n: int, starts: int) -> list[Row]:  # fmt: skip
    from rapidfuzz import fuzz, process

    from knowledge.matcher import Thresholds, match

    th = Thresholds()
    index, first = _first_pass_ms(build, queries, starts)
    warm = _per_query_ms(lambda q: match(index, q, th), queries, passes)
    naive = _per_query_ms(lambda q: process.extractOne(q, phrasings, scorer=fuzz.WRatio), queries[:naive_n])
    return [Row("matcher", f"{label} warm", "ms/query", warm, naive, target),
            Row("matcher", f"{label} first pass", "ms/query", first, naive, target)]  # fmt: skip


def bench_matcher(queries: list[str], quick: bool) -> tuple[list[Row], float]:
    """Child entry: matcher time per query on the real KB and on a synthetic one, against a naive scan of the
    same KB; also the seconds taken to generate and index the synthetic one."""
    from knowledge.loader import load_kb
    from knowledge.matcher import build_index, index_kb

    kb = load_kb()
    real = [p for e in kb.entries for lang in LANGS for p in (e.content(lang).title, *e.content(lang).phrasings)]
    rows = _matcher_rows(f"real KB ({len(kb.entries)})", lambda: index_kb(kb), real, 0.2, queries,
                         1 if quick else 20, len(queries), 1 if quick else 5)  # fmt: skip
    size, t0 = 500 if quick else 10_000, time.perf_counter()
    docs = synthetic_docs(kb, size)
    index = build_index(docs, kb.lexicon)
    build_s = round(time.perf_counter() - t0, 1)
    syn = [p for d in docs for ps in d.phrasings.values() for p in ps]
    # building this index takes seconds: one first pass, after the build above
    synthetic = _matcher_rows(f"synthetic KB ({size:,})", lambda: index, syn, 2.0, queries, 1, 3 if quick else 8, 0)
    return rows + synthetic, build_s
