"""Configuration and maintenance checks on the connector's flows: state, activation order, webhook, failed runs."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from knowledge.messages import Phrase, phrase
from tenant.base import (
    Check,
    CheckContext,
    CheckResult,
    CredentialMissing,
    Fix,
    LiveCheckFailed,
    Status,
    System,
)
from tenant.checks.common import (
    ConnectorFlow,
    Say,
    check,
    checks_from,
    client,
    connector_flow,
    host,
    same_url,
    start_order,
)
from tenant.texts import said

if TYPE_CHECKING:  # annotations only: the clients (and httpx) load when a credential makes one (bot/live.py)
    from tenant.clients.dataverse import DataverseClient
    from tenant.clients.flows import FlowClient, FlowRun
    from tenant.clients.partner_center import PartnerCenterClient

PC, PA, DV = System.partner_center, System.power_automate, System.dataverse
_DV_STATES = {0: "Draft", 1: "Activated", 2: "Suspended"}
_MAX_RUNS_IN_EVIDENCE = 20


async def _from_flow_api(flows: FlowClient) -> list[ConnectorFlow]:
    found = [
        connector_flow(f.name, f.display_name, f.state == "Started", f.state or "Unknown", tuple(f.trigger_names))
        for f in await flows.list_flows()
    ]
    return [f for f in found if f is not None]


async def _from_dataverse(dv: DataverseClient) -> list[ConnectorFlow]:
    found = [
        connector_flow(
            w.id, w.name, w.statecode == 1, _DV_STATES.get(w.statecode or 0, "Unknown"), tuple(w.trigger_names)
        )
        for w in await dv.cloud_flows()
    ]
    return [f for f in found if f is not None]


async def connector_flows(ctx: CheckContext) -> tuple[list[ConnectorFlow], str]:
    """The connector's flows and where they were read: the Flow API, or Dataverse when that is all there is
    (or when the unsupported Flow API refuses or changed shape)."""
    flows, dv = ctx.clients.get(PA), ctx.clients.get(DV)
    if flows is not None:
        try:
            return await _from_flow_api(flows), PA.value
        except LiveCheckFailed:
            if dv is None:
                raise
    if dv is None:
        raise CredentialMissing(PA, said("no-flow-credential"))
    return await _from_dataverse(dv), DV.value


@check("connector-flows")
async def _connector_flows(ctx: CheckContext, say: Say) -> CheckResult:
    flows, source = await connector_flows(ctx)
    system = PA if source == PA.value else DV
    fix = Fix(entry="cfg-flows-wont-turn-on", action="start-flows-in-order")
    if not flows:
        return say(
            "none-found",
            Status.fail,
            system=system,
            evidence={"source": source, "found": []},
            entries=("cfg-flows-wont-turn-on",),
            fix=Fix(entry="cfg-flows-wont-turn-on"),
        )
    off = [f for f in flows if not f.on]
    evidence: dict[str, Any] = {
        "source": source,
        "found": [f.name for f in flows],
        "off": {f.name: f.state for f in off},
    }
    if not off:
        return say("all-on", Status.passed, system=system, flows=len(flows), evidence=evidence)
    evidence["start_order"] = start_order(off)
    return say(
        "some-off",
        Status.fail,
        system=system,
        off=len(off),
        flows=len(flows),
        names=[f.name for f in off],
        evidence=evidence,
        entries=("cfg-flows-wont-turn-on",),
        fix=fix,
    )


@check("flow-activation-order")
async def _flow_activation_order(ctx: CheckContext, say: Say) -> CheckResult:
    flows, source = await connector_flows(ctx)
    system = PA if source == PA.value else DV
    parents = [f for f in flows if f.role == "parent"]
    if not parents:
        return say("no-parent", Status.skipped, system=system, evidence={"source": source})
    to_start: list[ConnectorFlow] = []
    for parent in parents:
        # the FAQ names the children generically ("Partner Center to CRM - Helper") next to a
        # "Partner Center to Dynamics 365" parent, so a "CRM" child belongs to every parent
        children_off = [f for f in flows if f.role == "child" and f.crm in (parent.crm, "CRM") and not f.on]
        if children_off:
            to_start.extend(children_off + ([] if parent.on else [parent]))
    evidence: dict[str, Any] = {"source": source, "parents": {p.name: "on" if p.on else "off" for p in parents}}
    if not to_start:
        if off := [p.name for p in parents if not p.on]:
            return say("children-on-parent-off", Status.passed, system=system, parents=off, evidence=evidence)
        return say("children-on", Status.passed, system=system, evidence=evidence)
    order = list(dict.fromkeys(start_order(to_start)))
    evidence["children_off"] = [f.name for f in to_start if f.role == "child"]
    evidence["start_order"] = order
    return say(
        "children-off",
        Status.fail,
        system=system,
        order=order,
        evidence=evidence,
        entries=("cfg-activate-pc-to-crm",),
        fix=Fix(entry="cfg-activate-pc-to-crm", action="start-flows-in-order"),
    )


@check("webhook-registration")
async def _webhook_registration(ctx: CheckContext, say: Say) -> CheckResult:
    pc: PartnerCenterClient = client(ctx, PC)
    flows: FlowClient = client(ctx, PA)
    fix = Fix(entry="cfg-flows-wont-turn-on", action="register-webhook")
    entries = ("cfg-flows-wont-turn-on",)
    registration = await pc.get_webhook_registration()
    if registration is None:
        return say("not-registered", Status.fail, evidence={"registered": False}, entries=entries, fix=fix)
    problems: list[Phrase] = []
    evidence: dict[str, Any] = {
        "registered": True,
        "events": list(registration.webhook_events),
        "missing_events": list(registration.missing_events),
        "registered_host": host(registration.webhook_url),
    }
    if registration.missing_events:
        problems.append(phrase("events-missing", events=list(registration.missing_events)))
    target = next((f for f in await _from_flow_api(flows) if f.role == "parent"), None)
    if target is None:
        evidence["url"] = "not compared"
    else:
        evidence["flow"] = target.name
        try:
            current = await flows.callback_url(target.id, target.trigger)
        except LiveCheckFailed:
            current = None
        if current is None or registration.webhook_url is None:
            evidence["url"] = "not compared"
        else:
            evidence["flow_host"] = host(current)
            evidence["url"] = "matches" if same_url(registration.webhook_url, current) else "differs"
            if evidence["url"] == "differs":
                registered, flow_host = evidence["registered_host"] or "?", evidence["flow_host"] or "?"
                key = "url-differs" if registered != flow_host else "url-differs-same-host"
                problems.append(phrase(key, registered=registered, current=flow_host))
    if problems:
        return say("problems", Status.fail, problems=problems, evidence=evidence, entries=entries, fix=fix)
    if evidence["url"] == "not compared":
        return say("url-not-compared", Status.warn, evidence=evidence, entries=entries)
    return say("registered", Status.passed, evidence=evidence)


_CODE_ENTRIES = {
    "workflowtriggernotfound": "cfg-workflow-trigger-not-found",
    "unauthorized": "run-access-denied",
    "forbidden": "run-access-denied",
    "401": "run-access-denied",
    "403": "run-access-denied",
    "connectionauthorizationfailed": "run-disconnected",
    "invalidconnection": "run-disconnected",
    "unauthenticated": "run-disconnected",
}


def entry_for_code(code: str | None) -> str:
    """The FAQ entry for a failed run's error code."""
    return _CODE_ENTRIES.get((code or "").strip().casefold(), "run-flow-failures")


