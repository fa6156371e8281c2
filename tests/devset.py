"""The evaluation questions the tests replay: the project's own sets (tests/data/eval/, always there: the training
sets and the held-out set) and the shared dev set (../shared/eval/dev.jsonl) when it sits beside the repository.
Scoring lives in `bot.evaluation`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.evaluation import HELDOUT_SETS, SHARED_DEV_SET, TRAINING_SETS
from bot.evaluation import load_cases as load_file

#: the sets present here: the own sets (what the learned model is trained on) and the held-out set always, the
#: shared dev set as an extra
EVAL_SETS: tuple[Path, ...] = (
    *TRAINING_SETS,
    *HELDOUT_SETS,
    *((SHARED_DEV_SET,) if SHARED_DEV_SET.exists() else ()),
)


def load_cases() -> list[dict[str, Any]]:
    """Every case of the sets present, the own set first."""
    return [case for path in EVAL_SETS for case in load_file(path)]
