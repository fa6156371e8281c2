"""Confirm-gated remediations of live-check findings: plan (a preview of exactly what will change) and execute.

Three actions, named by `Fix.action` on a failed finding:

- ``start-flows-in-order``: turn on the connector flows that are off, child flows first, the parent last;
- ``resubmit-failed-runs``: resubmit the failed runs the finding listed (at most `MAX_RESUBMITS`);
- ``register-webhook``: PUT the Partner Center webhook registration with the four events and the current
  HTTP-trigger URL of the "Partner Center to <CRM>" flow.

A plan is built from the finding's evidence plus fresh reads, and holds ids, names and hosts only: the signed
trigger URL is read again when the plan is executed and never stored or shown (it carries a signature).
After the change, a `Remediator` given the checks (`Rechecks`, the app's check runner) drops their cached
results and re-runs the checks the change affects, so the outcome carries the verified state, not a stale finding.
SDK-free: the dialogs call this through their `Remediation` port.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tenant.base import CheckResult, CredentialMissing, LiveCheckError, LiveCheckFailed, System
from tenant.checks.common import ConnectorFlow, connector_flow, host, start_order

if TYPE_CHECKING:  # the clients (and httpx) load with the live checks' clients, not with the case model
    from tenant.clients.flows import FlowClient
    from tenant.clients.partner_center import PartnerCenterClient

log = logging.getLogger(__name__)

START_FLOWS = "start-flows-in-order"
RESUBMIT_RUNS = "resubmit-failed-runs"
REGISTER_WEBHOOK = "register-webhook"
ACTIONS = (START_FLOWS, RESUBMIT_RUNS, REGISTER_WEBHOOK)
MAX_RESUBMITS = 20

StepKind = Literal["start-flow", "resubmit-run", "register-webhook"]


class RemediationStep(BaseModel):
    """One change, with exactly what it touches (flow name and id, run id, events and URL host)."""

    model_config = ConfigDict(frozen=True)

    kind: StepKind
    flow: str  # display name of the flow started, resubmitted or whose trigger URL is registered
    flow_id: str
    run_id: str | None = None
    trigger: str = "manual"
    events: tuple[str, ...] = ()
    host: str | None = None  # host of the URL that will be registered; never the full signed URL

    def describe(self) -> str:
        """The step in one English sentence (logs and the CLI; the dialogs render their own, bilingually)."""
        if self.kind == "start-flow":
            return f"Turn on '{self.flow}'"
        if self.kind == "resubmit-run":
            return f"Resubmit run {self.run_id} of '{self.flow}'"
        return f"Register the webhook for {', '.join(self.events)} at https://{self.host}/… (trigger of '{self.flow}')"


class RemediationPlan(BaseModel):
    """What a remediation will change, and the state before it; `steps` empty means there is nothing to do."""

    model_config = ConfigDict(frozen=True)

    action: str
    check_id: str
    system: System | None = None  # the finding's system: what the change touches
    entries: tuple[str, ...] = ()
    steps: tuple[RemediationStep, ...] = ()
    before: dict[str, Any] = Field(default_factory=dict)
    skipped: int = 0  # runs listed beyond MAX_RESUBMITS or no longer failed

    @property
    def lines(self) -> list[str]:
        """The steps as English sentences."""
        return [step.describe() for step in self.steps]


class StepResult(BaseModel):
    """How one step went; `detail` is the client's plain error sentence when it failed."""

    model_config = ConfigDict(frozen=True)

    step: RemediationStep
    ok: bool
    detail: str | None = None


class RemediationOutcome(BaseModel):
    """What execution did: each step attempted (stopping at the first failure), and the state after."""

    model_config = ConfigDict(frozen=True)

    action: str
    results: tuple[StepResult, ...] = ()
    not_run: int = 0  # steps not attempted after a failure
    after: dict[str, Any] = Field(default_factory=dict)
    verified: tuple[CheckResult, ...] = ()  # the affected checks, re-run after the change (empty: not re-run)

    @property
    def ok(self) -> bool:
        """True when every step succeeded."""
        return self.not_run == 0 and all(r.ok for r in self.results)

    @property
    def failure(self) -> StepResult | None:
        """The step that failed, if any."""
        return next((r for r in self.results if not r.ok), None)


class UnknownAction(LiveCheckFailed):
    """A finding names a remediation this module does not implement."""


def _flow_client(clients: Mapping[System, Any]) -> FlowClient:
    found = clients.get(System.power_automate)
    if found is None:
        raise CredentialMissing(
            System.power_automate, "Changing flows needs the Power Automate credential, which is not configured."
        )
    return found  # type: ignore[no-any-return]


