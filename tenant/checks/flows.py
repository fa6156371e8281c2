"""Configuration and maintenance checks on the connector's flows: state, activation order, webhook, failed runs."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

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
    client,
    connector_flow,
    declare,
    finding,
    host,
    same_url,
    start_order,
)
from tenant.clients.dataverse import DataverseClient
from tenant.clients.flows import FlowClient, FlowRun
from tenant.clients.partner_center import PartnerCenterClient

PC, PA, DV = System.partner_center, System.power_automate, System.dataverse
_DV_STATES = {0: "Draft", 1: "Activated", 2: "Suspended"}
_MAX_RUNS_IN_EVIDENCE = 20
# (English, Italian) title per check id
_TITLES = {
    "connector-flows": ("Connector flows are on", "Flussi del connettore attivi"),
    "flow-activation-order": (
        "Child flows on before Partner Center to CRM",
        'Flussi figlio attivi prima di "Partner Center to CRM"',
    ),
    "webhook-registration": ("Partner Center webhook registration", "Registrazione del webhook di Partner Center"),
    "failed-runs": ("Failed flow runs", "Esecuzioni di flussi non riuscite"),
}


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
        raise CredentialMissing(
            PA,
            "No credential configured for power_automate or dataverse: check skipped.",
            message_it="Nessuna credenziale configurata per power_automate o dataverse: verifica saltata.",
        )
    return await _from_dataverse(dv), DV.value


async def _connector_flows(ctx: CheckContext) -> CheckResult:
    flows, source = await connector_flows(ctx)
    title, title_it = _TITLES["connector-flows"]
    args = ("connector-flows", title, PA if source == PA.value else DV)
    fix = Fix(entry="cfg-flows-wont-turn-on", action="start-flows-in-order")
    if not flows:
        summary = "No connector flow found: is the co-sell referrals solution installed in this environment?"
        return finding(
            *args,
            Status.fail,
            summary,
            summary_it="Nessun flusso del connettore trovato: la soluzione per le segnalazioni di co-sell è "
            "installata in questo ambiente?",
            title_it=title_it,
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
        return finding(
            *args,
            Status.passed,
            f"All {len(flows)} connector flows are on.",
            summary_it=f"Tutti i flussi del connettore ({len(flows)}) sono attivi.",
            title_it=title_it,
            evidence=evidence,
        )
    evidence["start_order"] = start_order(off)
    names = ", ".join(f.name for f in off)
    summary = f"{len(off)} of {len(flows)} connector flows are off: {names}."
    one = len(off) == 1
    summary_it = (
        f"{len(off)} {'flusso' if one else 'flussi'} del connettore su {len(flows)} "
        f"{'è disattivato' if one else 'sono disattivati'}: {names}."
    )
    return finding(
        *args,
        Status.fail,
        summary,
        summary_it=summary_it,
        title_it=title_it,
        evidence=evidence,
        entries=("cfg-flows-wont-turn-on",),
        fix=fix,
    )


async def _flow_activation_order(ctx: CheckContext) -> CheckResult:
    flows, source = await connector_flows(ctx)
    title, title_it = _TITLES["flow-activation-order"]
    args = ("flow-activation-order", title, PA if source == PA.value else DV)
    parents = [f for f in flows if f.role == "parent"]
    if not parents:
        return finding(
            *args,
            Status.skipped,
            "No Partner Center to CRM flow found.",
            summary_it='Nessun flusso "Partner Center to CRM" trovato.',
            title_it=title_it,
            evidence={"source": source},
        )
    to_start: list[ConnectorFlow] = []
    for parent in parents:
        # the FAQ names the children generically ("Partner Center to CRM - Helper") next to a
        # "Partner Center to Dynamics 365" parent, so a "CRM" child belongs to every parent
        children_off = [f for f in flows if f.role == "child" and f.crm in (parent.crm, "CRM") and not f.on]
        if children_off:
            to_start.extend(children_off + ([] if parent.on else [parent]))
    evidence: dict[str, Any] = {"source": source, "parents": {p.name: "on" if p.on else "off" for p in parents}}
    if not to_start:
        off = ", ".join(p.name for p in parents if not p.on)
        summary = "The child flows are on" + (f"; {off} can now be turned on." if off else ".")
        summary_it = "I flussi figlio sono attivi" + (f"; ora è possibile attivare {off}." if off else ".")
        return finding(*args, Status.passed, summary, summary_it=summary_it, title_it=title_it, evidence=evidence)
    order = list(dict.fromkeys(start_order(to_start)))
    evidence["children_off"] = [f.name for f in to_start if f.role == "child"]
    evidence["start_order"] = order
    summary = f"Child flows are off; turn them on before the parent, in this order: {', '.join(order)}."
    summary_it = (
        f"Alcuni flussi figlio sono disattivati: attivarli prima del flusso padre, in quest'ordine: {', '.join(order)}."
    )
    return finding(
        *args,
        Status.fail,
        summary,
        summary_it=summary_it,
        title_it=title_it,
        evidence=evidence,
        entries=("cfg-activate-pc-to-crm",),
        fix=Fix(entry="cfg-activate-pc-to-crm", action="start-flows-in-order"),
    )


async def _webhook_registration(ctx: CheckContext) -> CheckResult:
    pc: PartnerCenterClient = client(ctx, PC)
    flows: FlowClient = client(ctx, PA)
    title, title_it = _TITLES["webhook-registration"]
    args = ("webhook-registration", title, PC)
    fix = Fix(entry="cfg-flows-wont-turn-on", action="register-webhook")
    entries = ("cfg-flows-wont-turn-on",)
    registration = await pc.get_webhook_registration()
    if registration is None:
        return finding(
            *args,
            Status.fail,
            "The Partner Center webhook is not registered.",
            summary_it="Il webhook di Partner Center non è registrato.",
            title_it=title_it,
            evidence={"registered": False},
            entries=entries,
            fix=fix,
        )
    problems: list[tuple[str, str]] = []  # (English, Italian)
    evidence: dict[str, Any] = {
        "registered": True,
        "events": list(registration.webhook_events),
        "missing_events": list(registration.missing_events),
        "registered_host": host(registration.webhook_url),
    }
    if registration.missing_events:
        missing = ", ".join(registration.missing_events)
        problems.append((f"events not registered: {missing}", f"eventi non registrati: {missing}"))
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
                problems.append(
                    (
                        "registered URL differs from the flow's current HTTP trigger URL",
                        "l'URL registrato è diverso dall'URL attuale del trigger HTTP del flusso",
                    )
                )
    if problems:
        summary = _sentence([en for en, _it in problems])
        summary_it = _sentence([it for _en, it in problems])
        return finding(
            *args,
            Status.fail,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=entries,
            fix=fix,
        )
    if evidence["url"] == "not compared":
        summary = "All four events are registered; the URL could not be compared with the flow's HTTP trigger."
        summary_it = (
            "Tutti e quattro gli eventi sono registrati; non è stato possibile confrontare l'URL con il trigger HTTP "
            "del flusso."
        )
        return finding(
            *args, Status.warn, summary, summary_it=summary_it, title_it=title_it, evidence=evidence, entries=entries
        )
    summary = "All four events are registered and the URL matches the flow's HTTP trigger."
    summary_it = "Tutti e quattro gli eventi sono registrati e l'URL corrisponde al trigger HTTP del flusso."
    return finding(*args, Status.passed, summary, summary_it=summary_it, title_it=title_it, evidence=evidence)


def _sentence(parts: list[str]) -> str:
    """Clauses joined with "; ", capitalised, with a full stop."""
    joined = "; ".join(parts)
    return joined[0].upper() + joined[1:] + "."


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


async def _failed_runs(ctx: CheckContext) -> CheckResult:
    flows: FlowClient = client(ctx, PA)
    days = _days(ctx)
    since = datetime.now(UTC) - timedelta(days=days)
    targets = await _from_flow_api(flows)
    title, title_it = _TITLES["failed-runs"]
    args = ("failed-runs", title, PA)
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
        return finding(
            *args,
            Status.passed,
            f"No failed runs of the connector flows in the last {days} days.",
            summary_it=f"Nessuna esecuzione non riuscita dei flussi del connettore negli ultimi {days} giorni.",
            title_it=title_it,
            evidence=evidence,
        )
    ranked = by_code.most_common()
    evidence.update(by_code=dict(ranked), by_flow=by_flow, runs=runs[:_MAX_RUNS_IN_EVIDENCE])
    entries = [entry_for_code(code) for code, _count in ranked]
    codes = ", ".join(f"{code} ×{count}" for code, count in ranked)
    failed = sum(by_code.values())
    summary = f"{failed} failed runs in the last {days} days: {codes}."
    some = "esecuzione non riuscita" if failed == 1 else "esecuzioni non riuscite"
    summary_it = f"{failed} {some} negli ultimi {days} giorni: {codes}."
    fix = Fix(entry=entries[0], action="resubmit-failed-runs", detail="Resubmit once the cause is fixed.")
    return finding(
        *args,
        Status.fail,
        summary,
        summary_it=summary_it,
        title_it=title_it,
        evidence=evidence,
        entries=entries,
        fix=fix,
    )


def flow_checks() -> list[Check]:
    """Connector flows, activation order, webhook registration, failed runs."""
    # connector-flows and flow-activation-order accept either client, so they declare no credential the runner
    # could require; connector_flows() skips them when neither client is there.
    return [
        declare(
            _TITLES,
            "connector-flows",
            systems=(PA, DV),
            entries=("cfg-flows-wont-turn-on",),
            area="configuration",
            estimated_calls=1,
            run=_connector_flows,
        ),
        declare(
            _TITLES,
            "flow-activation-order",
            systems=(PA, DV),
            entries=("cfg-activate-pc-to-crm",),
            area="configuration",
            estimated_calls=1,
            run=_flow_activation_order,
        ),
        declare(
            _TITLES,
            "webhook-registration",
            systems=(PC, PA),
            needs=(PC.value, PA.value),
            entries=("cfg-flows-wont-turn-on",),
            area="configuration",
            estimated_calls=3,
            run=_webhook_registration,
        ),
        declare(
            _TITLES,
            "failed-runs",
            systems=(PA,),
            needs=(PA.value,),
            entries=("run-flow-failures", "run-disconnected", "run-access-denied", "cfg-workflow-trigger-not-found"),
            area="maintenance",
            estimated_calls=9,
            run=_failed_runs,
        ),
    ]
