"""assistant/presenters/markdown.py and marks.py: what text channels show, with the one table of status marks."""

from __future__ import annotations

from assistant.presenters.markdown import (
    entry_markdown,
    findings_markdown,
    outcome_markdown,
    report_markdown,
    summary_markdown,
)
from assistant.presenters.marks import MARKS, mark
from knowledge.models import Area
from tenant.base import CheckResult, Status, System
from tenant.remediation import RemediationOutcome, RemediationPlan, RemediationStep, StepResult

PASSED = CheckResult(id="a", title="A", system=System.dataverse, status=Status.passed, summary="fine")
FAILED = CheckResult(id="b", title="B", system=System.dataverse, status=Status.fail, summary="broken")
SKIPPED = CheckResult(id="c", title="C", system=System.dataverse, status=Status.skipped, summary="No client.")


def test_every_status_has_one_mark_and_unknown_ones_a_bullet() -> None:
    assert {s.value for s in Status} <= set(MARKS)
    assert mark("pass") == mark("done") == mark("ok") == "✅" and mark("fail") == mark("broken") == "❌"
    assert mark("nonsense") == "•"


def test_an_entry_reads_as_lead_numbered_steps_and_indented_sub_steps(knowledge) -> None:  # type: ignore[no-untyped-def]
    text = entry_markdown(knowledge.kb.get("cfg-activate-pc-to-crm"), "en")
    assert text.startswith("**") and "\n1. " in text and "\n    - Partner Center to CRM - Helper" in text


def test_findings_list_each_check_and_nothing_checked_is_one_line() -> None:
    text = findings_markdown([PASSED, FAILED], "en")
    assert "- ✅ OK — **A**: fine" in text and "- ❌ Problem — **B**: broken" in text
    only = findings_markdown([SKIPPED], "en")
    assert "\n- " not in only and "No client." in only


def test_a_checklist_summary_groups_items_by_outcome(knowledge) -> None:  # type: ignore[no-untyped-def]
    entries = knowledge.kb.area(Area.prerequisites)
    results = {entries[0].id: "done", entries[1].id: "open"}
    text = summary_markdown(knowledge.kb, Area.prerequisites, results, "en")
    assert f"✅ Done — {entries[0].content('en').check}" in text
    assert f"❌ Open — {entries[1].content('en').check}" in text
    assert f"⏭️ Skipped — {entries[2].content('en').check}" in text  # not reached: skipped


def test_a_fix_report_marks_steps_and_appends_the_checks_found_again() -> None:
    step = RemediationStep(kind="start-flow", flow="Helper", flow_id="f")
    plan = RemediationPlan(action="start-flows-in-order", check_id="b", steps=(step,))
    outcome = RemediationOutcome(
        action=plan.action,
        results=(StepResult(step=step, ok=True), StepResult(step=step, ok=False, detail="403")),
        verified=(FAILED.model_copy(update={"status": Status.passed, "summary": "now fine"}),),
    )
    assert "❌" in outcome_markdown(outcome, "en") and ": 403" in outcome_markdown(outcome, "en")
    report = report_markdown(outcome, plan, "it")
    assert report.startswith(outcome_markdown(outcome, "it")) and "- ✅ OK — **B**: now fine" in report
    assert report_markdown(outcome.model_copy(update={"verified": ()}), plan, "en") == outcome_markdown(outcome, "en")