def _pc_client(clients: Mapping[System, Any]) -> PartnerCenterClient:
    found = clients.get(System.partner_center)
    if found is None:
        raise CredentialMissing(
            System.partner_center, "Registering the webhook needs the Partner Center credential, not configured."
        )
    return found  # type: ignore[no-any-return]


async def _connector_flows(flows: FlowClient) -> list[ConnectorFlow]:
    found = [
        connector_flow(f.name, f.display_name, f.state == "Started", f.state or "Unknown", tuple(f.trigger_names))
        for f in await flows.list_flows()
    ]
    return [f for f in found if f is not None]


def _states(found: list[ConnectorFlow]) -> dict[str, str]:
    return {f.name: f.state for f in found}


# --- plan -----------------------------------------------------------------------------------------------------


async def plan(action: str, finding: CheckResult, clients: Mapping[System, Any]) -> RemediationPlan:
    """The preview of `action` for `finding`, from its evidence and fresh reads (raises the LiveCheckError family)."""
    if action == START_FLOWS:
        return await _plan_start(finding, clients)
    if action == RESUBMIT_RUNS:
        return await _plan_resubmit(finding, clients)
    if action == REGISTER_WEBHOOK:
        return await _plan_webhook(finding, clients)
    raise UnknownAction(finding.system, f"I don't know how to apply the fix '{action}'.")


async def _plan_start(finding: CheckResult, clients: Mapping[System, Any]) -> RemediationPlan:
    found = await _connector_flows(_flow_client(clients))
    off = [f for f in found if not f.on]
    wanted = finding.evidence.get("start_order")
    if isinstance(wanted, list) and wanted:
        # only what the finding named (and is still off), in the order computed now
        off = [f for f in off if f.name in set(map(str, wanted))]
    by_name = {f.name: f for f in off}
    steps = tuple(RemediationStep(kind="start-flow", flow=name, flow_id=by_name[name].id) for name in start_order(off))
    return RemediationPlan(
        action=START_FLOWS,
        check_id=finding.id,
        system=finding.system,
        entries=finding.entries,
        steps=steps,
        before={"flows": _states(found)},
    )


def _listed_runs(finding: CheckResult) -> list[dict[str, Any]]:
    runs = finding.evidence.get("runs")
    if not isinstance(runs, list):
        return []
    return [r for r in runs if isinstance(r, dict) and r.get("flow_id") and r.get("run_id")]


async def _plan_resubmit(finding: CheckResult, clients: Mapping[System, Any]) -> RemediationPlan:
    flows = _flow_client(clients)
    listed = _listed_runs(finding)
    still_failed: dict[str, set[str]] = {}
    for flow_id in dict.fromkeys(str(r["flow_id"]) for r in listed):
        still_failed[flow_id] = {run.name for run in await flows.failed_runs(flow_id)}
    steps: list[RemediationStep] = []
    for run in listed:
        if str(run["run_id"]) not in still_failed.get(str(run["flow_id"]), set()):
            continue
        steps.append(
            RemediationStep(
                kind="resubmit-run",
                flow=str(run.get("flow") or run["flow_id"]),
                flow_id=str(run["flow_id"]),
                run_id=str(run["run_id"]),
                trigger=str(run.get("trigger") or "manual"),
            )
        )
    kept = steps[:MAX_RESUBMITS]
    before = {"failed_runs": [{"flow": s.flow, "run_id": s.run_id} for s in kept]}
    return RemediationPlan(
        action=RESUBMIT_RUNS,
        check_id=finding.id,
        system=finding.system,
        entries=finding.entries,
        steps=tuple(kept),
        before=before,
        skipped=len(listed) - len(kept),
    )


async def _parent_flow(flows: FlowClient, preferred: object) -> ConnectorFlow:
    parents = [f for f in await _connector_flows(flows) if f.role == "parent"]
    if not parents:
        raise LiveCheckFailed(System.power_automate, "No Partner Center to CRM flow found to register the webhook to.")
    return next((p for p in parents if p.name == preferred), parents[0])


def _registration_snapshot(registration: Any) -> dict[str, Any]:
    if registration is None:
        return {"registered": False}
    return {
        "registered": True,
        "events": list(registration.webhook_events),
        "host": host(registration.webhook_url),
    }


