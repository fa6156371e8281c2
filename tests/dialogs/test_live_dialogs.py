"""Dialogs with live checks: findings before the FAQ answer, an honest line when the tenant can't be checked,
and checklists that walk only through what the checks did not confirm."""

from __future__ import annotations

from knowledge.models import Area
from tenant.base import CheckResult, Status, System
from tests.fakes import FakeLiveFindings
from tests.harness import DialogHarness


def _result(
    check_id: str, status: Status, summary: str, entries: tuple[str, ...], area: str, **italian: str
) -> CheckResult:
    return CheckResult(
        id=check_id,
        title=check_id.replace("-", " ").title(),
        system=System.power_automate,
        status=status,
        summary=summary,
        entries=entries,
        evidence={"area": area},
        **italian,
    )


def _live(*results: CheckResult) -> FakeLiveFindings:
    by_entry: dict[str, list[str]] = {}
    for r in results:
        for e in r.entries:
            by_entry.setdefault(e, []).append(r.id)
    return FakeLiveFindings(results={r.id: r for r in results}, by_entry=by_entry)


async def test_answer_shows_live_findings_first(knowledge) -> None:
    live = _live(
        _result(
            "flow-activation-order", Status.fail, "Child flows are off.", ("cfg-activate-pc-to-crm",), "configuration"
        )
    )
    h = DialogHarness(knowledge, live=live)
    findings, answer = await h.send("which child flows must be on before the partner center to crm flow?")
    assert "❌" in findings and "Child flows are off." in findings and "Live checks" in findings
    assert "Did this help?" in answer and live.sweeps == [{"area": None, "ids": ["flow-activation-order"]}]


async def test_unreachable_tenant_says_so_and_gives_the_faq_answer(knowledge) -> None:
    live = _live(
        _result("pc-referrals-role", Status.error, "Partner Center answered 503", ("pre-pc-role",), "prerequisites")
    )
    h = DialogHarness(knowledge, live=live)
    notice, answer = await h.send("what role do partner sellers need in Partner Center?")
    assert notice.startswith("I couldn't check your tenant right now (Partner Center answered 503)")
    assert "Referrals admin" in answer


async def test_entry_without_checks_is_answered_directly(knowledge) -> None:
    h = DialogHarness(knowledge, live=_live())
    [answer] = await h.send("Solution ID is required")
    assert "co-sell ready" in answer


async def test_checklist_walks_only_what_checks_did_not_confirm(knowledge) -> None:
    live = _live(
        _result("crm-roles", Status.passed, "System Administrator.", ("pre-crm-role",), "prerequisites"),
        _result("pc-referrals-role", Status.passed, "Can read referrals.", ("pre-pc-role",), "prerequisites"),
        _result("crm-currency", Status.fail, "No active currency.", ("pre-crm-fields",), "prerequisites"),
    )
    h = DialogHarness(knowledge, live=live)
    findings, first = await h.send("prerequisites")
    assert "✅" in findings and "❌" in findings and "step 1 of 6" in first  # pre-trial has no check
    [next_step] = await h.send("done")
    assert "step 4 of 6" in next_step  # steps 2 and 3 were confirmed by the live checks
    for _ in range(3):
        replies = await h.send("done")
    summary = replies[-1]
    assert knowledge.kb.get("pre-crm-role").en.check in summary and "Still open" not in summary
    assert h.journal.checklists[0][2]["pre-pc-role"] == "done" and h.journal.checklists[0][1] == Area.prerequisites


async def test_diagnose_everything_runs_the_full_sweep(knowledge) -> None:
    live = _live(
        _result("crm-roles", Status.passed, "System Administrator.", ("pre-crm-role",), "prerequisites"),
        _result("webhook-registration", Status.fail, "Events missing.", ("cfg-flows-wont-turn-on",), "configuration"),
    )
    h = DialogHarness(knowledge, live=live)
    [findings] = await h.send("diagnose everything")
    assert "✅" in findings and "❌" in findings and live.sweeps == [{"area": None, "ids": None}]


async def test_diagnose_without_live_checks_says_how(knowledge) -> None:
    [reply] = await DialogHarness(knowledge).send("verifica tutto", locale="it-IT")
    assert "non sono configurate" in reply


CHILD_FLOWS_OFF = _result(
    "flow-activation-order",
    Status.fail,
    "Child flows are off; turn them on before the parent.",
    ("cfg-activate-pc-to-crm",),
    "configuration",
    title_it='Flussi figlio attivi prima di "Partner Center to CRM"',
    summary_it="Alcuni flussi figlio sono disattivati: attivarli prima del flusso padre.",
)


async def test_italian_conversation_shows_the_italian_findings(knowledge) -> None:
    h = DialogHarness(knowledge, live=_live(CHILD_FLOWS_OFF), locale="it-IT")
    findings, answer = await h.send("Quali flussi figlio vanno attivati prima del flusso Partner Center to CRM?")
    assert findings.startswith("**Verifiche in tempo reale sul tuo tenant**")
    assert (
        '❌ Problema — **Flussi figlio attivi prima di "Partner Center to CRM"**: Alcuni flussi figlio sono disattivati'
        in findings
    )
    assert "Child flows" not in findings and "turn them on" not in findings
    assert "Ti è stato utile?" in answer


async def test_english_conversation_shows_the_english_findings(knowledge) -> None:
    h = DialogHarness(knowledge, live=_live(CHILD_FLOWS_OFF))
    findings, _answer = await h.send("which child flows must be on before the partner center to crm flow?")
    assert "❌ Problem — **Flow Activation Order**: Child flows are off; turn them on before the parent." in findings
    assert "Alcuni" not in findings and "Verifiche" not in findings


async def test_unreachable_tenant_in_italian_gives_the_italian_reason(knowledge) -> None:
    down = _result(
        "pc-referrals-role",
        Status.error,
        "Partner Center answered 503: Partner Center is not available right now.",
        ("pre-pc-role",),
        "prerequisites",
        title_it="Ruolo Amministratore delle segnalazioni (Referrals admin) in Partner Center",
        summary_it="Partner Center ha risposto 503: Partner Center al momento non è disponibile.",
    )
    h = DialogHarness(knowledge, live=_live(down), locale="it-IT")
    notice, _answer = await h.send("Quale ruolo serve ai venditori partner in Partner Center?")
    assert notice.startswith(
        "Non sono riuscito a verificare il tuo tenant in questo momento (Partner Center ha risposto 503: Partner "
        "Center al momento non è disponibile.)"
    )
    assert "answered" not in notice
