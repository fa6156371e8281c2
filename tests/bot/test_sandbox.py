"""The sandbox (simulated tenant, a test and demo tool): scenario files load, and the real live-check clients
get the expected data or errors from it over HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.cli import main
from devtools.sandbox import HOST, base_urls, create_sandbox_app, load_scenario, scenario_names
from tenant.base import LiveCheckFailed, LiveCheckUnavailable
from tenant.clients.dataverse import DataverseClient
from tenant.clients.flows import FlowClient
from tenant.clients.graph import GraphClient
from tenant.clients.partner_center import PartnerCenterClient
from tenant.clients.power_platform import PowerPlatformClient
from tenant.clients.salesforce import SalesforceClient

SCENARIOS = {
    "healthy", "flows-off", "child-flows-off", "trigger-not-found", "connection-unauthenticated",
    "webhook-missing-events", "webhook-wrong-url", "referral-missing-fields", "referral-closed", "missing-roles",
    "no-dataverse", "low-storage", "no-license", "throttled", "server-errors", "slow", "sf-quota-low", "api-quota-high",
    "opportunity-not-synced",
}  # fmt: skip
PARENT = "aaaaaaaa-0000-4000-8000-000000000002"
HELPER = "aaaaaaaa-0000-4000-8000-000000000003"
CALLER = "11111111-0000-4000-8000-000000000001"


class Clients:
    def __init__(self, urls: dict[str, str], environment_id: str) -> None:
        auth = {"Authorization": "Bearer sandbox-token"}
        self.https = {name: httpx.AsyncClient(base_url=url, headers=auth, timeout=5) for name, url in urls.items()}
        self.urls = urls
        self.pc = PartnerCenterClient(self.https["partner_center_referrals"], self.https["partner_center_webhooks"])
        self.flows = FlowClient(self.https["power_automate"], environment_id)
        self.dv = DataverseClient(self.https["dataverse"])
        self.dv_paged = DataverseClient(self.https["dataverse"], page_size=1)  # one row per page
        self.pp = PowerPlatformClient(
            self.https["power_platform"], environment_id=environment_id, capacity_http=self.https["power_platform_api"]
        )
        self.graph = GraphClient(self.https["graph"])
        self.sf = SalesforceClient(self.https["salesforce"])

    async def close(self) -> None:
        for http in self.https.values():
            await http.aclose()


Serve = Callable[..., Awaitable[Clients]]


@pytest.fixture
async def serve(aiohttp_server) -> AsyncIterator[Serve]:  # type: ignore[no-untyped-def]
    opened: list[Clients] = []

    async def start(name: str, **overrides: object) -> Clients:
        scenario = load_scenario(name, overrides=overrides)
        server = await aiohttp_server(create_sandbox_app(scenario), host=HOST)
        clients = Clients(base_urls(server.port), scenario.tenant.environment_id)
        opened.append(clients)
        return clients

    yield start
    for clients in opened:
        await clients.close()


def test_every_scenario_file_loads() -> None:
    assert set(scenario_names()) == SCENARIOS
    for name in SCENARIOS:
        scenario = load_scenario(name)
        assert scenario.name == name and scenario.description
        assert len(scenario.tenant.flows) == 6
    assert load_scenario("slow").latency_s == 2.5


async def test_healthy_tenant_through_the_real_clients(serve: Serve) -> None:
    c = await serve("healthy")
    referrals = await c.pc.list_referrals(top=1)  # one per page: exercises @odata.nextLink
    assert len(referrals) == 2 and referrals[0].customer_profile and referrals[0].customer_profile.address
    assert referrals[0].customer_profile.address.country == "IT"
    related = await c.pc.related_referrals(referrals[0].engagement_id or "")
    assert {r.direction for r in related} == {"Incoming", "Outgoing"}
    assert (await c.pc.get_referral(referrals[0].id)).external_reference_id
    assert await c.pc.probe_referrals_access() is True
    registration = await c.pc.get_webhook_registration()
    assert registration is not None and registration.missing_events == ()
    flows = await c.flows.list_flows()
    assert {f.state for f in flows} == {"Started"} and len(flows) == 6
    assert registration.webhook_url == await c.flows.callback_url(PARENT)
    assert (await c.flows.get_flow(PARENT)).trigger_names == ("manual",)
    me = await c.dv.who_am_i()
    assert "System Administrator" in await c.dv.user_role_names(me.user_id)
    assert (await c.dv.base_currency()).iso_code == "EUR"
    assert {cur.iso_code for cur in await c.dv_paged.transaction_currencies()} == {"EUR", "USD"}
    assert [u.full_name for u in await c.dv.enabled_users()] == ["Ada Rossi", "Marco Verdi"]
    workflows = await c.dv.cloud_flows("to CRM")
    assert len(workflows) == 2 and all(w.statecode == 1 for w in workflows)
    assert all(r.connection_id for r in await c.dv.connection_references())
    assert await c.dv.flow_runs(datetime.now(UTC) - timedelta(days=7)) == []
    assert (await c.dv.get_account("66666666-0000-4000-8000-000000000001")).country == "IT"
    opportunity = await c.dv.get_opportunity("44444444-0000-4000-8000-000000000001", ("msp_syncwithpartnercenter",))
    assert opportunity.model_extra == {"msp_syncwithpartnercenter": True}
    with pytest.raises(LiveCheckFailed) as missing_column:
        await c.dv.get_account("66666666-0000-4000-8000-000000000001", ("new_nosuchfield",))
    assert missing_column.value.status == 400
    assert [a.logical_name for a in await c.dv.find_attributes("opportunity", "sincronizza")] == [
        "msp_syncwithpartnercenter"
    ]
    assert (await c.dv.environment_variables())["Deal value field name"] == "estimatedvalue"
    [env] = await c.pp.list_environments()
    assert env.name == c.pp.environment_id and env.has_dataverse and env.capacity[0].capacity_type == "Database"
    assert (await c.pp.get_environment(c.pp.environment_id.upper())).instance_state == "Ready"
    [database] = await c.pp.tenant_capacity()
    assert (database.capacity_type, database.total, database.available) == ("Database", 20480, 14336)
    assert "FLOW_PER_USER" in await c.graph.service_plan_names()
    assert await c.graph.service_plan_names(CALLER) == await c.graph.service_plan_names()
    with pytest.raises(LiveCheckFailed) as unknown_env:
        await c.pp.get_environment("Default-nope")
    assert unknown_env.value.status == 404 and "EnvironmentNotFound" in str(unknown_env.value)


async def test_flows_off_and_starting_the_parent_before_its_children(serve: Serve) -> None:
    c = await serve("flows-off")
    assert {f.state for f in await c.flows.list_flows()} == {"Stopped"}
    assert {w.statecode for w in await c.dv.cloud_flows()} == {0}
    with pytest.raises(LiveCheckFailed) as refused:
        await c.flows.start(PARENT)
    assert refused.value.status == 400
    await c.flows.start(HELPER)
    await c.flows.start("aaaaaaaa-0000-4000-8000-000000000004")
    await c.flows.start(PARENT)
    assert (await c.flows.get_flow(PARENT)).state == "Started"


async def test_child_flows_off(serve: Serve) -> None:
    c = await serve("child-flows-off")
    states = {f.display_name: f.state for f in await c.flows.list_flows()}
    assert states["Partner Center to CRM - Helper (Insider Preview)"] == "Stopped"
    assert states["Partner Center to Dynamics 365 (Insider Preview)"] == "Stopped"
    assert states["Dynamics 365 to Partner Center (Insider Preview)"] == "Started"


async def test_trigger_not_found_runs(serve: Serve) -> None:
    c = await serve("trigger-not-found")
    runs = await c.flows.failed_runs(PARENT, since=datetime.now(UTC) - timedelta(hours=1))
    assert [r.error_code for r in runs] == ["WorkflowTriggerNotFound"]
    assert len(await c.flows.failed_runs(PARENT)) == 2
    records = await c.dv.flow_runs(datetime.now(UTC) - timedelta(days=1))
    assert {r.error_code for r in records} == {"WorkflowTriggerNotFound"}
    assert records[0].error_message and "could not be found" in records[0].error_message
    await c.flows.resubmit(PARENT, runs[0].name)
    with pytest.raises(LiveCheckFailed) as no_trigger:
        await c.flows.callback_url(HELPER, trigger="nosuch")
    assert no_trigger.value.status == 404 and "WorkflowTriggerNotFound" in str(no_trigger.value)


async def test_connection_unauthenticated(serve: Serve) -> None:
    c = await serve("connection-unauthenticated")
    refs = {r.logical_name: r.connection_id for r in await c.dv.connection_references()}
    assert not refs["new_sharedpartnercenterreferrals_sandbox"]
    runs = await c.flows.failed_runs(PARENT)
    assert runs[0].error_code == "ConnectionAuthorizationFailed"


async def test_webhook_scenarios(serve: Serve) -> None:
    missing = await (await serve("webhook-missing-events")).pc.get_webhook_registration()
    assert missing is not None and missing.missing_events == ("related-referral-created", "related-referral-updated")
    wrong = await serve("webhook-wrong-url")
    registration = await wrong.pc.get_webhook_registration()
    assert registration is not None and registration.webhook_url != await wrong.flows.callback_url(PARENT)
    events = ["referral-created", "referral-updated", "related-referral-created", "related-referral-updated"]
    updated = await wrong.pc.put_webhook_registration(await wrong.flows.callback_url(PARENT), [*events, "test-created"])
    assert updated.webhook_url == await wrong.flows.callback_url(PARENT)
    correlation = await wrong.pc.send_validation_event()
    assert (await wrong.pc.get_validation_event(correlation)).status == "completed"


async def test_referral_scenarios(serve: Serve) -> None:
    broken = await (await serve("referral-missing-fields")).pc.get_referral("c5fb0000-0000-4000-8000-000000000003")
    assert broken.external_reference_id is None
    assert broken.customer_profile and broken.customer_profile.address
    assert broken.customer_profile.address.country == "Italy" and broken.customer_profile.team == ()
    assert broken.details and broken.details.requirements and broken.details.requirements.solutions == ()
    closed = await (await serve("referral-closed")).pc.get_referral("c5fb0000-0000-4000-8000-000000000001")
    assert (closed.status, closed.substatus) == ("Closed", "Won")


async def test_missing_roles(serve: Serve) -> None:
    c = await serve("missing-roles")
    assert await c.pc.probe_referrals_access() is False
    with pytest.raises(LiveCheckFailed) as denied:
        await c.pc.list_referrals()
    assert denied.value.status == 403 and "accessDenied" in str(denied.value)
    roles = await c.dv.user_role_names(CALLER)
    assert "System Administrator" not in roles and "System Customizer" not in roles


async def test_no_dataverse_and_low_storage(serve: Serve) -> None:
    c = await serve("no-dataverse")
    with pytest.raises(LiveCheckFailed) as missing:
        await c.dv.who_am_i()
    assert missing.value.status == 404 and "EnvironmentHasNoDataverse" in str(missing.value)
    assert not (await c.pp.get_environment(c.pp.environment_id)).has_dataverse
    low = await serve("low-storage")
    resp = await low.https["power_platform"].get("/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments")
    [capacity] = resp.json()["value"][0]["properties"]["capacity"]
    assert capacity["sandboxTotalCapacity"] - capacity["actualConsumption"] < 1024
    [database] = await low.pp.tenant_capacity()
    assert database.available == 640


async def test_no_license(serve: Serve) -> None:
    c = await serve("no-license")
    assert await c.graph.service_plan_names() == ["EXCHANGE_S_ENTERPRISE", "SHAREPOINTENTERPRISE"]
    assert "FLOW_O365_P2" in await c.graph.service_plan_names(enabled_only=False)


async def test_throttled_and_server_errors(serve: Serve) -> None:
    c = await serve("throttled")
    with pytest.raises(LiveCheckUnavailable) as throttled:
        await c.flows.callback_url(PARENT)  # a POST: not retried
    assert throttled.value.status == 429 and throttled.value.retry_after == 1
    resp = await c.https["dataverse"].get("WhoAmI")
    assert resp.headers["Retry-After"] == "1" and resp.json()["error"]["code"] == "0x80072322"
    started = time.perf_counter()
    with pytest.raises(LiveCheckUnavailable) as again:
        await c.pc.list_referrals()  # a GET: retried once after Retry-After
    assert again.value.retry_after == 1 and time.perf_counter() - started >= 1
    down = await serve("server-errors")
    with pytest.raises(LiveCheckUnavailable) as unavailable:
        await down.flows.start(PARENT)
    assert unavailable.value.status == 503
    with pytest.raises(LiveCheckUnavailable) as failing:
        await down.dv.who_am_i()
    assert failing.value.status == 500


async def test_slow_scenario_waits_before_answering(serve: Serve) -> None:
    c = await serve("slow", latency_s=0.2)
    started = time.perf_counter()
    assert await c.pc.probe_referrals_access() is True
    assert time.perf_counter() - started >= 0.2


async def test_unknown_route_and_missing_bearer(serve: Serve) -> None:
    c = await serve("healthy")
    resp = await c.https["dataverse"].get("leads")
    assert resp.status_code == 404 and "/dataverse/api/data/v9.2/leads" in resp.json()["error"]["message"]
    resp = await c.https["partner_center_referrals"].delete("/v1.0/engagements/referrals")
    assert resp.status_code == 405
    async with httpx.AsyncClient(base_url=c.urls["partner_center_referrals"]) as anonymous:
        resp = await anonymous.get("/v1.0/engagements/referrals")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "unauthenticated"
    resp = await c.https["power_automate"].get(
        "/providers/Microsoft.ProcessSimple/environments/other-env/flows", params={"api-version": "2016-11-01"}
    )
    assert resp.status_code == 403


def test_cli_unknown_scenario_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--scenario", "nope"]) == 2
    err = capsys.readouterr().err
    assert "healthy" in err and "throttled" in err


# --- Salesforce (§6) ------------------------------------------------------------------------------------------------


async def test_salesforce_routes_serve_the_healthy_org(serve: Serve) -> None:
    c = await serve("healthy", tenant={"salesforce": {"batch_size": 1}})  # one record per batch: nextRecordsUrl
    user_id = await c.sf.current_user_id()
    assert await c.sf.user_can_customize(user_id) is True
    assert await c.sf.user_can_customize("0055A000000SBX2QAG") is False
    assert [u.name for u in await c.sf.active_users()] == ["Ada Rossi", "Marco Verdi"]  # two batches
    assert [cur.iso_code for cur in await c.sf.currencies()] == ["EUR", "USD"]
    assert [f.name for f in await c.sf.find_fields("Opportunity", "referral")] == ["Referral_Identifier__c"]
    limits = await c.sf.limits()
    assert (limits.daily_max, limits.daily_remaining) == (15000, 14200)


async def test_salesforce_single_currency_and_errors(serve: Serve) -> None:
    c = await serve("healthy", tenant={"salesforce": {"multi_currency": False}})
    assert await c.sf.currencies() == []
    assert (await c.sf.describe("Opportunity")).field("CurrencyIsoCode") is None
    with pytest.raises(LiveCheckFailed) as refused:
        await c.sf.describe("Account")
    assert refused.value.status == 404 and "NOT_FOUND" in str(refused.value)
    limited = await serve(
        "healthy", faults=[{"systems": ["salesforce"], "status": 403, "code": "REQUEST_LIMIT_EXCEEDED", "message": "x"}]
    )
    with pytest.raises(LiveCheckUnavailable):
        await limited.sf.limits()