async def _plan_webhook(finding: CheckResult, clients: Mapping[System, Any]) -> RemediationPlan:
    from tenant.clients.partner_center import REQUIRED_EVENTS  # loaded with the client this plan just needed

    pc, flows = _pc_client(clients), _flow_client(clients)
    registration = await pc.get_webhook_registration()
    parent = await _parent_flow(flows, finding.evidence.get("flow"))
    url = await flows.callback_url(parent.id, parent.trigger)
    step = RemediationStep(
        kind="register-webhook",
        flow=parent.name,
        flow_id=parent.id,
        trigger=parent.trigger,
        events=REQUIRED_EVENTS,
        host=host(url),
    )
    return RemediationPlan(
        action=REGISTER_WEBHOOK,
        check_id=finding.id,
        system=finding.system,
        entries=finding.entries,
        steps=(step,),
        before=_registration_snapshot(registration),
    )


# --- execute --------------------------------------------------------------------------------------------------


async def execute(plan: RemediationPlan, clients: Mapping[System, Any]) -> RemediationOutcome:
    """Apply the plan's steps in order, stopping at the first failure, then read the state after."""
    results: list[StepResult] = []
    for step in plan.steps:
        try:
            await _apply(step, clients)
        except LiveCheckError as exc:
            log.warning("remediation %s failed at a %s step: %s", plan.action, step.kind, exc.status)
            results.append(StepResult(step=step, ok=False, detail=str(exc)))
            break
        results.append(StepResult(step=step, ok=True))
    not_run = len(plan.steps) - len(results)
    after = await _after(plan, clients, results)
    return RemediationOutcome(action=plan.action, results=tuple(results), not_run=not_run, after=after)


async def _apply(step: RemediationStep, clients: Mapping[System, Any]) -> None:
    if step.kind == "start-flow":
        await _flow_client(clients).start(step.flow_id)
    elif step.kind == "resubmit-run":
        await _flow_client(clients).resubmit(step.flow_id, step.run_id or "", step.trigger)
    else:
        flows = _flow_client(clients)
        url = await flows.callback_url(step.flow_id, step.trigger)
        if host(url) != step.host:  # the preview showed another host: don't register what was not confirmed
            raise LiveCheckFailed(
                System.power_automate, "The flow's trigger URL changed since the preview; nothing was registered."
            )
        await _pc_client(clients).put_webhook_registration(url, step.events)


async def _after(plan: RemediationPlan, clients: Mapping[System, Any], results: list[StepResult]) -> dict[str, Any]:
    try:
        if plan.action == START_FLOWS:
            return {"flows": _states(await _connector_flows(_flow_client(clients)))}
        if plan.action == REGISTER_WEBHOOK:
            return _registration_snapshot(await _pc_client(clients).get_webhook_registration())
    except LiveCheckError as exc:
        return {"unreadable": str(exc)}
    return {"resubmitted": [r.step.run_id for r in results if r.ok]}


# --- verify ---------------------------------------------------------------------------------------------------


class Rechecks(Protocol):
    """The live checks a remediation verifies its change with (the app's check runner, bot/live.py)."""

    async def recheck(self, plan: RemediationPlan) -> list[CheckResult]:
        """Drop the cached results of the checks `plan`'s change affects, run them again, return what they find."""


class Remediator:
    """Plans and executes remediations with the live clients, for the users on the admin allow-list.

    With `checks` (the app's check runner), every execution that changed something re-runs the
    affected checks: the outcome's `verified`, and their statuses in `after["verified"]` for the journal.
    """

    def __init__(self, clients: Mapping[System, Any], admins: Iterable[str], *, checks: Rechecks | None = None) -> None:
        self._clients = clients
        self._admins = frozenset(a.strip().casefold() for a in admins if a.strip())
        self._checks = checks

    def allowed(self, *user_ids: str | None) -> bool:
        """True when any of the user's ids (channel id, AAD object id) is on the allow-list; empty = nobody."""
        return any(uid and uid.strip().casefold() in self._admins for uid in user_ids)

    async def plan(self, action: str, finding: CheckResult) -> RemediationPlan:
        """See `plan`."""
        return await plan(action, finding, self._clients)

    async def execute(self, plan: RemediationPlan) -> RemediationOutcome:
        """See `execute`; then, when a step changed something, re-run the checks the change affects."""
        outcome = await execute(plan, self._clients)
        if self._checks is None or not any(r.ok for r in outcome.results):
            return outcome
        try:
            verified = await self._checks.recheck(plan)
        except Exception:  # the change is made: it must still be reported and journaled, only unverified
            log.exception("re-running the checks after remediation %s failed", plan.action)
            return outcome
        after = {**outcome.after, "verified": {r.id: r.status.value for r in verified}}
        return outcome.model_copy(update={"verified": tuple(verified), "after": after})
