"""The trust model, attacked: who sees live findings and who may change the tenant.

- the rules themselves (assistant/trust.py), as a table;
- the allow-list with spoofed ids: a caller's own `from.id` / `from.aadObjectId` is no credential (auth off, other
  channels, unauthenticated turns), only what the channel proved is (Teams with auth on, a portal's vouching);
- over HTTP against the simulated tenant: an anonymous Web Chat user gets FAQ answers and one line why, never the
  tenant's data; a user the portal vouched for gets the findings; with auth on and no way to verify web users the
  embedded Direct Line is not mounted at all.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from botbuilder.core import BotAdapter, Middleware, TurnContext
from botbuilder.schema import ChannelAccount
from botframework.connector.auth import ClaimsIdentity

from assistant.trust import Identity, TrustPolicy, identify
from bot.app import create_app
from devtools.demo import demo_settings
from devtools.sandbox import HOST, create_sandbox_app, load_scenario
from tenant.base import CheckResult, Fix, Status, System
from tests import directline_client as dl
from tests.fakes import FakeLiveFindings, FakeRemediation
from tests.harness import DialogHarness

BASE = "/v3/directline"
QUESTION = "which child flows must be on before the partner center to crm flow?"
HIDDEN = "I can't show you live results from your tenant"
UNPROVEN = "changes to the tenant need a user whose identity the channel proved"
ADMIN_AAD = "aad-admin"
APP_ID = "00000000-0000-4000-8000-0000000000a1"
PORTAL_KEY = "portal-key-for-tests-0123456789"

AUTH_ON = TrustPolicy(auth_enabled=True, loopback_only=False)
LOCAL = TrustPolicy(auth_enabled=False, loopback_only=True)
LOCAL_DEMO = TrustPolicy(auth_enabled=False, loopback_only=True, local_fixes=True)
LAB = TrustPolicy(auth_enabled=False, loopback_only=False, local_fixes=True)


# --- the rules ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "proof", "verified_ids"),
    [
        ({"channel": "msteams", "aad_object_id": "aad-1", "channel_authenticated": True}, "teams", ("aad-1", "29:u")),
        ({"channel": "msteams", "aad_object_id": "aad-1", "channel_authenticated": False}, "none", ()),
        ({"channel": "msteams", "aad_object_id": None, "channel_authenticated": True}, "none", ()),
        ({"channel": "webchat", "aad_object_id": "aad-1", "channel_authenticated": True}, "none", ()),  # spoofable
        ({"channel": "emulator", "aad_object_id": "aad-1", "channel_authenticated": True}, "none", ()),
        ({"channel": "msteams", "aad_object_id": "aad-1", "channel_authenticated": True, "embedded": True}, "none", ()),
    ],
)
def test_who_is_verified(kwargs: dict[str, Any], proof: str, verified_ids: tuple[str, ...]) -> None:
    identity = identify(user_id="29:u", **kwargs)
    assert identity.proof == proof and identity.verified_ids() == verified_ids


def test_portal_vouching_is_verified_only_as_issued() -> None:
    azure = identify(
        channel="webchat", user_id="dl_u.alice@contoso.com", aad_object_id=None, channel_authenticated=True
    )
    assert azure.proof == "portal" and azure.verified_ids() == ("alice@contoso.com", "dl_u.alice@contoso.com")
    unsigned = identify(channel="webchat", user_id="dl_u.alice", aad_object_id=None, channel_authenticated=False)
    assert not unsigned.verified  # auth off: anyone can write that id
    embedded = identify(
        channel="webchat", user_id="dl_u.bob", aad_object_id="aad-x", channel_authenticated=False,
        embedded=True, embedded_vouched="dl_u.bob",
    )  # fmt: skip
    assert embedded.proof == "portal" and embedded.verified_ids() == ("bob", "dl_u.bob")
    other = identify(
        channel="webchat", user_id="dl_u.mallory", aad_object_id=None, channel_authenticated=False,
        embedded=True, embedded_vouched="dl_u.bob",
    )  # fmt: skip
    assert not other.verified
    anonymous_embedded = identify(
        channel="webchat", user_id="dl_u.bob", aad_object_id=None, channel_authenticated=True, embedded=True
    )
    assert not anonymous_embedded.verified  # the embedded endpoint's own claims decide, not the id's shape


@pytest.mark.parametrize(
    ("policy", "identity", "live", "fix_ids"),
    [
        (AUTH_ON, Identity("msteams", "29:u", "aad-1", "teams"), True, ("aad-1", "29:u")),
        (AUTH_ON, Identity("webchat", "29:u", "aad-1"), False, ()),
        (LOCAL, Identity("test", "u", "aad-1"), True, ()),
        (LOCAL_DEMO, Identity("test", "u", "aad-1"), True, ("aad-1", "u")),
        (LAB, Identity("test", "u", "aad-1"), False, ()),  # reachable from elsewhere: no local trust
    ],
)
def test_what_each_may_see_and_do(
    policy: TrustPolicy, identity: Identity, live: bool, fix_ids: tuple[str, ...]
) -> None:
    access = policy.access(identity)
    assert access.live is live and access.fix_ids == fix_ids


# --- the allow-list with spoofed ids, through the dialogs -----------------------------------------------------------


class _Claims(Middleware):
    """Puts a validated-token claims identity on the turn, as botbuilder does after checking a real JWT."""

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        claims = {"iss": "https://api.botframework.com", "aud": APP_ID}
        context.turn_state[BotAdapter.BOT_IDENTITY_KEY] = ClaimsIdentity(claims, True)
        await logic()


def _finding() -> CheckResult:
    return CheckResult(
        id="flow-activation-order",
        title="Child flows on before Partner Center to CRM",
        system=System.power_automate,
        status=Status.fail,
        summary="Child flows are off.",
        entries=("cfg-activate-pc-to-crm",),
        evidence={"area": "configuration"},
        fix=Fix(entry="cfg-activate-pc-to-crm", action="start-flows-in-order"),
    )


def _harness(knowledge: Any, policy: TrustPolicy, user: ChannelAccount, *, channel: str = "test", signed: bool = False):  # type: ignore[no-untyped-def]
    remediation = FakeRemediation(admins=frozenset({ADMIN_AAD, "29:admin", "alice@contoso.com"}))
    live = FakeLiveFindings(
        results={"flow-activation-order": _finding()}, by_entry={"cfg-activate-pc-to-crm": ["flow-activation-order"]}
    )
    h = DialogHarness(knowledge, live=live, remediation=remediation, user=user, channel_id=channel, trust=policy)
    if signed:
        h.adapter.use(_Claims())
    return h, remediation


SPOOFED_ADMIN = ChannelAccount(id="29:admin", name="Admin", aad_object_id=ADMIN_AAD)


async def test_auth_off_a_spoofed_admin_id_runs_no_fix(knowledge) -> None:  # type: ignore[no-untyped-def]
    h, remediation = _harness(knowledge, LOCAL, SPOOFED_ADMIN)
    findings, elsewhere, _answer = await h.send(QUESTION)
    assert "❌" in findings  # the operator's own loopback machine: findings, yes
    assert "COSELL_ADMIN_ALLOWLIST" in elsewhere and "Fix it for me" not in elsewhere  # who can, never the button
    await h.send("Fix it for me")  # typed anyway: nothing is planned or run
    assert remediation.planned == [] and remediation.executed == []


async def test_auth_on_an_unauthenticated_turn_sees_no_tenant_data(knowledge) -> None:  # type: ignore[no-untyped-def]
    h, remediation = _harness(knowledge, AUTH_ON, SPOOFED_ADMIN, channel="msteams")
    replies = await h.send(QUESTION)
    text = "\n".join(replies)
    assert HIDDEN in text and "❌" not in text and "Child flows are off" not in text and "I can fix this" not in text
    assert len(replies) == 2  # the line, then the FAQ answer (a card on Teams)
    again = "\n".join(await h.send(QUESTION))
    assert HIDDEN not in again  # said once per conversation
    assert "\n".join(await h.send("diagnose everything")).count(HIDDEN) == 1  # an explicit diagnose always says why
    assert remediation.planned == []


async def test_auth_on_a_spoofed_aad_id_on_web_chat_is_not_an_admin(knowledge) -> None:  # type: ignore[no-untyped-def]
    h, remediation = _harness(knowledge, AUTH_ON, SPOOFED_ADMIN, channel="webchat", signed=True)
    text = "\n".join(await h.send(QUESTION))
    assert HIDDEN in text and "❌" not in text and remediation.planned == []


async def test_teams_with_auth_on_proves_the_admin(knowledge) -> None:  # type: ignore[no-untyped-def]
    h, remediation = _harness(knowledge, AUTH_ON, SPOOFED_ADMIN, channel="msteams", signed=True)
    findings, _offer = await h.send(QUESTION)
    assert "❌" in findings
    await h.send("Fix it for me")
    assert remediation.planned == ["start-flows-in-order"]  # the preview (a card on Teams) was built


async def test_teams_user_not_on_the_allow_list_is_refused(knowledge) -> None:  # type: ignore[no-untyped-def]
    stranger = ChannelAccount(id="29:someone", name="Someone", aad_object_id="aad-someone")
    h, remediation = _harness(knowledge, AUTH_ON, stranger, channel="msteams", signed=True)
    replies = await h.send(QUESTION)
    assert any("COSELL_ADMIN_ALLOWLIST" in r for r in replies) and not any("Fix it for me" in r for r in replies)
    await h.send("Fix it for me")
    assert remediation.planned == []


async def test_azure_direct_line_vouched_user_is_matched_by_the_portal_id(knowledge) -> None:  # type: ignore[no-untyped-def]
    alice = ChannelAccount(id="dl_u.alice@contoso.com", name="Alice")
    h, remediation = _harness(knowledge, AUTH_ON, alice, channel="webchat", signed=True)
    await h.send(QUESTION)
    await h.send("Fix it for me")
    assert remediation.planned == ["start-flows-in-order"]


async def test_lab_mode_trusts_nobody(knowledge) -> None:  # type: ignore[no-untyped-def]
    h, remediation = _harness(knowledge, LAB, SPOOFED_ADMIN)
    text = "\n".join(await h.send(QUESTION))
    assert HIDDEN in text and "❌" not in text and remediation.planned == []


# --- over HTTP, against the simulated tenant ---------------------------------------------------------------------


@pytest.fixture
async def tenant(aiohttp_server) -> AsyncIterator[int]:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(create_sandbox_app(load_scenario("low-storage")), host=HOST)
    yield server.port


def _live_settings(make_settings, port: int, **overrides: Any):  # type: ignore[no-untyped-def]
    base = make_settings(directline_secret="", **overrides)
    return demo_settings(base, load_scenario("low-storage"), port)


async def _chat(client, auth_header: dict[str, str] | None = None, body: dict | None = None) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    resp = await client.post("/api/directline/token", json=body or {}, headers=auth_header or {})
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    return data["conversationId"], {"Authorization": f"Bearer {data['token']}"} | {"_user": data["userId"]}


async def _say(client, conversation: str, auth: dict[str, str], text: str) -> str:  # type: ignore[no-untyped-def]
    headers = {"Authorization": auth["Authorization"]}
    activity = {"type": "message", "text": text, "from": {"id": "29:admin", "aadObjectId": ADMIN_AAD}}
    resp = await client.post(f"{BASE}/conversations/{conversation}/activities", json=activity, headers=headers)
    assert resp.status == 200, await resp.text()
    await dl.settle(client)  # the turn runs in the background
    got = await (await client.get(f"{BASE}/conversations/{conversation}/activities", headers=headers)).json()
    bot = [a for a in got["activities"] if a.get("from", {}).get("role") == "bot"]
    # everything the user could read: the text, a card's summary and the card itself
    return "\n".join(
        f"{a.get('text') or ''} {a.get('summary') or ''} {json.dumps(a.get('attachments') or [], ensure_ascii=False)}"
        for a in bot
    )


async def test_anonymous_web_chat_with_auth_on_never_sees_the_tenant(  # type: ignore[no-untyped-def]
    aiohttp_client, make_settings, knowledge, tenant
) -> None:
    settings = _live_settings(make_settings, tenant, app_id=APP_ID, app_password="x", directline_portal_key=PORTAL_KEY)
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    conversation, auth = await _chat(client)
    text = await _say(client, conversation, auth, "diagnose everything")
    assert HIDDEN in text and "GB" not in text and "Contoso" not in text and "❌" not in text and "✅" not in text


async def test_a_user_the_portal_vouched_for_sees_the_findings(  # type: ignore[no-untyped-def]
    aiohttp_client, make_settings, knowledge, tenant
) -> None:
    settings = _live_settings(make_settings, tenant, app_id=APP_ID, app_password="x", directline_portal_key=PORTAL_KEY)
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    vouch = {"Authorization": f"Bearer {PORTAL_KEY}"}
    conversation, auth = await _chat(client, vouch, {"user": {"id": "alice@contoso.com"}})
    assert auth["_user"] == "dl_u.alice@contoso.com"
    text = await _say(client, conversation, auth, "diagnose everything")
    assert HIDDEN not in text and "GB" in text  # the low-storage scenario's capacity finding
    wrong = await client.post(
        "/api/directline/token", json={"user": {"id": "x"}}, headers={"Authorization": "Bearer no"}
    )
    assert wrong.status == 403
    bad_id = await client.post("/api/directline/token", json={"user": {"id": "a b\n"}}, headers=vouch)
    assert bad_id.status == 400 and "user.id" in (await bad_id.json())["error"]["message"]


async def test_auth_on_without_a_way_to_verify_web_users_mounts_no_direct_line(  # type: ignore[no-untyped-def]
    aiohttp_client, make_settings, knowledge
) -> None:
    client = await aiohttp_client(create_app(make_settings(app_id=APP_ID, app_password="x"), knowledge=knowledge))
    token = await client.post("/api/directline/token", json={})
    assert token.status == 404 and "COSELL_DIRECTLINE_PORTAL_KEY" in (await token.json())["error"]["message"]
    assert (await client.post(f"{BASE}/tokens/generate", json={})).status in (404, 405)
    explicit = make_settings(app_id=APP_ID, app_password="x", directline_embedded=True)
    opened = await aiohttp_client(create_app(explicit, knowledge=knowledge))
    assert (await opened.post("/api/directline/token", json={})).status == 200


async def test_auth_off_loopback_web_chat_sees_the_findings(  # type: ignore[no-untyped-def]
    aiohttp_client, make_settings, knowledge, tenant
) -> None:
    client = await aiohttp_client(create_app(_live_settings(make_settings, tenant), knowledge=knowledge))
    conversation, auth = await _chat(client)
    text = await _say(client, conversation, auth, "diagnose everything")
    assert HIDDEN not in text and "GB" in text


async def test_the_terminal_is_the_operator_even_with_auth_on(make_settings, tenant) -> None:  # type: ignore[no-untyped-def]
    from bot.local import LocalConversation
    from bot.wiring import build_assistant

    settings = _live_settings(make_settings, tenant, app_id=APP_ID, app_password="x")
    assistant = build_assistant(settings)
    try:
        text = (await LocalConversation(assistant).say("diagnose everything")).text
    finally:
        await assistant.close()
    assert HIDDEN not in text and "GB" in text  # `cosell-bot chat` with a production .env: the operator sees the tenant
