"""dialogs/state.py `turn_facts`: what a turn leaves for the usage report, from the turn_state the dialogs set."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from assistant.analytics.model import TurnFacts
from assistant.case import PromptSpec
from dialogs.state import ANSWER_KEY, FINDINGS_KEY, MATCH_KEY, turn_facts
from knowledge.models import Match
from tenant.base import CheckResult, Status, System


def _ctx(**state: Any) -> Any:
    return SimpleNamespace(turn_state=state)


def _result(check: str, system: System, status: Status) -> CheckResult:
    return CheckResult(id=check, title=check, system=system, status=status, summary="")


def test_nothing_to_say() -> None:
    assert turn_facts(_ctx()) is None


def test_an_answer_with_live_findings() -> None:
    ctx = _ctx(
        **{
            MATCH_KEY: Match(kind="answer", lang="en", entry="run-flows-off", confidence=0.8),
            ANSWER_KEY: PromptSpec(kind="answer", entry_id="run-flows-off"),
            FINDINGS_KEY: [
                _result("flows-on", System.power_automate, Status.fail),
                _result("webhook", System.partner_center, Status.passed),
            ],
        }
    )
    assert turn_facts(ctx) == TurnFacts(
        "answer",
        "run-flows-off",
        (("flows-on", "power_automate", "fail"), ("webhook", "partner_center", "pass")),
    )


def test_an_off_topic_question_pointed_elsewhere_is_not_unanswered() -> None:
    pointed = Match(kind="none", lang="en", via="neighbour", neighbour="payouts")
    assert turn_facts(_ctx(**{MATCH_KEY: pointed})) == TurnFacts("neighbour")
    assert turn_facts(_ctx(**{MATCH_KEY: Match(kind="none", lang="it")})) == TurnFacts("none")
