"""The referral sync trace against the simulated tenant over HTTP: healthy hops, and the first broken hop."""

from __future__ import annotations

import httpx
import pytest

from devtools.sandbox import base_urls, create_sandbox_app, load_scenario
from tenant.base import System
from tenant.clients.dataverse import DataverseClient
from tenant.clients.flows import FlowClient
from tenant.clients.partner_center import PartnerCenterClient
from tenant.trace import trace_opportunity, trace_referral

REFERRAL = "c5fb0000-0000-4000-8000-000000000001"


@pytest.fixture
def tenant(aiohttp_server):
    async def start(name: str):
        scenario = load_scenario(name)
        server = await aiohttp_server(create_sandbox_app(scenario), host="127.0.0.1")
        urls = base_urls(server.port)
        auth = {"Authorization": "Bearer sandbox"}
        https = [httpx.AsyncClient(base_url=urls[k], headers=auth) for k in
                 ("partner_center_referrals", "partner_center_webhooks", "power_automate", "dataverse")]  # fmt: skip
        clients = {
            System.partner_center: PartnerCenterClient(https[0], https[1]),
            System.power_automate: FlowClient(https[2], scenario.tenant.environment_id),
            System.dataverse: DataverseClient(https[3]),
        }
        return clients, https

    return start


async def test_healthy_referral_has_every_hop_ok(tenant) -> None:
    clients, https = await tenant("healthy")
    try:
        trace = await trace_referral(clients, REFERRAL)
    finally:
        for h in https:
            await h.aclose()
    assert [h.name for h in trace.hops] == ["referral", "webhook", "flow", "crm-id", "crm-record", "open"]
    assert trace.broken_at is None, trace


@pytest.mark.parametrize(
    ("scenario", "hop", "entry"),
    [
        ("webhook-missing-events", "webhook", "cfg-flows-wont-turn-on"),
        ("child-flows-off", "flow", "cfg-activate-pc-to-crm"),
        ("referral-closed", "open", "run-pc-not-synced-to-crm"),
    ],
)
async def test_first_broken_hop(tenant, scenario, hop, entry) -> None:
    clients, https = await tenant(scenario)
    try:
        trace = await trace_referral(clients, REFERRAL)
    finally:
        for h in https:
            await h.aclose()
    assert trace.broken_at == hop
    assert next(h for h in trace.hops if h.name == hop).entry == entry


async def test_trace_by_crm_opportunity_id(tenant) -> None:
    clients, https = await tenant("healthy")
    try:
        found = await trace_opportunity(clients, "44444444-0000-4000-8000-000000000001")
        missing = await trace_opportunity(clients, "99999999-0000-4000-8000-000000000009")
    finally:
        for h in https:
            await h.aclose()
    assert found.referral_id == REFERRAL and found.broken_at is None
    assert missing.broken_at == "referral" and missing.hops[0].entry == "run-not-synced"
