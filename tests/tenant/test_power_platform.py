"""PowerPlatformClient: BAP environment routes and parsing, tenant capacity on its own host, error mapping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from tenant.base import LiveCheckFailed, LiveCheckUnavailable, System
from tenant.clients.power_platform import PowerPlatformClient

BAP = "https://api.bap.microsoft.com"
PPAPI = "https://api.powerplatform.com"
ENV = "Default-72f988bf-86f1-41af-91ab-2d7cd011db47"
ENVS = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"

Routes = dict[tuple[str, str, str], Sequence[httpx.Response]]


def offline(routes: Routes) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """Answers each (host, method, path) with its responses in turn; any other call fails the test."""
    queues = {key: list(replies) for key, replies in routes.items()}
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        key = (request.url.host, request.method, request.url.path)
        if not queues.get(key):
            pytest.fail(f"unexpected outbound call: {key}")
        return queues[key].pop(0)

    return httpx.MockTransport(handler), seen


async def run(routes: Routes, call: Any, *, capacity: bool = True) -> tuple[Any, list[httpx.Request]]:
    transport, seen = offline(routes)
    async with (
        httpx.AsyncClient(transport=transport, base_url=BAP) as bap,
        httpx.AsyncClient(transport=transport, base_url=PPAPI) as ppapi,
    ):
        client = PowerPlatformClient(bap, environment_id=ENV, capacity_http=ppapi if capacity else None)
        return await call(client), seen


def environment(*, dataverse: bool = True, name: str = ENV) -> dict[str, Any]:
    props: dict[str, Any] = {
        "displayName": "Contoso Co-sell",
        "environmentSku": "Production",
        "isDefault": False,
        "databaseType": "CommonDataService" if dataverse else "None",
        "capacity": [
            {"capacityType": "Database", "actualConsumption": 1392.68, "ratedConsumption": 1400, "capacityUnit": "MB"},
            {"capacityType": "File", "actualConsumption": 20.5, "capacityUnit": "MB"},
        ],
    }
    if dataverse:
        props["linkedEnvironmentMetadata"] = {
            "instanceUrl": "https://org0fadb1dd.crm.dynamics.com/",
            "uniqueName": "unq0fadb1dd",
            "instanceState": "Ready",
        }
    return {"name": name, "location": "europe", "properties": props}


async def test_get_environment_reads_linked_dataverse_and_capacity() -> None:
    env, seen = await run(
        {("api.bap.microsoft.com", "GET", f"{ENVS}/{ENV}"): [httpx.Response(200, json=environment())]},
        lambda c: c.get_environment(ENV),
    )
    assert env.has_dataverse and env.instance_url == "https://org0fadb1dd.crm.dynamics.com/"
    assert (env.display_name, env.sku, env.instance_state) == ("Contoso Co-sell", "Production", "Ready")
    assert [(c.capacity_type, c.actual_consumption) for c in env.capacity] == [("Database", 1392.68), ("File", 20.5)]
    assert seen[0].url.params["api-version"] == "2020-10-01"
    assert "properties.capacity" in seen[0].url.params["$expand"]


async def test_environment_without_linked_metadata_has_no_dataverse() -> None:
    env, _ = await run(
        {("api.bap.microsoft.com", "GET", f"{ENVS}/{ENV}"): [httpx.Response(200, json=environment(dataverse=False))]},
        lambda c: c.get_environment(ENV),
    )
    assert not env.has_dataverse and env.database_type == "None"


async def test_list_environments_follows_next_link_on_the_same_host() -> None:
    page2 = f"{BAP}{ENVS}?api-version=2020-10-01&$skiptoken=1"
    envs, seen = await run(
        {
            ("api.bap.microsoft.com", "GET", ENVS): [
                httpx.Response(200, json={"value": [environment()], "nextLink": page2}),
                httpx.Response(200, json={"value": [environment(dataverse=False, name="Default-2")]}),
            ]
        },
        lambda c: c.list_environments(),
    )
    assert [(e.name, e.has_dataverse) for e in envs] == [(ENV, True), ("Default-2", False)]
    assert len(seen) == 2


async def test_tenant_capacity_on_the_power_platform_api() -> None:
    body = {
        "licenseModelType": "StorageDriven",
        "tenantCapacities": [
            {
                "capacityType": "Database",
                "capacityUnits": "MB",
                "totalCapacity": 10240,
                "maxCapacity": 10240,
                "consumption": {"actual": 9600.5, "rated": 9700},
                "status": "Available",
            },
            {"capacityType": "File", "capacityUnits": "MB", "totalCapacity": 20480, "consumption": {"actual": 1}},
        ],
    }
    found, seen = await run(
        {("api.powerplatform.com", "GET", "/licensing/tenantCapacity"): [httpx.Response(200, json=body)]},
        lambda c: c.tenant_capacity(),
    )
    database = found[0]
    assert (database.capacity_type, database.total, database.actual, database.available) == (
        "Database",
        10240,
        9600.5,
        639.5,
    )
    assert seen[0].url.params["api-version"] == "2022-03-01-preview"


async def test_tenant_capacity_without_a_capacity_client_calls_nothing() -> None:
    found, seen = await run({}, lambda c: c.tenant_capacity(), capacity=False)
    assert found == [] and seen == []


async def test_errors_map_to_the_live_check_family() -> None:
    with pytest.raises(LiveCheckFailed) as missing:
        await run(
            {
                ("api.bap.microsoft.com", "GET", f"{ENVS}/{ENV}"): [
                    httpx.Response(404, json={"error": {"code": "EnvironmentNotFound", "message": "x"}})
                ]
            },
            lambda c: c.get_environment(ENV),
        )
    assert missing.value.status == 404 and missing.value.system is System.power_platform
    assert "EnvironmentNotFound" in str(missing.value)
    with pytest.raises(LiveCheckFailed) as shape:
        await run(
            {("api.bap.microsoft.com", "GET", f"{ENVS}/{ENV}"): [httpx.Response(200, json={"properties": {}})]},
            lambda c: c.get_environment(ENV),
        )
    assert "Environment" in str(shape.value)
    with pytest.raises(LiveCheckUnavailable) as down:
        await run(
            {
                ("api.powerplatform.com", "GET", "/licensing/tenantCapacity"): [
                    httpx.Response(503, headers={"Retry-After": "0"}),
                    httpx.Response(503),
                ]
            },
            lambda c: c.tenant_capacity(),
        )
    assert down.value.status == 503
