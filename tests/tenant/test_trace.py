"""The referral sync trace is a view of one sweep: each hop's verdict is its checks' verdict, nothing else."""

from __future__ import annotations

import pytest

from tenant.base import CheckResult, Fix, Status, System
from tenant.trace import OTHER_HOP, inputs_in, trace_from

REFERRAL = "c5fb0000-0000-4000-8000-000000000001"


def _result(check_id: str, status: Status, summary: str = "found", entry: str | None = None) -> CheckResult:
    fix = Fix(entry=entry) if entry else None
    return CheckResult(
        id=check_id, title=check_id, system=System.partner_center, status=status, summary=summary,
        summary_it=f"it: {summary}", entries=(entry,) if entry else (), fix=fix,
        evidence={"referral_id": REFERRAL} if check_id == "referral-sync" else {},
    )  # fmt: skip


HEALTHY = [
    _result("storage-capacity", Status.passed),
    _result("connector-flows", Status.passed),
    _result("webhook-registration", Status.passed),
    _result("referral-sync", Status.passed),
    _result("crm-opportunity-sync", Status.passed),
    _result("failed-runs", Status.passed),
]


def test_hops_follow_the_referral_and_end_with_the_rest_of_the_tenant() -> None:
    trace = trace_from(HEALTHY)
    assert [h.name for h in trace.hops] == ["referral", "webhook", "flow", "runs", "crm-record", OTHER_HOP]
    assert trace.broken_at is None and trace.referral_id == REFERRAL
    assert trace.verdicts() == {r.id: "pass" for r in HEALTHY}
    assert trace.hops[-1].detail == "The other 1 checks of the tenant pass."


@pytest.mark.parametrize(
    ("check", "hop"),
    [("webhook-registration", "webhook"), ("crm-opportunity-sync", "crm-record"), ("storage-capacity", OTHER_HOP)],
)
def test_a_failed_check_breaks_its_hop_with_its_words_and_entry(check, hop) -> None:
    results = [r if r.id != check else _result(check, Status.fail, "broken because X", "cfg-x") for r in HEALTHY]
    trace = trace_from(results, lang="it")
    assert trace.broken_at == hop
    broken = next(h for h in trace.hops if h.name == hop)
    assert (broken.detail, broken.entry, broken.checks[check]) == ("it: broken because X", "cfg-x", "fail")
    assert [h.name for h in trace.hops if h.status == "broken"] == [hop]


def test_a_hop_nobody_could_look_at_is_unknown_not_ok() -> None:
    results = [r if r.id != "webhook-registration" else _result(r.id, Status.error, "503") for r in HEALTHY]
    results.append(_result("flow-activation-order", Status.skipped, "no credential"))
    trace = trace_from(results)
    by_name = {h.name: h for h in trace.hops}
    assert by_name["webhook"].status == "unknown" and by_name["webhook"].detail == "503"
    assert by_name["flow"].status == "ok"  # connector-flows looked; the skipped one does not hide it


@pytest.mark.parametrize(
    ("text", "inputs"),
    [
        (f"referral {REFERRAL} never reaches Dynamics", {"referral_id": REFERRAL}),
        (f"L'opportunità {REFERRAL.upper()} non arriva", {"opportunity_id": REFERRAL.upper()}),
        (f"crm id {REFERRAL} is not synced", {"opportunity_id": REFERRAL}),
        ("referrals never reach dynamics", {}),
        (None, {}),
    ],
)
def test_the_record_a_question_names_becomes_the_checks_inputs(text, inputs) -> None:
    assert inputs_in(text) == inputs
