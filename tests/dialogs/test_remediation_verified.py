"""After a fix the dialog shows the affected checks as re-run in the same reply: fixed, or honestly still failing; it
never offers the same fix again, nor a fix whose finding the re-run found gone; the checklist marks an entry fixed
only when its re-run no longer fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botbuilder.schema import ChannelAccount

from tenant.base import CheckResult, Fix, Status, System
from tests.fakes import FakeLiveFindings, FakeRemediation
from tests.harness import DialogHarness

QUESTION = "which child flows must be on before the partner center to crm flow?"
ADMIN = ChannelAccount(id="29:admin", name="Admin", aad_object_id="aad-admin")
ENTRY = "cfg-activate-pc-to-crm"


def _order(status: Status = Status.fail) -> CheckResult:
    failed = status is Status.fail
    return CheckResult(
        id="flow-activation-order",
        title="Child flows on before Partner Center to CRM",
        title_it='Flussi figlio attivi prima di "Partner Center to CRM"',
        system=System.power_automate,
        status=status,
        summary="Child flows are off." if failed else "The child flows are on.",
        summary_it="Alcuni flussi figlio sono disattivati." if failed else "I flussi figlio sono attivi.",
        entries=(ENTRY,),
        evidence={"area": "configuration"},
        fix=Fix(entry=ENTRY, action="start-flows-in-order") if failed else None,
    )


def _webhook(
    status: Status = Status.fail, summary: str = "The Partner Center webhook is not registered."
) -> CheckResult:
    failed = status is Status.fail
    return CheckResult(
        id="webhook-registration",
        title="Partner Center webhook registration",
        system=System.partner_center,
        status=status,
        summary=summary,
        entries=(ENTRY,),  # shares the entry here so one question shows both findings
        evidence={"area": "configuration"},
        fix=Fix(entry=ENTRY, action="register-webhook") if failed else None,
    )


@dataclass
class VerifyingRemediation(FakeRemediation):
    """The fake remediation whose outcome carries `rechecked` as the re-run of the affected checks."""

    rechecked: list[CheckResult] = field(default_factory=list)

    async def execute(self, plan: Any) -> Any:
        outcome = await super().execute(plan)
        return outcome.model_copy(update={"verified": tuple(self.rechecked)})


def _harness(knowledge: Any, remediation: FakeRemediation, *findings: CheckResult, **kwargs: Any) -> DialogHarness:
    live = FakeLiveFindings(results={f.id: f for f in findings}, by_entry={ENTRY: [f.id for f in findings]})
    return DialogHarness(knowledge, live=live, remediation=remediation, user=ADMIN, **kwargs)


async def test_a_fix_that_took_shows_the_passing_finding_and_nothing_is_offered_again(knowledge) -> None:  # type: ignore[no-untyped-def]
    remediation = VerifyingRemediation(admins=frozenset({"aad-admin"}), rechecked=[_order(Status.passed)])
    h = _harness(knowledge, remediation, _order())
    await h.send(QUESTION)
    await h.send("Fix it for me")
    report, answer = await h.send("confirm")
    assert "Done." in report and "Checked again after the change**: no longer failing" in report
    assert "✅ OK — **Child flows on before Partner Center to CRM**: The child flows are on." in report
    assert "❌" not in report and "Did this help?" in answer and "I can fix this for you" not in answer
    assert len(remediation.executed) == 1


async def test_a_fix_that_did_not_take_says_still_failing_and_is_not_offered_again(knowledge) -> None:  # type: ignore[no-untyped-def]
    remediation = VerifyingRemediation(admins=frozenset({"aad-admin"}), rechecked=[_order()])
    h = _harness(knowledge, remediation, _order())
    await h.send(QUESTION)
    await h.send("Fix it for me")
    replies = await h.send("confirm")
    report, answer = replies
    assert "Done." in report and "still failing" in report and "won't offer the same fix again" in report
    assert "❌ Problem — **Child flows on before Partner Center to CRM**: Child flows are off." in report
    assert "talk to a person" in report
    assert "Did this help?" in answer and not any("I can fix this for you" in r for r in replies)


async def test_another_finding_the_rerun_found_fixed_is_not_offered(knowledge) -> None:  # type: ignore[no-untyped-def]
    rechecked = [_order(Status.passed), _webhook(Status.passed, "All four events are registered.")]
    remediation = VerifyingRemediation(admins=frozenset({"aad-admin"}), rechecked=rechecked)
    h = _harness(knowledge, remediation, _order(), _webhook())
    await h.send(QUESTION)
    await h.send("Fix it for me")
    report, answer = await h.send("confirm")
    assert report.index("Child flows on") < report.index("webhook registration**: All four events are registered.")
    assert "Did this help?" in answer and "re-register the Partner Center webhook" not in answer
    assert remediation.planned == ["start-flows-in-order"]


async def test_another_finding_still_failing_is_offered_as_found_again(knowledge) -> None:  # type: ignore[no-untyped-def]
    now = _webhook(summary="Events not registered: referral-closed.")
    remediation = VerifyingRemediation(admins=frozenset({"aad-admin"}), rechecked=[_order(Status.passed), now])
    h = _harness(knowledge, remediation, _order(), _webhook())
    await h.send(QUESTION)
    await h.send("Fix it for me")
    _report, offer = await h.send("confirm")
    assert "re-register the Partner Center webhook" in offer and "Events not registered: referral-closed." in offer


async def test_a_recheck_that_could_not_look_says_so(knowledge) -> None:  # type: ignore[no-untyped-def]
    unreachable = _order().model_copy(
        update={
            "status": Status.error,
            "summary": "Power Automate is not answering; not retried for 60 s.",
            "fix": None,
        }
    )
    remediation = VerifyingRemediation(admins=frozenset({"aad-admin"}), rechecked=[unreachable])
    h = _harness(knowledge, remediation, _order())
    await h.send(QUESTION)
    await h.send("Fix it for me")
    report, answer = await h.send("confirm")
    assert "couldn't check again after the change** (Power Automate is not answering" in report
    assert "❗" in report and "Did this help?" in answer


async def test_italian_verification(knowledge) -> None:  # type: ignore[no-untyped-def]
    remediation = VerifyingRemediation(admins=frozenset({"aad-admin"}), rechecked=[_order()])
    h = _harness(knowledge, remediation, _order(), locale="it-IT")
    await h.send("quali flussi figli devono essere attivi prima di partner center to crm?")
    await h.send("sistemalo tu")
    report, _answer = await h.send("conferma")
    assert "Fatto." in report and "il problema resta" in report and "non ti riproporrò" in report
    assert (
        '❌ Problema — **Flussi figlio attivi prima di "Partner Center to CRM"**: '
        "Alcuni flussi figlio sono disattivati." in report
    )


async def test_checklist_marks_fixed_only_what_the_rerun_found_fixed(knowledge) -> None:  # type: ignore[no-untyped-def]
    remediation = VerifyingRemediation(admins=frozenset({"aad-admin"}), rechecked=[_order()])
    h = _harness(knowledge, remediation, _order())
    await h.send("configuration")
    await h.send("Fix it for me")
    report, _first_item = await h.send("confirm")
    assert "still failing" in report
    for _ in range(12):
        await h.send("skip")
        if h.journal.checklists:
            break
    assert h.journal.checklists[0][2][ENTRY] == "skipped"  # not "fixed": the re-run still fails
