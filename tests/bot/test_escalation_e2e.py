"""Escalation end to end over HTTP: the web app (`serve`'s app, its outbox running), a fake Bot Connector on
127.0.0.1 standing for Teams, a webhook receiver checking the signature, and two users — a Teams user whose replies go
to the connector, and an Italian user in Web Chat through the embedded Direct Line.

Support staff act as Teams would send it: `adaptiveCard/action` invokes from the case's thread (Take / Reply /
Resolve) and messages in that thread."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.app import ASSISTANT, create_app
from devtools.fake_connector import ConnectorCall, FakeConnector
from support.signing import verify
from tests.directline_client import BASE, activities, message, start

SUPPORT_CHANNEL = "19:support-team@thread.tacv2"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SECRET = "webhook-secret-for-tests-0123456789"
LINK_SECRET = "case-link-secret-for-tests-0123456789abcdef"
REF = re.compile(r"CS-[A-Z0-9]{6}")


class Receiver:
    """A webhook endpoint: keeps each request whose signature verifies, answers 503 while `down`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.refused = 0
        self.down = 0
        self.keys: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        if self.down:
            self.down -= 1
            return web.Response(status=503)
        raw = await request.read()
        headers = request.headers
        if not verify(SECRET, headers.get("X-Cosell-Timestamp"), headers.get("X-Cosell-Signature"), raw, time.time()):
            self.refused += 1
            return web.Response(status=401)
        self.keys.append(headers["Idempotency-Key"])
        self.bodies.append(json.loads(raw))
        return web.json_response({"ok": True}, status=202)


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as fake:
        yield fake


@pytest.fixture
async def receiver(aiohttp_server) -> tuple[Receiver, str]:  # type: ignore[no-untyped-def]
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    server = await aiohttp_server(app)
    return hook, str(server.make_url("/hook"))


@pytest.fixture
def escalation_settings(make_settings, connector: FakeConnector, receiver):  # type: ignore[no-untyped-def]
    hook, url = receiver
    return make_settings(
        support_teams_channel_id=SUPPORT_CHANNEL,
        support_teams_service_url=connector.url,
        support_teams_tenant_id=TENANT,
        support_handoff_event=True,
        support_webhook_url=url,
        support_webhook_secret=SECRET,
        public_url="http://127.0.0.1:3978",
        case_link_secret=LINK_SECRET,
    )


def _teams(text: str | None, connector: FakeConnector, conversation: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "conversation": {"id": conversation, "conversationType": "personal", "tenantId": TENANT},
        "from": {"id": "29:mario", "name": "Mario Bianchi", "aadObjectId": "6f1a4b0e-0000-4000-8000-000000000001"},
        "recipient": {"id": "28:bot", "name": "Co-sell"},
        "locale": "en-US",
        "text": text,
        **extra,
    }


def _staff(connector: FakeConnector, thread: str, **activity: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "conversation": {"id": thread, "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
        "from": {"id": "29:giulia", "name": "Giulia Rossi", "aadObjectId": "6f1a4b0e-0000-4000-8000-000000000002"},
        "recipient": {"id": "28:bot", "name": "Co-sell"},
        "channelData": {"channel": {"id": SUPPORT_CHANNEL}, "tenant": {"id": TENANT}},
        **activity,
    }


def _case_action(connector: FakeConnector, thread: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}}
    return _staff(connector, thread, type="invoke", name="adaptiveCard/action", value=value)


def _said(call: ConnectorCall) -> str:
    activity = call.activity
    return f"{activity.get('text') or ''} {activity.get('summary') or ''} {json.dumps(activity.get('attachments'))}"


def _to(conversation: str, text: str) -> Any:
    return lambda c: c.kind != "create_conversation" and c.conversation_id == conversation and text in _said(c)


