"""Leave-one-phrasing-out cross-validation (knowledge/crossval.py) on a small knowledge base of its own."""

from __future__ import annotations

from knowledge.crossval import leave_one_out, user_phrasings
from knowledge.matcher import Doc, Thresholds


def _doc(entry: str, en: tuple[str, ...], it: tuple[str, ...]) -> Doc:
    return Doc(id=entry, question_texts={"en": en, "it": it}, answer_texts={"en": (), "it": ()},
               phrasings={"en": en, "it": it})  # fmt: skip


def test_each_phrasing_is_matched_against_an_index_without_it(knowledge) -> None:
    docs = [
        _doc("pre-a", ("connector trial price", "trial connector appsource price", "appsource trial cost connector"),
             ("prezzo prova connettore", "costo prova connettore appsource", "appsource prova connettore prezzo")),
        _doc("run-b", ("country code missing customer", "customer country code iso", "iso code customer country"),
             ("codice paese cliente mancante", "codice iso paese cliente", "paese cliente codice iso")),
    ]  # fmt: skip
    seen: list[str] = []

    def build(rest, lexicon):
        from knowledge.matcher import build_index

        held = {p for d in rest for lang in ("en", "it") for p in d.phrasings[lang]}
        seen.extend(p for d in docs for lang in ("en", "it") for p in d.phrasings[lang][1:] if p not in held)
        return build_index(rest, lexicon)

    score = leave_one_out(docs, knowledge.kb.lexicon, Thresholds(), held_out=user_phrasings, build=build)
    assert score.total == {"en": 4, "it": 4}
    assert len(seen) == 8 and len(set(seen)) == 8  # each phrasing left out once, on its own
    figures = score.figures()
    assert figures["loo_top1_en"] == figures["loo_top1_it"] == 1.0, score.misses
