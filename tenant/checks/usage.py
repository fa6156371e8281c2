"""API usage: a forecast of the connector's daily Partner Center calls against the paid connector's 10K/day.

No API reads that quota (external-apis.md §1.7: it appears in no API reference, and newer docs call the solutions
free), so the check forecasts from what can be read: the connector flows' run history in Dataverse (`flowruns`),
at one Partner Center call per run — a lower bound, as the calls a run makes are not documented (UNVERIFIED).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from knowledge.messages import phrase
from tenant.base import Check, CheckContext, CheckResult, Fix, Status, System
from tenant.checks.common import Say, check, checks_from, client, normalize_flow_name
from tenant.checks.flows import connector_flows

if TYPE_CHECKING:  # annotations only: the clients (and httpx) load when a credential makes one (bot/live.py)
    from tenant.clients.dataverse import DataverseClient, FlowRunRecord

DV = System.dataverse
QUOTA_PER_DAY = 10_000  # the paid connector's API calls per day, as the FAQ states it (pre-trial)
CALLS_PER_RUN = 1  # at least one Partner Center call per connector flow run (UNVERIFIED)
WINDOW_DAYS = 7
WARN_RATIO = 0.8


def _ours(runs: list[FlowRunRecord], ids: set[str], names: set[str]) -> list[FlowRunRecord]:
    """The runs of the connector's flows, matched by workflow id, else by flow name."""
    return [
        r
        for r in runs
        if (r.workflow_id or "").strip("{}").casefold() in ids or normalize_flow_name(r.workflow_name or "") in names
    ]


def _daily_peak(runs: list[FlowRunRecord], now: datetime, capped: bool) -> tuple[float, str]:
    """Runs in the busiest 24 hours of the window; when the history was cut short, the recent rate per day
    instead (the rows are newest first, so the cut leaves the most recent span whole)."""
    starts = sorted(r.start_time for r in runs if r.start_time is not None)
    if not starts:
        return 0.0, "peak"
    if capped:
        span_days = max((now - starts[0]).total_seconds() / 86_400, 1 / 24)
        return len(starts) / span_days, "rate"
    peak, first = 0, 0
    for last, start in enumerate(starts):  # a sliding 24-hour window ending at each run
        while start - starts[first] >= timedelta(days=1):
            first += 1
        peak = max(peak, last - first + 1)
    return float(peak), "peak"


@check("api-quota-forecast")
async def _api_quota_forecast(ctx: CheckContext, say: Say) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    flows, source = await connector_flows(ctx)
    now = datetime.now(UTC)
    history, capped = await dv.run_history(now - timedelta(days=WINDOW_DAYS))
    runs = _ours(history, {f.id.strip("{}").casefold() for f in flows}, {normalize_flow_name(f.name) for f in flows})
    daily, basis = _daily_peak(runs, now, capped)
    forecast = round(daily * CALLS_PER_RUN)
    by_flow = Counter(r.workflow_name or r.workflow_id or "?" for r in runs)
    evidence = {
        "days": WINDOW_DAYS,
        "runs": len(runs),
        "runs_per_day": round(daily, 1),
        "basis": basis,  # peak: busiest 24 hours of the window; rate: recent rate (history cut at the read cap)
        "forecast_calls_per_day": forecast,
        "quota_per_day": QUOTA_PER_DAY,
        "used_pct": round(100 * forecast / QUOTA_PER_DAY, 1),
        "calls_per_run": CALLS_PER_RUN,
        "by_flow": dict(by_flow.most_common(5)),
        "flows_from": source,
    }
    share = forecast / QUOTA_PER_DAY
    if forecast >= WARN_RATIO * QUOTA_PER_DAY:
        status = Status.fail if forecast >= QUOTA_PER_DAY else Status.warn
        fix = Fix(entry="pre-trial", detail="Reduce sync volume or plan for the quota before runs start failing.")
        return say(
            "high",
            status,
            at_least=phrase("at-least") if capped else "",
            runs=round(daily),
            calls=forecast,
            share=share,
            quota=QUOTA_PER_DAY,
            evidence=evidence,
            entries=("pre-trial",),
            fix=fix,
        )
    return say(
        "within", Status.passed, calls=forecast, days=WINDOW_DAYS, share=share, quota=QUOTA_PER_DAY, evidence=evidence
    )


def usage_checks() -> list[Check]:
    """The daily API-call forecast."""
    return checks_from(__name__)