async def test_a_teams_user_escalates_and_support_takes_replies_and_resolves(  # noqa: PLR0915
    aiohttp_client,
    escalation_settings,
    knowledge,
    connector: FakeConnector,
    receiver,  # type: ignore[no-untyped-def]
) -> None:
    hook, _ = receiver
    client = await aiohttp_client(create_app(escalation_settings, knowledge=knowledge))
    user = "a:1mario-personal-chat"
    for text in (
        "our referrals are not synchronized properly between partner center and dynamics",
        "I need to talk to someone from support",
    ):
        assert (await client.post("/api/messages", json=_teams(text, connector, user))).status in (200, 201)
    await connector.wait_for(_to(user, "This is what support will receive"))
    resp = await client.post(
        "/api/messages",
        json=_teams(
            None,
            connector,
            user,
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {
                    "type": "Action.Execute",
                    "verb": "choose",
                    "data": {"choice": "send", "card": "handoff_preview"},
                }
            },
        ),
    )
    assert resp.status == 200
    ack = await connector.wait_for(_to(user, "Your case reference is"))
    ref = REF.search(_said(ack)).group()  # type: ignore[union-attr]

    # the support channel gets a new thread holding the case card, with the user's words and the buttons
    created = await connector.wait_for(lambda c: c.kind == "create_conversation")
    assert created.body["channelData"]["channel"]["id"] == SUPPORT_CHANNEL and created.body["isGroup"] is True
    card = created.activity["attachments"][0]["content"]
    card_text = json.dumps(card)
    assert ref in card_text and "Take" in card_text and "Resolve" in card_text and "Mario Bianchi" in card_text
    link = re.search(r"\((http://127\.0\.0\.1:3978/cases/[^)]+)\)", card_text)
    assert link is not None
    assistant = client.server.app[ASSISTANT]
    case = await _eventually(lambda: assistant.support.cases.get(ref), lambda c: c.support_thread is not None)
    # the thread's reference is stored with the case: any instance can post to it
    thread = case.support_thread["conversation"]["id"]
    assert thread.startswith(SUPPORT_CHANNEL + ";messageid=")

    # the handoff.initiate event, with the conversation as the Transcript attachment
    event = await connector.wait_for(
        lambda c: c.conversation_id == user and c.activity.get("name") == "handoff.initiate"
    )
    [transcript] = event.activity["attachments"]
    assert transcript["name"] == "Transcript" and transcript["contentType"] == "application/json"
    texts = [a.get("text") for a in transcript["content"]["activities"]]
    assert "I need to talk to someone from support" in texts
    assert event.activity["value"]["caseRef"] == ref

    # the signed webhook
    for _ in range(50):
        if hook.bodies:
            break
        await asyncio.sleep(0.05)
    assert (
        hook.refused == 0
        and hook.bodies[0]["bundle"]["ref"] == ref
        and hook.bodies[0]["bundle"]["schema"] == "cosell.case.v1"
    )

    # Take: the card comes back refreshed, the user is told who has the case, the card is updated in place
    resp = await client.post("/api/messages", json=_case_action(connector, thread, "case_take", {"case": ref}))
    body = await resp.json()
    assert resp.status == 200 and body["statusCode"] == 200 and "Taken by Giulia Rossi" in json.dumps(body["value"])
    await connector.wait_for(_to(user, "Giulia Rossi"))
    await connector.wait_for(lambda c: c.kind == "update_activity" and "Taken by Giulia Rossi" in json.dumps(c.body))

    # a staff message in the thread reaches the user; the user's answer reaches the thread
    staff_text = "Please run the Partner Center Webhook Registration flow again"
    await client.post("/api/messages", json=_staff(connector, thread, type="message", text=staff_text))
    await connector.wait_for(_to(user, staff_text))
    await client.post("/api/messages", json=_teams("done, and the first referral arrived", connector, user))
    await connector.wait_for(_to(user, f"Sent to support (case {ref})"))
    await connector.wait_for(
        lambda c: _thread(c.conversation_id) == _thread(thread) and "first referral arrived" in _said(c)
    )

    # Resolve: the user is told and asked for a rating; a card from another conversation cannot resolve it
    forged = _case_action(connector, user, "case_resolve", {"case": ref})
    refused = await (await client.post("/api/messages", json=forged)).json()
    assert refused["statusCode"] == 400
    resp = await client.post(
        "/api/messages",
        json=_case_action(connector, thread, "case_resolve", {"case": ref, "reply": "Webhook re-registered"}),
    )
    assert "Resolved by Giulia Rossi" in json.dumps((await resp.json())["value"])
    await connector.wait_for(_to(user, "resolved your case"))
    stored = await assistant.support.cases.get(ref)
    assert stored is not None and stored.status == "resolved"

    # the bundle page: the signed link from the card works, nothing else does
    path = link.group(1).removeprefix("http://127.0.0.1:3978")
    page = await client.get(path)
    html = await page.text()
    assert page.status == 200 and ref in html and "Mario Bianchi" in html and "<script" not in html
    assert (await client.get(f"/cases/{ref}")).status == 401
    assert (await client.get(path.replace("sig=", "sig=0"))).status == 401


