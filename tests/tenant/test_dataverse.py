"""DataverseClient: OData headers and queries, paging with a cap, row parsing, degradations, error mapping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tenant.base import LiveCheckFailed, LiveCheckUnavailable, System
from tenant.clients.dataverse import DataverseClient
from tests.fakes import offline as offline_on

HOST = "org0fadb1dd.api.crm.dynamics.com"
BASE = f"https://{HOST}/api/data/v9.2"
API = "/api/data/v9.2"
TOKEN = "eyJ-dataverse-secret"
USER = "7f4e1c2a-9d8b-4c3e-8f1a-2b3c4d5e6f70"
ACCOUNT = "a1b2c3d4-0000-4000-8000-000000000001"
OPPORTUNITY = "b1b2c3d4-0000-4000-8000-000000000002"

Routes = dict[tuple[str, str], Sequence[httpx.Response]]


def offline(routes: Routes) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """Fail-on-unexpected transport for this client's host."""
    return offline_on(routes, HOST)


async def run(routes: Routes, call: Any, **client: Any) -> tuple[Any, list[httpx.Request]]:
    transport, seen = offline(routes)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as http:
        return await call(DataverseClient(http, **client)), seen


def rows(*items: dict[str, Any], next_link: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"@odata.context": f"{BASE}/$metadata#x", "value": list(items)}
    if next_link:
        body["@odata.nextLink"] = next_link
    return httpx.Response(200, json=body)


def assert_odata(request: httpx.Request) -> None:
    assert request.headers["OData-MaxVersion"] == "4.0" and request.headers["OData-Version"] == "4.0"
    assert request.headers["Accept"] == "application/json"


async def test_who_am_i() -> None:
    body = {"@odata.context": "…", "BusinessUnitId": "bu1", "UserId": USER, "OrganizationId": "org1"}

    found, seen = await run({("GET", f"{API}/WhoAmI"): [httpx.Response(200, json=body)]}, lambda dv: dv.who_am_i())

    assert (found.user_id, found.business_unit_id, found.organization_id) == (USER, "bu1", "org1")
    assert_odata(seen[0])


async def test_user_role_names_expands_the_role_association() -> None:
    body = {
        "fullname": "Connector Admin",
        "systemuserid": USER,
        "systemuserroles_association": [
            {"name": "System Administrator", "roleid": "r1"},
            {"name": "Basic User", "roleid": "r2"},
        ],
    }

    found, seen = await run(
        {("GET", f"{API}/systemusers({USER})"): [httpx.Response(200, json=body)]},
        lambda dv: dv.user_role_names(f"{{{USER.upper()}}}"),
    )

    assert found == ["System Administrator", "Basic User"]
    assert seen[0].url.params["$expand"] == "systemuserroles_association($select=name,roleid)"


async def test_an_id_that_is_not_a_guid_fails_before_any_call() -> None:
    with pytest.raises(LiveCheckFailed, match="not a Dataverse GUID"):
        await run({}, lambda dv: dv.user_role_names("1) or (1 eq 1"))


async def test_base_currency_comes_from_the_organization() -> None:
    org = {
        "organizationid": "org1",
        "name": "Contoso",
        "_basecurrencyid_value": "c-eur",
        "basecurrencyid": {"isocurrencycode": "EUR", "currencyname": "Euro", "transactioncurrencyid": "c-eur"},
    }

    found, seen = await run({("GET", f"{API}/organizations"): [rows(org)]}, lambda dv: dv.base_currency())

    assert (found.id, found.iso_code, found.name) == ("c-eur", "EUR", "Euro")
    assert seen[0].url.params["$expand"] == "basecurrencyid($select=isocurrencycode,currencyname)"
    assert seen[0].headers["Prefer"] == "odata.maxpagesize=100"


async def test_no_base_currency_is_a_failed_check() -> None:
    with pytest.raises(LiveCheckFailed, match="no base currency"):
        await run({("GET", f"{API}/organizations"): [rows()]}, lambda dv: dv.base_currency())


