"""A "Fix it for me" button on the findings card carries its action: pressing the one beside the second finding
fixes that finding, not the first one the dialog was about to offer."""

from __future__ import annotations

from botbuilder.schema import ChannelAccount

from tenant.base import CheckResult, Fix, Status, System
from tests.fakes import FakeLiveFindings, FakeRemediation
from tests.harness import DialogHarness

QUESTION = "which child flows must be on before the partner center to crm flow?"
ADMIN = ChannelAccount(id="29:admin", name="Admin", aad_object_id="aad-admin")


def _finding(check: str, action: str) -> CheckResult:
    return CheckResult(
        id=check,
        title=f"Check {check}",
        system=System.power_automate,
        status=Status.fail,
        summary="Something is off.",
        entries=("cfg-activate-pc-to-crm",),
        fix=Fix(entry="cfg-activate-pc-to-crm", action=action),
    )


async def test_the_fix_button_of_the_second_finding_fixes_the_second_finding(knowledge) -> None:
    first, second = _finding("a-flows", "start-flows-in-order"), _finding("b-webhook", "register-webhook")
    live = FakeLiveFindings(
        results={r.id: r for r in (first, second)}, by_entry={"cfg-activate-pc-to-crm": [first.id, second.id]}
    )
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    h = DialogHarness(knowledge, live=live, remediation=remediation, user=ADMIN)
    await h.send(QUESTION)
    [preview] = await h.send(None, value={"choice": "fix", "card": "fix_offer", "action": "register-webhook"})
    assert remediation.planned == ["register-webhook"] and "This will change exactly" in preview
    await h.send("confirm")
    assert [plan.action for plan in remediation.executed] == ["register-webhook"]