async def _eventually(read: Any, ok: Any, timeout: float = 5.0) -> Any:  # noqa: ASYNC109
    """Poll `read()` until `ok(value)`: what the outbox does happens after the turn that caused it."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if value is not None and ok(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting; last value {value!r}"
        await asyncio.sleep(0.02)


def _thread(conversation_id: str | None) -> str:
    return (conversation_id or "").split(";messageid=")[0]


async def test_an_italian_web_chat_user_escalates_and_hears_back_in_italian(
    aiohttp_client,
    escalation_settings,
    knowledge,
    connector: FakeConnector,  # type: ignore[no-untyped-def]
) -> None:
    client = await aiohttp_client(create_app(escalation_settings, knowledge=knowledge))
    conversation, auth = await start(client, locale="it-IT")

    async def say(text: str | None, **extra: Any) -> None:
        body = message(text or "", locale="it-IT", **extra)
        if text is None:
            body.pop("text")
        resp = await client.post(f"{BASE}/conversations/{conversation}/activities", json=body, headers=auth)
        assert resp.status == 200, await resp.text()

    await say("vorrei parlare con un tecnico dell'assistenza")
    await say("il flusso Partner Center to Dynamics 365 si ferma con errore 401")
    await say(None, value={"choice": "send", "card": "handoff_preview"})
    shown = json.dumps((await activities(client, conversation, auth))["activities"], ensure_ascii=False)
    ref = REF.search(shown)
    assert ref is not None and "Il riferimento del tuo caso è" in shown and "cosa non funziona" in shown, shown[-3000:]
    created = await connector.wait_for(lambda c: c.kind == "create_conversation")
    assert ref.group() in json.dumps(created.body)
    assistant = client.server.app[ASSISTANT]
    case = await _eventually(lambda: assistant.support.cases.get(ref.group()), lambda c: c.support_thread is not None)
    assert case.lang == "it"
    thread = case.support_thread["conversation"]["id"]
    await client.post("/api/messages", json=_case_action(connector, thread, "case_take", {"case": ref.group()}))
    await client.post("/api/messages", json=_staff(connector, thread, type="message", text="Ciao, controllo subito"))
    for _ in range(100):  # the outbox delivers into the embedded Direct Line, for the next poll
        shown = json.dumps((await activities(client, conversation, auth))["activities"], ensure_ascii=False)
        if "Ciao, controllo subito" in shown:
            break
        await asyncio.sleep(0.05)
    assert "Giulia Rossi** dell'assistenza ha preso il tuo caso" in shown and "Ciao, controllo subito" in shown


async def test_a_bot_not_installed_in_the_support_team_is_said_and_retried(
    aiohttp_client,
    escalation_settings,
    knowledge,
    connector: FakeConnector,
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    connector.not_in_roster = True
    client = await aiohttp_client(create_app(escalation_settings, knowledge=knowledge))
    user = "a:1installed-nowhere"
    for text in (
        "our referrals are not synchronized properly between partner center and dynamics",
        "talk to a person",
        "send",
    ):
        await client.post("/api/messages", json=_teams(text, connector, user))
    ack = await connector.wait_for(_to(user, "Your case reference is"))
    ref = REF.search(_said(ack)).group()  # type: ignore[union-attr]
    await connector.wait_for(lambda c: c.kind == "create_conversation" and c.status == 403)
    assistant = client.server.app[ASSISTANT]
    for _ in range(50):
        items = {i.target: i for i in await assistant.support.cases.deliveries(ref)}
        if items["teams"].attempts:
            break
        await asyncio.sleep(0.05)
    teams = items["teams"]
    assert teams.status == "pending" and teams.attempts == 1 and "not installed" in (teams.last_error or "")
    assert any("not installed" in r.getMessage() for r in caplog.records)
    connector.not_in_roster = False  # the app is installed now: the next try delivers it, once
    with assistant.database.sync_transaction() as conn:  # the backoff has passed
        conn.execute("UPDATE outbox SET next_at = '2000-01-01T00:00:00.000000+00:00' WHERE target = 'teams'")
    assistant.support.outbox.wake()
    await connector.wait_for(lambda c: c.kind == "create_conversation" and c.status < 300)

    async def teams_item() -> Any:
        return {i.target: i for i in await assistant.support.cases.deliveries(ref)}["teams"]

    await _eventually(teams_item, lambda item: item.status == "delivered")
    await assistant.support.outbox.run_once()
    posted = [c for c in connector.calls if c.kind == "create_conversation" and c.status < 300]
    assert len(posted) == 1


async def _escalate(client: Any, connector: FakeConnector, user: str) -> str:
    for text in (
        "our referrals are not synchronized properly between partner center and dynamics",
        "talk to a person",
        "send",
    ):
        assert (await client.post("/api/messages", json=_teams(text, connector, user))).status in (200, 201)
    ack = await connector.wait_for(_to(user, "Your case reference is"))
    found = REF.search(_said(ack))
    assert found is not None
    return found.group()


async def test_staff_reply_from_the_card_and_handoff_status_events_update_the_case(
    aiohttp_client,
    escalation_settings,
    knowledge,
    connector: FakeConnector,  # type: ignore[no-untyped-def]
) -> None:
    client = await aiohttp_client(create_app(escalation_settings, knowledge=knowledge))
    user = "a:1hub-user"
    ref = await _escalate(client, connector, user)
    assistant = client.server.app[ASSISTANT]
    case = await _eventually(lambda: assistant.support.cases.get(ref), lambda c: c.support_thread is not None)
    thread = case.support_thread["conversation"]["id"]
    reply = {"case": ref, "reply": "Which environment is it?"}
    await client.post("/api/messages", json=_case_action(connector, thread, "case_reply", reply))
    await connector.wait_for(_to(user, "Which environment is it?"))

    def hub(state: str) -> dict[str, Any]:
        return _teams(None, connector, user, type="event", name="handoff.status", value={"state": state})

    await client.post("/api/messages", json=hub("accepted"))
    taken = await assistant.support.cases.get(ref)
    assert taken is not None and (taken.status, taken.taken_by) == ("taken", "agent hub")
    await client.post("/api/messages", json=hub("completed"))
    done = await assistant.support.cases.get(ref)
    assert done is not None and done.status == "resolved"
    kinds = [e.kind for e in await assistant.support.cases.events(ref)]
    assert kinds[0] == "staff_reply" and kinds[-2:] == ["taken", "resolved"]


async def test_a_support_channel_that_is_down_gets_the_case_once_after_a_restart(
    aiohttp_client,
    escalation_settings,
    knowledge,
    connector: FakeConnector,  # type: ignore[no-untyped-def]
) -> None:
    # the support team's Bot Connector is unreachable (a dead port) for the first instance
    down = escalation_settings.model_copy(update={"support_teams_service_url": "http://127.0.0.1:9"})
    client = await aiohttp_client(create_app(down, knowledge=knowledge))
    ref = await _escalate(client, connector, "a:1restart-user")
    cases = client.server.app[ASSISTANT].support.cases

    async def teams_item() -> Any:
        return {i.target: i for i in await cases.deliveries(ref)}["teams"]

    failed = await _eventually(teams_item, lambda item: item.attempts >= 1)
    assert failed.status == "pending" and "unreachable" in (failed.last_error or "")
    await client.close()  # the instance goes away with the case undelivered

    again = await aiohttp_client(create_app(escalation_settings, knowledge=knowledge))  # same database, restarted
    assistant = again.server.app[ASSISTANT]
    cases = assistant.support.cases
    with assistant.database.sync_transaction() as conn:  # the backoff has passed
        conn.execute("UPDATE outbox SET next_at = '2000-01-01T00:00:00.000000+00:00' WHERE status = 'pending'")
    assistant.support.outbox.wake()
    await _eventually(teams_item, lambda item: item.status == "delivered")
    await assistant.support.outbox.run_once()
    posted = [c for c in connector.calls if c.kind == "create_conversation" and c.status < 300]
    assert len(posted) == 1 and ref in json.dumps(posted[0].body)


async def test_handoff_status_is_ignored_without_an_agent_hub(
    aiohttp_client,
    escalation_settings,
    knowledge,
    connector: FakeConnector,  # type: ignore[no-untyped-def]
) -> None:
    settings = escalation_settings.model_copy(update={"support_handoff_event": False})
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    user = "a:1no-hub-user"
    ref = await _escalate(client, connector, user)
    event = _teams(None, connector, user, type="event", name="handoff.status", value={"state": "completed"})
    await client.post("/api/messages", json=event)
    case = await client.server.app[ASSISTANT].support.cases.get(ref)
    assert case is not None and case.status == "open"  # a user's own client cannot close the case this way
