"""SalesforceClient over httpx.MockTransport: SOQL paging, describe, limits, currencies, permissions, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tenant.base import LiveCheckFailed, LiveCheckUnavailable
from tenant.clients.salesforce import SalesforceClient

BASE = "https://contoso.my.salesforce.com"
V = "/services/data/v59.0"
Route = Callable[[httpx.Request], httpx.Response]


def make(routes: dict[tuple[str, str], Route | httpx.Response]) -> tuple[SalesforceClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        route = routes.get((request.method, request.url.path))
        if route is None:
            raise AssertionError(f"unexpected call {request.method} {request.url}")
        return route(request) if callable(route) else route

    http = httpx.AsyncClient(base_url=BASE, transport=httpx.MockTransport(handler))
    return SalesforceClient(http), seen


def batch(records: list[dict[str, Any]], next_url: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"totalSize": 3, "done": next_url is None, "records": records}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return httpx.Response(200, json=body)


def sf_error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json=[{"message": "refused", "errorCode": code, "fields": []}])


async def test_query_follows_next_records_url() -> None:
    sf, seen = make(
        {
            ("GET", f"{V}/query"): batch([{"Id": "1"}], f"{V}/query/01gA-2000"),
            ("GET", f"{V}/query/01gA-2000"): batch([{"Id": "2"}, {"Id": "3"}]),
        }
    )
    assert [r["Id"] for r in await sf.query("SELECT Id FROM User")] == ["1", "2", "3"]
    assert seen[0].url.params["q"] == "SELECT Id FROM User" and not seen[1].url.params


async def test_query_stops_after_max_pages() -> None:
    sf, seen = make({("GET", f"{V}/query"): batch([{"Id": "1"}], f"{V}/query")})
    assert len(await sf.query("SELECT Id FROM User", max_pages=2)) == 2 and len(seen) == 2


async def test_query_refuses_a_next_link_to_another_host() -> None:
    sf, _ = make({("GET", f"{V}/query"): batch([], "https://evil.example/services/data/v59.0/query/x")})
    with pytest.raises(LiveCheckFailed, match="another host"):
        await sf.query("SELECT Id FROM User")


async def test_describe_and_find_fields_by_label() -> None:
    fields = [
        {"name": "CurrencyIsoCode", "label": "Opportunity Currency", "type": "picklist", "custom": False},
        {"name": "ns__Referral_Identifier__c", "label": "Referral Identifier", "type": "string", "custom": True},
    ]
    body = {"name": "Opportunity", "label": "Opportunity", "fields": fields}
    sf, _ = make({("GET", f"{V}/sobjects/Opportunity/describe"): httpx.Response(200, json=body)})
    assert (await sf.describe("Opportunity")).field("currencyisocode") is not None
    assert [f.name for f in await sf.find_fields("Opportunity", "REFERRAL")] == ["ns__Referral_Identifier__c"]
    assert await sf.find_fields("Opportunity", "currency") == []
    with pytest.raises(LiveCheckFailed):
        await sf.describe("Opportunity/../x")


async def test_limits_reads_daily_api_requests() -> None:
    body = {"DailyApiRequests": {"Max": 15000, "Remaining": 300}}
    sf, _ = make({("GET", f"{V}/limits"): httpx.Response(200, json=body)})
    limits = await sf.limits()
    assert (limits.daily_max, limits.daily_remaining, limits.remaining_ratio) == (15000, 300, 0.02)


async def test_currencies_multi_and_single_currency() -> None:
    rows = [{"IsoCode": "EUR", "IsActive": True, "IsCorporate": True}, {"IsoCode": "USD", "IsActive": False}]
    sf, _ = make({("GET", f"{V}/query"): batch(rows)})
    assert [(c.iso_code, c.is_active, c.is_corporate) for c in await sf.currencies()] == [
        ("EUR", True, True),
        ("USD", False, False),
    ]
    single, _ = make({("GET", f"{V}/query"): sf_error(400, "INVALID_TYPE")})
    assert await single.currencies() == []
    broken, _ = make({("GET", f"{V}/query"): sf_error(400, "MALFORMED_QUERY")})
    with pytest.raises(LiveCheckFailed):
        await broken.currencies()


async def test_user_can_customize_by_profile_or_permission_set() -> None:
    def query(profile: bool, sets: int) -> Route:
        def answer(request: httpx.Request) -> httpx.Response:
            q = request.url.params["q"]
            if "FROM User" in q:
                assert "WHERE Id = '005000000000001AAA'" in q
                return batch([{"Id": "005000000000001AAA", "Profile": {"PermissionsCustomizeApplication": profile}}])
            assert "FROM PermissionSetAssignment" in q and "PermissionsCustomizeApplication = true" in q
            return batch([{"PermissionSet": {"Name": "Admin"}}] * sets)

        return answer

    for profile, sets, expected, calls in [(True, 0, True, 1), (False, 1, True, 2), (False, 0, False, 2)]:
        sf, seen = make({("GET", f"{V}/query"): query(profile, sets)})
        assert await sf.user_can_customize("005000000000001AAA") is expected
        assert len(seen) == calls
    with pytest.raises(LiveCheckFailed):
        await sf.user_can_customize("x' OR Id != '")


async def test_current_user_and_active_users() -> None:
    users = [{"Id": "005000000000001AAA", "Username": "ada@x", "Name": "Ada", "IsActive": True}]
    sf, seen = make(
        {
            ("GET", "/services/oauth2/userinfo"): httpx.Response(200, json={"user_id": "005000000000001AAA"}),
            ("GET", f"{V}/query"): batch(users),
        }
    )
    assert await sf.current_user_id() == "005000000000001AAA"
    assert [u.username for u in await sf.active_users(5)] == ["ada@x"]
    assert seen[1].url.params["q"].endswith("LIMIT 5")


async def test_errors_map_to_the_live_check_family() -> None:
    sf, _ = make({("GET", f"{V}/limits"): sf_error(401, "INVALID_SESSION_ID")})
    with pytest.raises(LiveCheckFailed) as failed:
        await sf.limits()
    assert failed.value.status == 401 and "INVALID_SESSION_ID" in str(failed.value)
    sf, _ = make({("GET", f"{V}/limits"): sf_error(403, "REQUEST_LIMIT_EXCEEDED")})
    with pytest.raises(LiveCheckUnavailable):
        await sf.limits()
    sf, _ = make({("GET", f"{V}/query"): httpx.Response(200, json=[1, 2])})
    with pytest.raises(LiveCheckFailed, match="unexpected shape"):
        await sf.query("SELECT Id FROM User")


def test_api_version_is_validated() -> None:
    with pytest.raises(ValueError):
        SalesforceClient(httpx.AsyncClient(base_url=BASE), api_version="59")
