"""FlowClient: request shapes on api.flow.microsoft.com, ARM-shaped parsing, capped paging, error mapping."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tenant.base import LiveCheckFailed, LiveCheckUnavailable, System
from tenant.clients.flows import Flow, FlowClient
from tests.fakes import offline as offline_on

BASE = "https://api.flow.microsoft.com"
ENV = "Default-72f988bf"
FLOWS = f"/providers/Microsoft.ProcessSimple/environments/{ENV}/flows"
FLOW_ID = "3f1c7a2e-0b5d-4a57-9d6b-1b2c3d4e5f60"
TOKEN = "eyJ-flow-secret"
SIGNED = f"https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig={TOKEN}"

Routes = dict[tuple[str, str], Sequence[httpx.Response]]


def offline(routes: Routes) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """Fail-on-unexpected transport for this client's host."""
    return offline_on(routes, "api.flow.microsoft.com")


async def run(routes: Routes, call: Any) -> tuple[Any, list[httpx.Request]]:
    transport, seen = offline(routes)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as http:
        return await call(FlowClient(http, ENV)), seen


def flow(name: str = FLOW_ID, *, state: str = "Started", definition: bool = True) -> dict[str, Any]:
    props: dict[str, Any] = {
        "displayName": "Partner Center to Dynamics 365 (Insider Preview)",
        "state": state,
        "isManaged": True,
        "createdTime": "2024-01-10T08:00:00Z",
        "connectionReferences": {
            "shared_commondataserviceforapps": {
                "connectionName": "shared-commondataser-1a2b",
                "id": "/providers/Microsoft.PowerApps/apis/shared_commondataserviceforapps",
                "displayName": "Microsoft Dataverse",
                "connectionReferenceLogicalName": "msp_sharedcommondataserviceforapps_ref",
            },
            "shared_partnercenterref": {"connectionName": "", "api": {"id": "/providers/.../shared_partnercenterref"}},
        },
    }
    if definition:
        props["definition"] = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {}}
    return {
        "name": name,
        "id": f"{FLOWS}/{name}",
        "type": "Microsoft.ProcessSimple/environments/flows",
        "properties": props,
    }


def run_item(run_id: str, status: str = "Failed") -> dict[str, Any]:
    return {
        "name": run_id,
        "properties": {
            "startTime": "2024-05-02T09:00:00Z",
            "endTime": "2024-05-02T09:00:05Z",
            "status": status,
            "code": "ActionFailed",
            "error": {"code": "ActionFailed", "message": "An action failed. No dependent actions succeeded."},
            "trigger": {"name": "manual"},
        },
    }


async def test_list_flows_includes_solution_flows_and_follows_next_link_with_a_cap() -> None:
    nxt = f"{BASE}{FLOWS}?api-version=2016-11-01&$skiptoken=p2"
    pages = [httpx.Response(200, json={"value": [flow(f"f{i}", definition=False)], "nextLink": nxt}) for i in range(4)]

    found, seen = await run({("GET", FLOWS): pages}, lambda fc: fc.list_flows(max_pages=3))

    assert [f.name for f in found] == ["f0", "f1", "f2"] and len(seen) == 3
    assert dict(seen[0].url.params) == {"api-version": "2016-11-01", "include": "includeSolutionCloudFlows"}
    assert seen[1].url.params["$skiptoken"] == "p2"
    assert found[0].trigger_names == ()  # the list omits definitions


async def test_get_flow_flattens_properties() -> None:
    found, seen = await run(
        {("GET", f"{FLOWS}/{FLOW_ID}"): [httpx.Response(200, json=flow())]}, lambda fc: fc.get_flow(FLOW_ID)
    )

    assert isinstance(found, Flow)
    assert (found.name, found.state, found.is_managed) == (FLOW_ID, "Started", True)
    assert found.display_name == "Partner Center to Dynamics 365 (Insider Preview)"
    assert found.trigger_names == ("manual",)
    dataverse, partner_center = found.connection_references
    assert dataverse.connection_name == "shared-commondataser-1a2b"
    assert dataverse.logical_name == "msp_sharedcommondataserviceforapps_ref"
    assert partner_center.connection_name == "" and partner_center.api_id.endswith("shared_partnercenterref")
    assert seen[0].url.params["api-version"] == "2016-11-01"