async def test_transaction_currencies_follow_next_link_with_the_same_prefer_header_and_a_cap() -> None:
    nxt = f"{BASE}/transactioncurrencies?$select=isocurrencycode&$skiptoken=%3Ccookie%3E"
    eur = {"transactioncurrencyid": "c1", "isocurrencycode": "EUR", "exchangerate": 1.0, "statecode": 0}
    usd = {"transactioncurrencyid": "c2", "isocurrencycode": "USD", "exchangerate": 1.08, "statecode": 1}
    pages = [rows(eur, next_link=nxt), rows(usd, next_link=nxt), rows(eur)]

    found, seen = await run(
        {("GET", f"{API}/transactioncurrencies"): pages},
        lambda dv: dv.transaction_currencies(),
        page_size=1,
        max_pages=2,
    )

    assert [c.iso_code for c in found] == ["EUR", "USD"] and len(seen) == 2
    assert found[1].exchange_rate == Decimal("1.08") and found[1].statecode == 1
    assert [r.headers["Prefer"] for r in seen] == ["odata.maxpagesize=1"] * 2
    assert seen[1].url.params["$skiptoken"] == "<cookie>"
    for request in seen:
        assert_odata(request)


async def test_enabled_users_filter_and_top() -> None:
    users = [
        {"systemuserid": f"u{i}", "fullname": f"Seller {i}", "internalemailaddress": f"s{i}@x.test"} for i in range(5)
    ]

    found, seen = await run({("GET", f"{API}/systemusers"): [rows(*users)]}, lambda dv: dv.enabled_users(top=3))

    assert [u.full_name for u in found] == ["Seller 0", "Seller 1", "Seller 2"]
    assert seen[0].url.params["$filter"] == "isdisabled eq false and accessmode eq 0"


async def test_cloud_flows_read_connection_reference_names_from_clientdata() -> None:
    clientdata = {
        "properties": {
            "connectionReferences": {
                "shared_commondataserviceforapps": {
                    "connection": {"connectionReferenceLogicalName": "msp_dataverse_ref"},
                    "api": {"name": "shared_commondataserviceforapps"},
                },
                "shared_partnercenterref": {"connection": {"connectionReferenceLogicalName": "msp_pc_ref"}},
            },
            "definition": {"triggers": {"manual": {"type": "Request"}}, "actions": {}},
        },
        "schemaVersion": "1.0.0.0",
    }
    good = {
        "workflowid": "w1",
        "name": "Partner Center to Dynamics 365 (Insider Preview)",
        "statecode": 1,
        "statuscode": 2,
        "ismanaged": True,
        "modifiedon": "2024-04-01T10:00:00Z",
        "_ownerid_value": USER,
        "clientdata": json.dumps(clientdata),
    }
    broken = {
        "workflowid": "w2",
        "name": "Partner Center Webhook Registration",
        "statecode": 0,
        "clientdata": "{not json",
    }

    found, seen = await run(
        {("GET", f"{API}/workflows"): [rows(good, broken)]}, lambda dv: dv.cloud_flows(name_contains="Partner's")
    )

    assert seen[0].url.params["$filter"] == "category eq 5 and contains(name,'Partner''s')"
    assert "clientdata" in seen[0].url.params["$select"]
    first, second = found
    assert first.connection_reference_names == ("msp_dataverse_ref", "msp_pc_ref")
    assert first.trigger_names == ("manual",) and first.statecode == 1 and first.clientdata_readable
    assert "clientdata" not in (first.model_extra or {})
    assert second.connection_reference_names == () and not second.clientdata_readable


async def test_connection_references_show_unbound_ones() -> None:
    bound = {
        "connectionreferencelogicalname": "msp_dataverse_ref",
        "connectionreferencedisplayname": "Dataverse",
        "connectorid": "/providers/Microsoft.PowerApps/apis/shared_commondataserviceforapps",
        "connectionid": "shared-commondataser-1a2b",
        "statecode": 0,
    }
    unbound = {"connectionreferencelogicalname": "msp_pc_ref", "connectionid": None, "statecode": 0}

    found, _ = await run(
        {("GET", f"{API}/connectionreferences"): [rows(bound, unbound)]}, lambda dv: dv.connection_references()
    )

    assert [(c.logical_name, c.connection_id) for c in found] == [
        ("msp_dataverse_ref", "shared-commondataser-1a2b"),
        ("msp_pc_ref", None),
    ]


