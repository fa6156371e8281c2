"""The fix offer after a failed finding: refused for users not on the allow-list, preview → confirm → executed and
journaled for admins, nothing changed when declined, free text at the confirmation routed as a question."""

from __future__ import annotations

import pytest
from botbuilder.schema import ChannelAccount

from tenant.base import CheckResult, Fix, Status, System
from tests.fakes import FakeLiveFindings, FakeRemediation
from tests.harness import LOCAL_DEMO, DialogHarness, TrustPolicy

QUESTION = "which child flows must be on before the partner center to crm flow?"
ADMIN = ChannelAccount(id="29:admin", name="Admin", aad_object_id="aad-admin")


def _finding(area: str = "configuration") -> CheckResult:
    return CheckResult(
        id="flow-activation-order",
        title="Child flows on before Partner Center to CRM",
        title_it='Flussi figlio attivi prima di "Partner Center to CRM"',
        system=System.power_automate,
        status=Status.fail,
        summary="Child flows are off.",
        summary_it="Alcuni flussi figlio sono disattivati.",
        entries=("cfg-activate-pc-to-crm",),
        evidence={"area": area, "start_order": ["Partner Center to CRM - Helper", "Partner Center to Dynamics 365"]},
        fix=Fix(entry="cfg-activate-pc-to-crm", action="start-flows-in-order"),
    )


def _live(*results: CheckResult) -> FakeLiveFindings:
    by_entry: dict[str, list[str]] = {}
    for r in results:
        for e in r.entries:
            by_entry.setdefault(e, []).append(r.id)
    return FakeLiveFindings(results={r.id: r for r in results}, by_entry=by_entry)


def _harness(knowledge, remediation: FakeRemediation, **kwargs) -> DialogHarness:  # type: ignore[no-untyped-def]
    return DialogHarness(knowledge, live=_live(_finding()), remediation=remediation, **kwargs)


async def test_failed_finding_with_a_fix_is_offered_to_an_allow_listed_admin(knowledge) -> None:
    h = _harness(knowledge, FakeRemediation(admins=frozenset({"aad-admin"})), user=ADMIN)
    findings, offer = await h.send(QUESTION)
    assert "❌" in findings and "I can fix this for you" in offer and "turn on the connector flows" in offer
    assert "Fix it for me" in offer and "No" in offer


@pytest.mark.parametrize(
    ("admins", "user"),
    [(frozenset({"someone-else"}), ADMIN), (frozenset(), None), (frozenset({"user-1"}), None)],
    ids=["not-allow-listed", "nobody-allow-listed", "claimed-id-only"],
)
async def test_who_may_not_fix_gets_who_can_and_how_never_the_button(knowledge, admins, user) -> None:
    """The local demo's claimed id counts only with local fixes on: "user-1" on the list is still refused when the
    trust policy proves nothing (here: a plain, non-local harness)."""
    remediation = FakeRemediation(admins=admins)
    trust = TrustPolicy(auth_enabled=True, loopback_only=False) if admins == frozenset({"user-1"}) else LOCAL_DEMO
    h = _harness(knowledge, remediation, user=user, trust=trust)
    replies = await h.send(QUESTION)
    if trust is LOCAL_DEMO:
        findings, elsewhere, answer = replies
        assert "❌" in findings
        assert "COSELL_ADMIN_ALLOWLIST" in elsewhere and "turn on the connector flows" in elsewhere
        assert "child flows first" in elsewhere and "by hand" in elsewhere
        assert "Fix it for me" not in elsewhere and "I can fix this for you" not in elsewhere
        assert "Did this help?" in answer
    assert not any("Fix it for me" in r for r in replies)
    again = await h.send("Fix it for me")  # typed anyway: a new question, never a change
    assert not any("Done." in r for r in again)
    assert remediation.planned == [] and remediation.executed == []


async def test_the_who_can_fix_text_is_italian_in_italian(knowledge) -> None:
    h = _harness(knowledge, FakeRemediation(), locale="it-IT")
    _findings, elsewhere, _answer = await h.send(
        "quali flussi figli devono essere attivi prima di partner center to crm?"
    )
    assert (
        "COSELL_ADMIN_ALLOWLIST" in elsewhere and "oppure fallo a mano" in elsewhere and "Sistemalo tu" not in elsewhere
    )
    assert (
        '**Flussi figlio attivi prima di "Partner Center to CRM": Alcuni flussi figlio sono disattivati.**' in elsewhere
    )