async def test_failed_runs_filters_on_status_and_utc_start_time_and_caps_at_top() -> None:
    since = datetime(2024, 5, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    body = {"value": [run_item("r1"), run_item("r2"), run_item("r3")]}

    found, seen = await run(
        {("GET", f"{FLOWS}/{FLOW_ID}/runs"): [httpx.Response(200, json=body)]},
        lambda fc: fc.failed_runs(FLOW_ID, since=since, top=2),
    )

    assert seen[0].url.params["$filter"] == "status eq 'Failed' and startTime ge 2024-05-01T00:00:00Z"
    assert seen[0].url.params["api-version"] == "2016-11-01"
    assert [r.name for r in found] == ["r1", "r2"]
    assert found[0].error_code == "ActionFailed" and found[0].error_message.startswith("An action failed")
    assert found[0].start_time == datetime(2024, 5, 2, 9, 0, tzinfo=UTC) and found[0].trigger_name == "manual"


async def test_failed_runs_without_since_filters_on_status_only() -> None:
    _, seen = await run(
        {("GET", f"{FLOWS}/{FLOW_ID}/runs"): [httpx.Response(200, json={"value": []})]},
        lambda fc: fc.failed_runs(FLOW_ID, since=None),
    )

    assert seen[0].url.params["$filter"] == "status eq 'Failed'"


async def test_resubmit_start_and_stop_post_to_their_routes() -> None:
    resubmit = f"{FLOWS}/{FLOW_ID}/triggers/manual/histories/08584{FLOW_ID[:4]}/resubmit"
    routes = {
        ("POST", resubmit): [httpx.Response(202)],
        ("POST", f"{FLOWS}/{FLOW_ID}/start"): [httpx.Response(200)],
        ("POST", f"{FLOWS}/{FLOW_ID}/stop"): [httpx.Response(200)],
    }

    async def all_three(fc: FlowClient) -> None:
        await fc.resubmit(FLOW_ID, f"08584{FLOW_ID[:4]}")
        await fc.start(FLOW_ID)
        await fc.stop(FLOW_ID)

    _, seen = await run(routes, all_three)

    assert [r.method for r in seen] == ["POST"] * 3
    assert all(r.url.params["api-version"] == "2016-11-01" for r in seen)


async def test_callback_url_is_returned_and_its_signature_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    reply = {"value": SIGNED, "method": "POST", "basePath": SIGNED.split("?")[0], "queries": {"sig": TOKEN}}
    caplog.set_level(logging.DEBUG)

    found, _ = await run(
        {("POST", f"{FLOWS}/{FLOW_ID}/triggers/manual/listCallbackUrl"): [httpx.Response(200, json=reply)]},
        lambda fc: fc.callback_url(FLOW_ID),
    )

    assert found == SIGNED
    assert TOKEN not in caplog.text


async def test_callback_url_missing_is_a_failed_check() -> None:
    with pytest.raises(LiveCheckFailed, match="no callback URL"):
        await run(
            {("POST", f"{FLOWS}/{FLOW_ID}/triggers/manual/listCallbackUrl"): [httpx.Response(200, json={})]},
            lambda fc: fc.callback_url(FLOW_ID),
        )


async def test_trigger_not_found_is_a_failed_check_naming_the_code() -> None:
    body = {"error": {"code": "WorkflowTriggerNotFound", "message": f"workflow '{FLOW_ID}' trigger 'manual' not found"}}
    path = f"{FLOWS}/{FLOW_ID}/triggers/manual/histories/r1/resubmit"

    with pytest.raises(LiveCheckFailed) as caught:
        await run({("POST", path): [httpx.Response(404, json=body)]}, lambda fc: fc.resubmit(FLOW_ID, "r1"))

    assert caught.value.status == 404 and "WorkflowTriggerNotFound" in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_refusals_name_power_automate_and_the_status_without_secrets(status: int) -> None:
    body = {"error": {"code": "AuthorizationFailed", "message": f"Access to the environment denied {TOKEN}"}}

    with pytest.raises(LiveCheckFailed) as caught:
        await run({("GET", f"{FLOWS}/{FLOW_ID}"): [httpx.Response(status, json=body)]}, lambda fc: fc.get_flow(FLOW_ID))

    message = str(caught.value)
    assert caught.value.system is System.power_automate and caught.value.status == status
    assert "Power Automate" in message and str(status) in message and TOKEN not in message


async def test_start_is_not_retried_on_503() -> None:
    with pytest.raises(LiveCheckUnavailable) as caught:
        await run(
            {("POST", f"{FLOWS}/{FLOW_ID}/start"): [httpx.Response(503, headers={"Retry-After": "0"})]},
            lambda fc: fc.start(FLOW_ID),
        )

    assert caught.value.status == 503


async def test_list_throttled_twice_is_unavailable() -> None:
    throttled = [httpx.Response(429, headers={"Retry-After": "0"}) for _ in range(2)]

    with pytest.raises(LiveCheckUnavailable) as caught:
        await run({("GET", FLOWS): throttled}, lambda fc: fc.list_flows())

    assert caught.value.status == 429


async def test_flow_in_unexpected_shape_is_a_failed_check() -> None:
    with pytest.raises(LiveCheckFailed, match="unexpected shape"):
        await run(
            {("GET", f"{FLOWS}/{FLOW_ID}"): [httpx.Response(200, json={"properties": {"state": "Started"}})]},
            lambda fc: fc.get_flow(FLOW_ID),
        )