def flow_run(name: str, start: str) -> dict[str, Any]:
    return {
        "flowrunid": f"id-{name}",
        "name": name,
        "status": "Failed",
        "starttime": start,
        "errorcode": "ActionFailed",
        "errormessage": json.dumps({"code": "ActionFailed", "message": "An action failed."}),
        "workflowname": "Partner Center to Dynamics 365 (Insider Preview)",
    }


async def test_flow_runs_filter_on_status_and_start_time() -> None:
    since = datetime(2024, 5, 1, tzinfo=UTC)

    found, seen = await run(
        {("GET", f"{API}/flowruns"): [rows(flow_run("r1", "2024-05-02T09:00:00Z"))]}, lambda dv: dv.flow_runs(since)
    )

    assert seen[0].url.params["$filter"] == "status eq 'Failed' and starttime ge 2024-05-01T00:00:00Z"
    assert found[0].error_code == "ActionFailed" and found[0].error_message == "An action failed."
    assert found[0].model_extra == {"flowrunid": "id-r1"}


async def test_flow_runs_fall_back_to_a_status_filter_when_starttime_is_refused() -> None:
    refused = httpx.Response(
        400, json={"error": {"code": "0x80060888", "message": "Could not find a property named 'starttime'"}}
    )
    runs = rows(flow_run("old", "2024-04-01T00:00:00Z"), flow_run("new", "2024-05-02T00:00:00Z"))

    found, seen = await run(
        {("GET", f"{API}/flowruns"): [refused, runs]}, lambda dv: dv.flow_runs(datetime(2024, 5, 1, tzinfo=UTC), top=10)
    )

    assert seen[1].url.params["$filter"] == "status eq 'Failed'"
    assert [r.name for r in found] == ["new"]


async def test_run_history_reads_every_status_newest_first_in_big_pages() -> None:
    since = datetime(2024, 5, 1, tzinfo=UTC)
    page = rows(flow_run("r2", "2024-05-02T09:00:00Z"), next_link=f"{BASE}/flowruns?$skiptoken=2")
    routes = {("GET", f"{API}/flowruns"): [page, rows(flow_run("r1", "2024-05-01T10:00:00Z"))]}

    (found, capped), seen = await run(routes, lambda dv: dv.run_history(since))

    assert [r.name for r in found] == ["r2", "r1"] and not capped
    first = seen[0]
    assert first.url.params["$filter"] == "starttime ge 2024-05-01T00:00:00Z"  # no status: successes count too
    assert first.url.params["$orderby"] == "starttime desc"
    assert first.headers["Prefer"] == "odata.maxpagesize=5000"


async def test_run_history_says_when_the_cap_cut_it_short() -> None:
    many = rows(*(flow_run(f"r{n}", "2024-05-02T09:00:00Z") for n in range(3)))

    (found, capped), _ = await run(
        {("GET", f"{API}/flowruns"): [many]}, lambda dv: dv.run_history(datetime(2024, 5, 1, tzinfo=UTC), max_rows=2)
    )

    assert len(found) == 2 and capped


async def test_get_account_and_opportunity_with_extra_fields() -> None:
    account = {"accountid": ACCOUNT, "name": "Fabrikam", "address1_country": "IT", "address1_postalcode": "20121"}
    opportunity = {
        "@odata.etag": 'W/"123"',
        "opportunityid": OPPORTUNITY,
        "name": "Fabrikam rollout",
        "estimatedvalue": 25000.5,
        "estimatedclosedate": "2024-09-30",
        "_transactioncurrencyid_value": "c-eur",
        "_parentaccountid_value": ACCOUNT,
        "statecode": 0,
        "msp_syncwithpartnercenter": True,
    }
    routes = {
        ("GET", f"{API}/accounts({ACCOUNT})"): [httpx.Response(200, json=account)],
        ("GET", f"{API}/opportunities({OPPORTUNITY})"): [httpx.Response(200, json=opportunity)],
    }

    async def both(dv: DataverseClient) -> Any:
        return await dv.get_account(ACCOUNT), await dv.get_opportunity(OPPORTUNITY, ("msp_syncwithpartnercenter",))

    (acc, opp), seen = await run(routes, both)

    assert (acc.name, acc.country, acc.postal_code) == ("Fabrikam", "IT", "20121")
    assert opp.estimated_value == Decimal("25000.5") and opp.estimated_close_date == date(2024, 9, 30)
    assert opp.model_extra["msp_syncwithpartnercenter"] is True
    assert seen[1].url.params["$select"].endswith(",msp_syncwithpartnercenter")


