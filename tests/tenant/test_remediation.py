"""Remediation against the simulated tenant over HTTP, with the real clients: children started before the parent,
failed runs resubmitted, the webhook re-registered; each verified by a fresh read or by the check passing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from devtools.sandbox import HOST, base_urls, create_sandbox_app, load_scenario
from tenant.base import CheckResult, CredentialMissing, Fix, Status, System
from tenant.checks.flows import flow_checks
from tenant.clients.flows import FlowClient
from tenant.clients.partner_center import REQUIRED_EVENTS, PartnerCenterClient
from tenant.remediation import (
    MAX_RESUBMITS,
    RemediationPlan,
    Remediator,
    UnknownAction,
    execute,
    plan,
)

PARENT = "aaaaaaaa-0000-4000-8000-000000000002"


@dataclass
class _Ctx:
    clients: Mapping[System, Any]
    inputs: Mapping[str, str] = field(default_factory=dict)


Tenant = Callable[[str], Awaitable[dict[System, Any]]]


@pytest.fixture
async def tenant(aiohttp_server) -> AsyncIterator[Tenant]:  # type: ignore[no-untyped-def]
    opened: list[httpx.AsyncClient] = []

    async def start(name: str) -> dict[System, Any]:
        scenario = load_scenario(name)
        server = await aiohttp_server(create_sandbox_app(scenario), host=HOST)
        auth = {"Authorization": "Bearer sandbox-token"}
        https = {k: httpx.AsyncClient(base_url=u, headers=auth, timeout=5) for k, u in base_urls(server.port).items()}
        opened.extend(https.values())
        pc = PartnerCenterClient(https["partner_center_referrals"], https["partner_center_webhooks"])
        flows = FlowClient(https["power_automate"], scenario.tenant.environment_id)
        return {System.partner_center: pc, System.power_automate: flows}

    yield start
    for http in opened:
        await http.aclose()


async def _check(check_id: str, clients: Mapping[System, Any]) -> CheckResult:
    check = next(c for c in flow_checks() if c.id == check_id)
    return await check.run(_Ctx(clients))


async def test_flows_are_started_children_first_then_the_parent(tenant: Tenant) -> None:
    clients = await tenant("child-flows-off")
    finding = await _check("flow-activation-order", clients)
    assert finding.status is Status.fail and finding.fix and finding.fix.action == "start-flows-in-order"
    preview = await plan("start-flows-in-order", finding, clients)
    names = [s.flow for s in preview.steps]
    assert names[-1].startswith("Partner Center to Dynamics 365") and len(names) == 3
    assert all(s.kind == "start-flow" for s in preview.steps)
    assert preview.before["flows"][names[-1]] == "Stopped"
    outcome = await execute(preview, clients)
    assert outcome.ok and [r.ok for r in outcome.results] == [True, True, True]
    assert all(outcome.after["flows"][n] == "Started" for n in names)
    states = {f.display_name: f.state for f in await clients[System.power_automate].list_flows()}
    assert all(states[n] == "Started" for n in names)  # a fresh re-read agrees
    assert (await _check("flow-activation-order", clients)).status is Status.passed


async def test_starting_the_parent_first_stops_at_the_first_failure(tenant: Tenant) -> None:
    clients = await tenant("child-flows-off")
    finding = await _check("flow-activation-order", clients)
    good = await plan("start-flows-in-order", finding, clients)
    wrong = RemediationPlan.model_validate({**good.model_dump(), "steps": list(reversed(good.steps))})
    outcome = await execute(wrong, clients)
    assert not outcome.ok and len(outcome.results) == 1 and outcome.not_run == 2
    failure = outcome.failure
    assert failure is not None and failure.step.flow_id == PARENT and failure.detail
    assert outcome.after["flows"][failure.step.flow] == "Stopped"  # nothing after the failure was attempted


async def test_webhook_is_reregistered_with_all_four_events(tenant: Tenant) -> None:
    clients = await tenant("webhook-missing-events")
    finding = await _check("webhook-registration", clients)
    assert finding.status is Status.fail and finding.fix and finding.fix.action == "register-webhook"
    preview = await plan("register-webhook", finding, clients)
    [step] = preview.steps
    assert step.events == REQUIRED_EVENTS and step.host == "prod-00.westeurope.logic.azure.com"
    assert "sig=" not in preview.model_dump_json()  # the signed URL is never kept in a plan
    assert preview.before == {
        "registered": True,
        "events": ["referral-created", "referral-updated"],
        "host": "prod-00.westeurope.logic.azure.com",
    }
    outcome = await execute(preview, clients)
    assert outcome.ok and outcome.after["events"] == list(REQUIRED_EVENTS)
    assert (await _check("webhook-registration", clients)).status is Status.passed


async def test_failed_runs_are_resubmitted(tenant: Tenant) -> None:
    clients = await tenant("trigger-not-found")
    finding = await _check("failed-runs", clients)
    assert finding.status is Status.fail and finding.fix and finding.fix.action == "resubmit-failed-runs"
    preview = await plan("resubmit-failed-runs", finding, clients)
    assert [s.run_id for s in preview.steps] == [
        "08585000000000000000000000001CU01",
        "08585000000000000000000000002CU01",
    ]
    assert all(s.flow_id == PARENT for s in preview.steps)
    outcome = await execute(preview, clients)
    assert outcome.ok and outcome.after == {"resubmitted": [s.run_id for s in preview.steps]}


async def test_resubmit_is_capped_and_skips_runs_no_longer_failed(tenant: Tenant) -> None:
    clients = await tenant("trigger-not-found")
    finding = await _check("failed-runs", clients)
    real = finding.evidence["runs"][0]
    extra = [{**real, "run_id": f"gone-{n}"} for n in range(3)]
    many = finding.model_copy(update={"evidence": {**finding.evidence, "runs": [real] * 25 + extra}})
    preview = await plan("resubmit-failed-runs", many, clients)
    assert len(preview.steps) == MAX_RESUBMITS and preview.skipped == 25 + 3 - MAX_RESUBMITS


async def test_unknown_action_and_missing_client_are_live_check_errors(tenant: Tenant) -> None:
    clients = await tenant("healthy")
    finding = CheckResult(
        id="x", title="X", system=System.power_automate, status=Status.fail, summary="s", fix=Fix(action="reboot")
    )
    with pytest.raises(UnknownAction):
        await plan("reboot", finding, clients)
    with pytest.raises(CredentialMissing):
        await plan("register-webhook", finding, {System.power_automate: clients[System.power_automate]})


async def test_healthy_tenant_has_nothing_to_start(tenant: Tenant) -> None:
    clients = await tenant("healthy")
    finding = CheckResult(id="connector-flows", title="X", system=System.power_automate, status=Status.fail, summary="")
    assert (await plan("start-flows-in-order", finding, clients)).steps == ()


def test_allow_list_matches_any_id_case_insensitively() -> None:
    remediator = Remediator({}, ["Admin-1", " 0000-AAD ", ""])
    assert remediator.allowed("admin-1") and remediator.allowed(None, "0000-aad")
    assert not remediator.allowed("user-1", None) and not Remediator({}, []).allowed("admin-1")
