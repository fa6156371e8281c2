"""Score the evaluation sets through the same in-process path as `cosell-bot ask --json` (`bot.evaluation`) and
print the figures: the project's own sets (tests/data/eval/, each written blind from the source page only: the
training sets of the learned model and the held-out set) always, and the shared dev set (../shared/eval/dev.jsonl)
when it sits beside the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import OWN_SET, Score, load_cases, score_cases
from bot.wiring import build_assistant
from tests.devset import EVAL_SETS

#: floors per set, a little below what `cosell-bot eval` measured with the shipped model (0.02 under top-1 and
#: abstention, 0.07 under ambiguous). The training sets' figures are what the learned model fits (a regression
#: guard, not a claim about unseen questions). The held-out sets were written blind by other writers and never
#: trained on: heldout.jsonl 0.906 en / 0.926 it / none 1.0 (its figures were seen while constants were chosen;
#: the hand-built scores alone: 0.757 / 0.784 / 0.848); heldout2 0.927 / 0.955 / 1.0 and heldout3 0.932 / 0.933 /
#: 1.0 (each scored once when it was written: 0.927 / 0.927 / 1.0 and 0.913 / 0.923 / 0.971); heldout5, scored
#: once after the model's off-topic doubt and the neighbours set were fixed: 0.974 / 0.964 / 0.979 (the model at the
#: start of that work: 0.974 / 0.955 / 0.979), 0.974 / 0.973 / 0.979 now that mixed.jsonl (a held-out set whose
#: misses had been read) is trained on. All four pooled: see `cosell-bot eval` and the issue note. The shared dev
#: set was only checked: 0.980 / 0.957 / none 1.0.
FLOORS = {
    "own.jsonl": {"top1_en": 0.96, "top1_it": 0.95, "none": 0.98, "ambiguous": 0.76, "must_mention": 0.95},
    "long.jsonl": {"top1_en": 0.93, "top1_it": 0.95, "none": 0.98, "ambiguous": 0.68, "must_mention": 0.95},
    "third.jsonl": {"top1_en": 0.94, "top1_it": 0.95, "none": 0.98, "ambiguous": 0.38, "must_mention": 0.95},
    "offtopic.jsonl": {"none": 0.98},
    "terse.jsonl": {"top1_en": 0.94, "top1_it": 0.93, "none": 0.98, "ambiguous": 0.49, "must_mention": 0.95},
    "indirect.jsonl": {"top1_en": 0.93, "top1_it": 0.94, "none": 0.98, "ambiguous": 0.61, "must_mention": 0.95},
    "context.jsonl": {"top1_en": 0.94, "top1_it": 0.93, "none": 0.98, "ambiguous": 0.55, "must_mention": 0.95},
    "forum.jsonl": {"top1_en": 0.95, "top1_it": 0.94, "none": 0.98, "ambiguous": 0.61, "must_mention": 0.95},
    "screen.jsonl": {"top1_en": 0.94, "top1_it": 0.94, "none": 0.98, "ambiguous": 0.68, "must_mention": 0.95},
    "search.jsonl": {"top1_en": 0.95, "top1_it": 0.94, "none": 0.98, "ambiguous": 0.55, "must_mention": 0.95},
    "reported.jsonl": {"top1_en": 0.95, "top1_it": 0.95, "none": 0.98, "ambiguous": 0.74, "must_mention": 0.95},
    "pasted.jsonl": {"top1_en": 0.93, "top1_it": 0.94, "none": 0.98, "ambiguous": 0.49, "must_mention": 0.95},
    "yesno.jsonl": {"top1_en": 0.96, "top1_it": 0.96, "none": 0.98, "ambiguous": 0.49, "must_mention": 0.95},
    "dictated.jsonl": {"top1_en": 0.95, "top1_it": 0.95, "none": 0.98, "ambiguous": 0.61, "must_mention": 0.95},
    "neighbours.jsonl": {"none": 0.98},
    "mixed.jsonl": {"top1_en": 0.94, "top1_it": 0.95, "none": 0.98, "ambiguous": 0.43, "must_mention": 0.95},
    "heldout.jsonl": {"top1_en": 0.88, "top1_it": 0.9, "none": 0.98, "ambiguous": 0.43, "must_mention": 0.95},
    "heldout2.jsonl": {"top1_en": 0.9, "top1_it": 0.93, "none": 0.98, "ambiguous": 0.49, "must_mention": 0.95},
    "heldout3.jsonl": {"top1_en": 0.91, "top1_it": 0.91, "none": 0.98, "ambiguous": 0.43, "must_mention": 0.95},
    "heldout5.jsonl": {"top1_en": 0.95, "top1_it": 0.95, "none": 0.95, "ambiguous": 0.52, "must_mention": 0.95},
    "dev.jsonl": {"top1_en": 0.95, "top1_it": 0.93, "none": 0.98, "ambiguous": 0.49, "must_mention": 0.95},
}


@pytest.mark.parametrize("path", EVAL_SETS, ids=lambda p: p.name)
async def test_evaluation_set_score(settings, knowledge, capsys, path: Path) -> None:
    assistant = build_assistant(settings, knowledge=knowledge)
    try:
        score = await score_cases(assistant, load_cases(path))
    finally:
        await assistant.close()
    figures = score.figures()
    with capsys.disabled():  # the figures only: the held-out set's misses are not for reading while tuning
        print(f"\n{path.name}", *(f"{k}={v:.3f}" for k, v in figures.items() if isinstance(v, float)))
    for key, floor in FLOORS[path.name].items():
        assert figures[key] >= floor, f"{key} {figures[key]:.3f} < {floor}\n{score.report(path.name)}"


def test_the_own_set_is_in_the_repository() -> None:
    cases = load_cases(OWN_SET)
    assert {c["lang"] for c in cases} == {"en", "it"}
    assert {c["kind"] for c in cases} == {"match", "none", "ambiguous"}


def test_cases_of_entries_not_written_yet_are_pending_not_misses() -> None:
    score = Score(known={"pre-trial"})
    case = {"id": "x", "lang": "en", "kind": "match", "text": "q", "faq": "run-get-help", "must_mention": []}
    score.add(case, None, [], "")
    score.add({**case, "kind": "ambiguous", "faq": None, "alt": ["pre-trial", "run-get-help"]}, None, [], "")
    assert score.misses == [] and len(score.pending) == 2 and score.figures()["cases"] == 0
    score.add({**case, "faq": "pre-trial"}, "pre-trial", [], "")
    assert score.figures()["top1_en"] == 1.0 and score.pending[0].startswith("x run-get-help got None")
