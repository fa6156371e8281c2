"""PartnerCenterClient: referral list/get/related with capped paging, webhook registration, probes, error mapping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tenant.base import LiveCheckFailed, LiveCheckUnavailable, System
from tenant.clients.partner_center import REQUIRED_EVENTS, PartnerCenterClient
from tests.fakes import offline

REFERRALS_BASE = "https://api.partner.microsoft.com"
WEBHOOKS_BASE = "https://api.partnercenter.microsoft.com"
REFERRALS = "/v1.0/engagements/referrals"
REGISTRATION = "/webhooks/v1/registration"
TOKEN = "eyJ-secret-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}

Routes = dict[tuple[str, str], Sequence[httpx.Response]]


def referral(ref_id: str = "c5fb7d4c", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": ref_id,
        "engagementId": "65ed9b5a",
        "externalReferenceId": "",
        "status": "New",
        "substatus": "Pending",
        "qualification": "Direct",
        "type": "Independent",
        "direction": "Incoming",
        "eTag": '"0x1"',
        "createdDateTime": "2020-11-01T10:00:00Z",
        "customerProfile": {
            "name": "Fabrikam",
            "address": {"postalCode": "98052", "country": "US"},
            "team": [{"firstName": "Ada", "lastName": "Lovelace", "email": "ada@fabrikam.example"}],
        },
        "consent": {"consentToToShareInfoWithOthers": True, "ConsentToMicrosoftToContactSpecificPartners": False},
        "details": {
            "dealValue": 10000,
            "currency": "USD",
            "closingDateTime": "2020-12-01T00:00:00Z",
            "requirements": {"solutions": [{"id": "SOL-Microsoft365", "name": "Microsoft365"}], "products": None},
        },
        "team": None,
        "links": {
            "relatedReferrals": {
                "uri": f"{REFERRALS_BASE}{REFERRALS}?$filter=engagementId eq '65ed9b5a'",
                "method": "GET",
            },
            "self": {"uri": f"{REFERRALS_BASE}{REFERRALS}/{ref_id}", "method": "GET"},
        },
        "solutionArea": "AI Business Solutions",  # a newer field the model does not declare
    }
    return body | over


def page(*items: dict[str, Any], next_link: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"@odata.count": len(items), "value": list(items)}
    if next_link:
        body["@odata.nextLink"] = next_link
    return httpx.Response(200, json=body)


async def run(routes: Routes, call: Any, *, host: str = "api.partner.microsoft.com") -> tuple[Any, list[httpx.Request]]:
    """Build the client over `routes` and await `call(client)`."""
    transport, seen = offline(routes, host)
    async with (
        httpx.AsyncClient(transport=transport, base_url=REFERRALS_BASE, headers=HEADERS) as referrals,
        httpx.AsyncClient(transport=transport, base_url=WEBHOOKS_BASE, headers=HEADERS) as webhooks,
    ):
        return await call(PartnerCenterClient(referrals, webhooks)), seen


async def test_list_referrals_sends_filter_and_top_parses_and_follows_next_link() -> None:
    nxt = f"{REFERRALS_BASE}{REFERRALS}?$skiptoken=abc"
    routes = {("GET", REFERRALS): [page(referral("r1"), next_link=nxt), page(referral("r2"))]}

    found, seen = await run(routes, lambda pc: pc.list_referrals(filter="status eq 'New'", top=20))

    assert [r.id for r in found] == ["r1", "r2"]
    assert dict(seen[0].url.params) == {"$top": "20", "$filter": "status eq 'New'"}
    assert dict(seen[1].url.params) == {"$skiptoken": "abc"}  # the next link is followed as given
    assert all(req.headers["Authorization"] == f"Bearer {TOKEN}" for req in seen)
    first = found[0]
    assert first.engagement_id == "65ed9b5a" and first.external_reference_id == ""
    assert (first.status, first.substatus, first.direction) == ("New", "Pending", "Incoming")
    assert first.customer_profile.address.country == "US"
    assert first.customer_profile.team[0].email == "ada@fabrikam.example"
    assert first.details.deal_value == Decimal(10000) and first.details.currency == "USD"
    assert first.details.closing_date_time.year == 2020
    assert first.details.requirements.solutions[0].id == "SOL-Microsoft365"
    assert first.details.requirements.products == () and first.team == ()
    assert first.consent.consent_to_to_share_info_with_others is True
    assert first.consent.consent_to_microsoft_to_contact_specific_partners is False
    assert first.links["relatedReferrals"]["method"] == "GET" and "self" in first.links
    assert first.model_extra == {"solutionArea": "AI Business Solutions"}


async def test_list_referrals_stops_at_max_pages() -> None:
    nxt = f"{REFERRALS_BASE}{REFERRALS}?$skiptoken=more"
    routes = {("GET", REFERRALS): [page(referral(f"r{i}"), next_link=nxt) for i in range(5)]}

    found, seen = await run(routes, lambda pc: pc.list_referrals(max_pages=2))

    assert len(seen) == 2 and len(found) == 2


async def test_next_link_to_another_host_is_not_followed() -> None:
    routes = {("GET", REFERRALS): [page(referral(), next_link="https://evil.example/steal?$skiptoken=1")]}

    with pytest.raises(LiveCheckFailed, match="another host"):
        await run(routes, lambda pc: pc.list_referrals())


async def test_related_referrals_filters_on_engagement_id_with_quotes_escaped() -> None:
    routes = {("GET", REFERRALS): [page(referral("mine"), referral("microsoft"))]}

    found, seen = await run(routes, lambda pc: pc.related_referrals("65ed'9b"))

    assert seen[0].url.params["$filter"] == "engagementId eq '65ed''9b'"
    assert [r.id for r in found] == ["mine", "microsoft"]


async def test_get_referral_quotes_the_id_and_parses() -> None:
    routes = {("GET", f"{REFERRALS}/c5fb 7d4c"): [httpx.Response(200, json=referral("c5fb 7d4c", status="Closed"))]}

    found, seen = await run(routes, lambda pc: pc.get_referral("c5fb 7d4c"))

    assert found.status == "Closed" and found.e_tag == '"0x1"'
    assert seen[0].url.raw_path == b"/v1.0/engagements/referrals/c5fb%207d4c"


async def test_get_referral_in_unexpected_shape_is_a_failed_check() -> None:
    routes = {("GET", f"{REFERRALS}/x"): [httpx.Response(200, json={"status": "New"})]}  # no id

    with pytest.raises(LiveCheckFailed, match="Partner Center returned a Referral in an unexpected shape"):
        await run(routes, lambda pc: pc.get_referral("x"))


@pytest.mark.parametrize(("status", "expected"), [(200, True), (401, False), (403, False)])
async def test_probe_referrals_access(status: int, expected: bool) -> None:
    body = {"value": []} if status == 200 else {"error": {"code": "unAuthorized", "message": f"token {TOKEN}"}}
    routes = {("GET", REFERRALS): [httpx.Response(status, json=body)]}

    found, seen = await run(routes, lambda pc: pc.probe_referrals_access())

    assert found is expected
    assert seen[0].url.params["$top"] == "1"


async def test_probe_referrals_access_reports_an_outage_as_unavailable() -> None:
    busy = httpx.Response(503, headers={"Retry-After": "0"})
    routes = {("GET", REFERRALS): [busy, httpx.Response(503, headers={"Retry-After": "0"})]}

    with pytest.raises(LiveCheckUnavailable) as caught:
        await run(routes, lambda pc: pc.probe_referrals_access())

    assert caught.value.status == 503 and caught.value.system is System.partner_center


@pytest.mark.parametrize("status", [401, 403])
async def test_refusals_are_failed_checks_naming_system_and_status_without_secrets(status: int) -> None:
    body = {"error": {"code": "unAuthorized", "message": f"bad token {TOKEN}", "target": "referral"}}
    routes = {("GET", f"{REFERRALS}/r1"): [httpx.Response(status, json=body)]}

    with pytest.raises(LiveCheckFailed) as caught:
        await run(routes, lambda pc: pc.get_referral("r1"))

    message = str(caught.value)
    assert caught.value.status == status and "Partner Center" in message and str(status) in message
    assert TOKEN not in message and "bad token" not in message


async def test_throttling_is_unavailable_after_one_retry() -> None:
    throttled = [httpx.Response(429, headers={"Retry-After": "0"}, json={"statusCode": 429}) for _ in range(2)]

    with pytest.raises(LiveCheckUnavailable) as caught:
        await run({("GET", REFERRALS): throttled}, lambda pc: pc.list_referrals())

    assert caught.value.status == 429 and TOKEN not in str(caught.value)


async def test_webhook_registration_is_read_and_reports_missing_events() -> None:
    body = {
        "SubscriberId": "e82cac64",
        "WebhookUrl": "https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke",
        "WebhookEvents": ["referral-created", "referral-updated"],
    }
    routes = {("GET", REGISTRATION): [httpx.Response(200, json=body)]}

    found, seen = await run(routes, lambda pc: pc.get_webhook_registration(), host="api.partnercenter.microsoft.com")

    assert found.subscriber_id == "e82cac64" and found.webhook_url.startswith("https://prod-00")
    assert found.missing_events == ("related-referral-created", "related-referral-updated")
    assert seen[0].method == "GET"


@pytest.mark.parametrize("reply", [httpx.Response(404, json={"error": {"code": "itemNotFound"}}), httpx.Response(200)])
async def test_no_webhook_registration_is_none(reply: httpx.Response) -> None:
    routes = {("GET", REGISTRATION): [reply]}

    found, _ = await run(routes, lambda pc: pc.get_webhook_registration(), host="api.partnercenter.microsoft.com")

    assert found is None


async def test_put_webhook_registration_sends_url_and_all_four_events() -> None:
    url = "https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke"
    reply = {"SubscriberId": "s1", "WebhookUrl": url, "WebhookEvents": list(REQUIRED_EVENTS)}
    routes = {("PUT", REGISTRATION): [httpx.Response(200, json=reply)]}

    found, seen = await run(
        routes, lambda pc: pc.put_webhook_registration(url, REQUIRED_EVENTS), host="api.partnercenter.microsoft.com"
    )

    assert json.loads(seen[0].content) == {"WebhookUrl": url, "WebhookEvents": list(REQUIRED_EVENTS)}
    assert found.missing_events == ()


async def test_validation_event_round_trip() -> None:
    routes = {
        ("POST", f"{REGISTRATION}/validationEvents"): [httpx.Response(200, json={"correlationId": "04af2aea"})],
        ("GET", f"{REGISTRATION}/validationEvents/04af2aea"): [
            httpx.Response(
                200,
                json={
                    "correlationId": "04af2aea",
                    "partnerId": "123",
                    "status": "completed",
                    "callbackUrl": "https://example.test/hook",
                    "results": [
                        {
                            "responseCode": "OK",
                            "responseMessage": "",
                            "systemError": "",
                            "dateTimeUtc": "2024-05-01T10:00:00Z",
                        }
                    ],
                },
            )
        ],
    }

    async def both(pc: PartnerCenterClient) -> Any:
        return await pc.get_validation_event(await pc.send_validation_event())

    found, _ = await run(routes, both, host="api.partnercenter.microsoft.com")

    assert found.status == "completed" and found.results[0].response_code == "OK"


async def test_validation_event_is_never_retried() -> None:
    routes = {("POST", f"{REGISTRATION}/validationEvents"): [httpx.Response(503, headers={"Retry-After": "0"})]}

    with pytest.raises(LiveCheckUnavailable):
        await run(routes, lambda pc: pc.send_validation_event(), host="api.partnercenter.microsoft.com")


async def test_validation_event_without_correlation_id_is_a_failed_check() -> None:
    routes = {("POST", f"{REGISTRATION}/validationEvents"): [httpx.Response(200, json={})]}

    with pytest.raises(LiveCheckFailed, match="no correlation id"):
        await run(routes, lambda pc: pc.send_validation_event(), host="api.partnercenter.microsoft.com")
