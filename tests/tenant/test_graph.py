"""GraphClient: licenseDetails routes for /me and a user, service plan parsing, disabled plans, error mapping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from tenant.base import LiveCheckFailed, System
from tenant.clients.graph import GraphClient
from tests.fakes import offline as offline_on

BASE = "https://graph.microsoft.com"
USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"

Routes = dict[tuple[str, str], Sequence[httpx.Response]]


def offline(routes: Routes) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """Fail-on-unexpected transport for this client's host."""
    return offline_on(routes, "graph.microsoft.com")


async def run(routes: Routes, call: Any) -> tuple[Any, list[httpx.Request]]:
    transport, seen = offline(routes)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        return await call(GraphClient(http)), seen


def plan(name: str, status: str = "Success") -> dict[str, Any]:
    return {"servicePlanId": f"id-{name}", "servicePlanName": name, "provisioningStatus": status, "appliesTo": "User"}


LICENSES = {
    "value": [
        {
            "id": "lic-1",
            "skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900",
            "skuPartNumber": "ENTERPRISEPACK",
            "servicePlans": [plan("EXCHANGE_S_ENTERPRISE"), plan("FLOW_O365_P2", "Disabled")],
        },
        {"id": "lic-2", "skuId": "sku-2", "skuPartNumber": "FLOW_PER_USER", "servicePlans": [plan("FLOW_PER_USER")]},
    ]
}


async def test_me_license_details_parse_service_plans() -> None:
    details, seen = await run(
        {("GET", "/v1.0/me/licenseDetails"): [httpx.Response(200, json=LICENSES)]}, lambda c: c.license_details()
    )
    assert [d.sku_part_number for d in details] == ["ENTERPRISEPACK", "FLOW_PER_USER"]
    assert [(p.name, p.enabled) for p in details[0].service_plans] == [
        ("EXCHANGE_S_ENTERPRISE", True),
        ("FLOW_O365_P2", False),
    ]
    assert len(seen) == 1


async def test_service_plan_names_for_a_user_skip_disabled_plans() -> None:
    routes: Routes = {
        ("GET", f"/v1.0/users/{USER}/licenseDetails"): [
            httpx.Response(200, json=LICENSES),
            httpx.Response(200, json=LICENSES),
        ]
    }
    names, _ = await run(routes, lambda c: c.service_plan_names(USER))
    assert names == ["EXCHANGE_S_ENTERPRISE", "FLOW_PER_USER"]
    every, _ = await run(routes, lambda c: c.service_plan_names(USER, enabled_only=False))
    assert every == ["EXCHANGE_S_ENTERPRISE", "FLOW_O365_P2", "FLOW_PER_USER"]


async def test_empty_and_null_plans() -> None:
    body = {"value": [{"skuId": "s", "skuPartNumber": "STREAM", "servicePlans": None}]}
    names, _ = await run(
        {("GET", "/v1.0/me/licenseDetails"): [httpx.Response(200, json=body)]}, lambda c: c.service_plan_names()
    )
    assert names == []


async def test_refusal_maps_to_live_check_failed() -> None:
    error = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}
    with pytest.raises(LiveCheckFailed) as denied:
        await run(
            {("GET", "/v1.0/me/licenseDetails"): [httpx.Response(403, json=error)]}, lambda c: c.license_details()
        )
    assert denied.value.status == 403 and denied.value.system is System.graph
    assert "Authorization_RequestDenied" in str(denied.value) and "Insufficient" not in str(denied.value)
    with pytest.raises(LiveCheckFailed):
        await run(
            {("GET", "/v1.0/me/licenseDetails"): [httpx.Response(200, json={"value": [{"servicePlans": [{}]}]})]},
            lambda c: c.license_details(),
        )