def _days(ctx: CheckContext) -> int:
    try:
        return min(max(int(ctx.inputs.get("days", "7")), 1), 28)
    except ValueError:
        return 7


@check("failed-runs")
async def _failed_runs(ctx: CheckContext, say: Say) -> CheckResult:
    flows: FlowClient = client(ctx, PA)
    days = _days(ctx)
    since = datetime.now(UTC) - timedelta(days=days)
    targets = await _from_flow_api(flows)
    runs_per_flow: list[list[FlowRun]] = list(
        await asyncio.gather(*(flows.failed_runs(f.id, since=since) for f in targets))
    )
    by_code: Counter[str] = Counter()
    by_flow: dict[str, int] = {}
    runs: list[dict[str, str | None]] = []
    for flow, found in zip(targets, runs_per_flow, strict=True):
        if found:
            by_flow[flow.name] = len(found)
        for run in found:
            code = run.error_code or "Unknown"
            by_code[code] += 1
            runs.append(
                {
                    "flow_id": flow.id,
                    "flow": flow.name,
                    "run_id": run.name,
                    "code": code,
                    "trigger": run.trigger_name or flow.trigger,
                }
            )
    evidence: dict[str, Any] = {"days": days, "flows": len(targets), "failed": sum(by_code.values())}
    if not by_code:
        return say("none", Status.passed, days=days, evidence=evidence)
    ranked = by_code.most_common()
    evidence.update(by_code=dict(ranked), by_flow=by_flow, runs=runs[:_MAX_RUNS_IN_EVIDENCE])
    entries = [entry_for_code(code) for code, _count in ranked]
    codes = [phrase("code-count", code=code, count=count) for code, count in ranked]
    fix = Fix(entry=entries[0], action="resubmit-failed-runs", detail="Resubmit once the cause is fixed.")
    return say(
        "failed",
        Status.fail,
        failed=sum(by_code.values()),
        days=days,
        codes=codes,
        evidence=evidence,
        entries=entries,
        fix=fix,
    )


def flow_checks() -> list[Check]:
    """Connector flows, activation order, webhook registration, failed runs."""
    return checks_from(__name__)
