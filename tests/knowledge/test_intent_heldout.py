"""The hand-over intent on the HELD-OUT set, `tests/data/handoff_heldout.yaml` (70 requests, 40 near-misses).

HELD OUT: the set was written blind and is never used to tune the word classes or the structures; do not add its
rows to the tuning table (`handoff_phrasings.yaml`) or read them while changing the recogniser. The recogniser is
scored on it as a whole, and the floors sit a little below what it measured, so that the test catches a regression
without asking the set to be learnt by heart.

Measured (twice, the last time with the version this test shipped with): 60/70 requests recognised (0.857), 40/40
near-misses kept questions (the first measurement, one commit earlier: 60/70 and 39/40). The phrase-tuned first
version measured 42/70 and 39/40.
"""

from __future__ import annotations

from pathlib import Path

import yaml

HELD_OUT = Path(__file__).parents[1] / "data" / "handoff_heldout.yaml"
RECALL_FLOOR = 0.82  # measured 0.857
NEAR_MISS_FLOOR = 0.95  # measured 1.0


def test_held_out_requests_for_a_person_are_recognised_often_enough(knowledge) -> None:  # type: ignore[no-untyped-def]
    rows = yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))["handoff"]
    recall = sum(bool(knowledge.handoff(row["text"])) for row in rows) / len(rows)
    assert recall >= RECALL_FLOOR


def test_held_out_near_misses_stay_questions_often_enough(knowledge) -> None:  # type: ignore[no-untyped-def]
    rows = yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))["question"]
    kept = sum(not knowledge.handoff(row["text"]) for row in rows) / len(rows)
    assert kept >= NEAR_MISS_FLOOR