async def test_find_attributes_matches_any_localized_label() -> None:
    def attribute(logical: str, *labels: tuple[str, int]) -> dict[str, Any]:
        localized = [{"Label": text, "LanguageCode": code} for text, code in labels]
        return {
            "LogicalName": logical,
            "SchemaName": logical.title(),
            "AttributeType": "Boolean",
            "DisplayName": {"LocalizedLabels": localized, "UserLocalizedLabel": localized[0] if localized else None},
        }

    body = rows(
        attribute(
            "msp_syncwithpartnercenter", ("Sync with Partner Center", 1033), ("Sincronizza con Partner Center", 1040)
        ),
        attribute("msp_referralidentifier", ("Referral Identifier", 1033)),
        attribute("new_nolabel"),
    )
    path = f"{API}/EntityDefinitions(LogicalName='opportunity')/Attributes"

    found, seen = await run(
        {("GET", path): [body]}, lambda dv: dv.find_attributes("opportunity", "sincronizza con partner")
    )

    assert [a.logical_name for a in found] == ["msp_syncwithpartnercenter"]
    assert found[0].labels == ("Sync with Partner Center", "Sincronizza con Partner Center")
    assert seen[0].url.params["$filter"] == "IsCustomAttribute eq true"


async def test_find_attributes_rejects_a_bad_entity_name_without_calling() -> None:
    with pytest.raises(LiveCheckFailed):
        await run({}, lambda dv: dv.find_attributes("opportunity')/x", "sync"))


async def test_environment_variables_prefer_the_current_value() -> None:
    definitions = rows(
        {
            "schemaname": "msp_DealValueFieldName",
            "displayname": "Deal value field name",
            "defaultvalue": "estimatedvalue",
            "environmentvariabledefinition_environmentvariablevalue": [{"value": "new_dealvalue"}],
        },
        {
            "schemaname": "msp_CountryCodeFieldName",
            "displayname": None,
            "defaultvalue": "address1_country",
            "environmentvariabledefinition_environmentvariablevalue": [],
        },
        {"schemaname": "msp_Unset", "displayname": "Unset", "defaultvalue": None},
    )

    found, seen = await run(
        {("GET", f"{API}/environmentvariabledefinitions"): [definitions]}, lambda dv: dv.environment_variables()
    )

    assert found == {"Deal value field name": "new_dealvalue", "msp_CountryCodeFieldName": "address1_country"}
    assert "environmentvariabledefinition_environmentvariablevalue" in seen[0].url.params["$expand"]


@pytest.mark.parametrize(("status", "code"), [(401, "0x8006088a"), (403, "0x80040220")])
async def test_refusals_name_dataverse_and_the_status_without_secrets(status: int, code: str) -> None:
    body = {"error": {"code": code, "message": f"Principal user is missing prvReadWorkflow privilege {TOKEN}"}}

    with pytest.raises(LiveCheckFailed) as caught:
        await run({("GET", f"{API}/workflows"): [httpx.Response(status, json=body)]}, lambda dv: dv.cloud_flows())

    message = str(caught.value)
    assert caught.value.system is System.dataverse and caught.value.status == status
    assert "Dataverse" in message and str(status) in message and TOKEN not in message and "prvRead" not in message


async def test_service_protection_limit_is_unavailable() -> None:
    throttled = [
        httpx.Response(429, headers={"Retry-After": "0"}, json={"error": {"code": "0x80072322"}}) for _ in range(2)
    ]

    with pytest.raises(LiveCheckUnavailable) as caught:
        await run({("GET", f"{API}/WhoAmI"): throttled}, lambda dv: dv.who_am_i())

    assert caught.value.status == 429