async def test_admin_previews_confirms_and_the_fix_is_executed_and_journaled(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    h = _harness(knowledge, remediation, user=ADMIN)
    await h.send(QUESTION)
    [preview] = await h.send("Fix it for me")
    assert "This will change exactly" in preview
    assert preview.index("Partner Center to CRM - Helper") < preview.index("Partner Center to Dynamics 365")
    assert remediation.executed == []  # nothing before the confirmation
    report, answer = await h.send("confirm")
    assert "Done." in report and report.count("✅") == 2 and "Did this help?" in answer
    [row] = h.journal.remediations
    assert row["result"] == "done" and row["user_id"] == "aad-admin" and row["conversation_id"] == "convo-1"
    assert row["before"]["flows"]["Partner Center to Dynamics 365"] == "Stopped"
    assert row["after"]["flows"]["Partner Center to Dynamics 365"] == "Started"


async def test_failure_is_reported_plainly_and_journaled(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"29:admin"}), fail_at=1)
    h = _harness(knowledge, remediation, user=ADMIN)
    await h.send(QUESTION)
    await h.send("Fix it for me")
    report, _answer = await h.send("yes, confirm")
    assert "Stopped at a failed step" in report and "✅" in report and "❌" in report
    assert "Power Automate answered 400." in report
    [row] = h.journal.remediations
    assert row["result"] == "failed" and "Power Automate answered 400." in row["detail"]


async def test_declined_confirmation_changes_nothing(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    h = _harness(knowledge, remediation, user=ADMIN)
    await h.send(QUESTION)
    await h.send("Fix it for me")
    cancelled, answer = await h.send("No, cancel")
    assert "didn't change anything" in cancelled and "Did this help?" in answer
    assert remediation.executed == [] and h.journal.remediations[0]["result"] == "cancelled"


async def test_no_at_the_offer_goes_on_to_the_answer(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    h = _harness(knowledge, remediation, user=ADMIN)
    await h.send(QUESTION)
    [answer] = await h.send("no")
    assert "Did this help?" in answer and remediation.planned == [] and h.journal.remediations == []


async def test_free_text_at_the_confirmation_cancels_and_is_routed_as_a_question(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    h = _harness(knowledge, remediation, user=ADMIN)
    await h.send(QUESTION)
    await h.send("Fix it for me")
    replies = await h.send("Solution ID is required")
    assert "didn't change anything" in replies[0] and any("co-sell ready" in r for r in replies[1:])
    assert remediation.executed == []


async def test_card_submits_do_not_crash(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    h = _harness(knowledge, remediation, user=ADMIN)
    await h.send(QUESTION)
    [preview] = await h.send(value={"choice": "fix"})
    assert "This will change exactly" in preview
    cancelled, _answer = await h.send(value={"unexpected": True})  # an unknown submit is not a confirmation
    assert "didn't change anything" in cancelled and remediation.executed == []


async def test_italian_offer_and_preview(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    h = _harness(knowledge, remediation, user=ADMIN, locale="it-IT")
    _findings, offer = await h.send("quali flussi figli devono essere attivi prima di partner center to crm?")
    assert "Posso sistemarlo io" in offer and "Sistemalo tu" in offer
    [preview] = await h.send("sistemalo tu")
    assert "Cambierà esattamente questo" in preview and "Accendere" in preview
    report, _answer = await h.send("conferma")
    assert "Fatto." in report


async def test_the_offer_names_the_finding_in_the_conversation_language(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    _findings, offer = await _harness(knowledge, remediation, user=ADMIN, locale="it-IT").send(
        "quali flussi figli devono essere attivi prima di partner center to crm?"
    )
    assert '(Flussi figlio attivi prima di "Partner Center to CRM": Alcuni flussi figlio sono disattivati.)' in offer
    _findings, offer = await _harness(knowledge, remediation, user=ADMIN).send(QUESTION)
    assert "(Child flows on before Partner Center to CRM: Child flows are off.)" in offer


async def test_checklist_marks_a_fixed_finding_as_fixed(knowledge) -> None:
    remediation = FakeRemediation(admins=frozenset({"aad-admin"}))
    h = _harness(knowledge, remediation, user=ADMIN)
    findings, offer = await h.send("configuration")
    assert "❌" in findings and "I can fix this for you" in offer
    await h.send("Fix it for me")
    report, first_item = await h.send("confirm")
    assert "Done." in report and "step 1 of" in first_item
    for _ in range(12):
        await h.send("done")
        if h.journal.checklists:
            break
    assert h.journal.checklists[0][2]["cfg-activate-pc-to-crm"] == "fixed"


async def test_without_a_remediation_port_nothing_is_offered(knowledge) -> None:
    h = DialogHarness(knowledge, live=_live(_finding()))
    _findings, answer = await h.send(QUESTION)
    assert "Did this help?" in answer
