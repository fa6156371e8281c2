"""The embedded Direct Line 3.0 endpoint over HTTP as Web Chat (DirectLineJS) uses it: welcome, echo with
clientActivityID, watermarks, token refresh and expiry, idle conversations, isolation, bad tokens and bodies, locale,
auth on."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from bot.app import DIRECT_LINE, create_app
from tests import directline_client as dl
from tests.directline_client import BASE, WELCOME_EN


async def test_start_conversation_sends_the_welcome_once(client) -> None:
    conversation, auth = await dl.start(client)
    page = await dl.activities(client, conversation, auth)
    [welcome] = page["activities"]
    assert welcome["type"] == "message" and WELCOME_EN in welcome["summary"]
    assert [a["data"] for a in welcome["attachments"][0]["content"]["actions"]][0] == {"area": "prerequisites"}
    assert welcome["from"]["role"] == "bot" and welcome["channelId"] == "webchat"
    assert welcome["id"].startswith(f"{conversation}|") and welcome["timestamp"].endswith("Z")
    assert page["watermark"] == "1"
    again = await client.post(f"{BASE}/conversations", json={}, headers=auth)
    assert again.status == 200  # already started: no second welcome
    assert (await dl.activities(client, conversation, auth, "1"))["activities"] == []


async def test_post_is_echoed_with_client_activity_id_then_answered(client) -> None:
    conversation, auth = await dl.start(client)
    resp = await client.post(
        f"{BASE}/conversations/{conversation}/activities", json=dl.message("Solution ID is required"), headers=auth
    )
    assert resp.status == 200
    posted_id = (await resp.json())["id"]
    echo, answer = (await dl.activities(client, conversation, auth, "1"))["activities"]
    assert echo["id"] == posted_id and echo["channelData"]["clientActivityID"] == "c-1"
    assert echo["from"]["role"] == "user" and echo["from"]["id"].startswith("user-")  # bound to the token's user
    assert echo["text"] == "Solution ID is required" and echo["localTimezone"] == "Europe/Rome"
    assert echo["conversation"] == {"id": conversation} and "deliveryMode" not in echo
    assert answer["from"]["role"] == "bot" and "co-sell ready solution" in answer["summary"]
    [card] = answer["attachments"]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive" and card["content"]["version"] == "1.5"
    submits = [a for a in card["content"]["actions"] if a["type"] == "Action.Submit"]  # Web Chat: no Action.Execute
    assert [a["title"] for a in submits] == ["Yes, it helped", "No"]
    assert echo["timestamp"] < answer["timestamp"]  # Web Chat orders by timestamp


async def test_watermark_pages_only_newer_activities(client) -> None:
    conversation, auth = await dl.start(client)
    for n, text in enumerate(["Solution ID is required", "Yes, it helped"]):
        await client.post(
            f"{BASE}/conversations/{conversation}/activities", json=dl.message(text, f"c-{n}"), headers=auth
        )
    everything = await dl.activities(client, conversation, auth)
    assert len(everything["activities"]) == 5 and everything["watermark"] == "5"
    newer = await dl.activities(client, conversation, auth, "3")
    assert [a["text"] for a in newer["activities"]] == ["Yes, it helped", "Great, glad it helped! Anything else?"]
    assert (await dl.activities(client, conversation, auth, "5")) == {"activities": [], "watermark": "5"}
    bad = await client.get(f"{BASE}/conversations/{conversation}/activities?watermark=x", headers=auth)
    assert bad.status == 400


async def test_refresh_issues_a_new_token_and_the_old_one_expires(client) -> None:
    now = [1000.0]
    client.app[DIRECT_LINE].clock = lambda: now[0]
    conversation, old = await dl.start(client)
    now[0] += 1000
    resp = await client.post(f"{BASE}/tokens/refresh", headers=old)
    assert resp.status == 200
    refreshed = await resp.json()
    new = {"Authorization": f"Bearer {refreshed['token']}"}
    assert refreshed["conversationId"] == conversation and refreshed["token"] != old["Authorization"][7:]
    await dl.activities(client, conversation, old)  # still valid until its own expiry
    now[0] += 801  # 1801 s after the first token, 801 s after the refresh
    stale = await client.get(f"{BASE}/conversations/{conversation}/activities", headers=old)
    assert stale.status == 403  # DirectLineJS reads 403 as ExpiredToken
    assert (await client.post(f"{BASE}/tokens/refresh", headers=old)).status == 403
    assert len((await dl.activities(client, conversation, new))["activities"]) == 1
    reconnect = await client.get(f"{BASE}/conversations/{conversation}", headers=new)
    assert reconnect.status == 200 and (await reconnect.json())["expires_in"] == 999


async def test_idle_conversations_are_forgotten(client) -> None:
    now = [0.0]
    direct_line = client.app[DIRECT_LINE]
    direct_line.clock = lambda: now[0]
    idle, _ = await dl.start(client)
    active, auth = await dl.start(client)
    now[0] += 1000
    await dl.activities(client, active, auth)  # polling keeps a conversation alive
    now[0] += 900
    await dl.session(client)  # a new conversation sweeps the old ones
    assert not await direct_line.has(idle) and await direct_line.has(active)


async def test_one_token_cannot_reach_another_conversation(client) -> None:
    mine, my_auth = await dl.start(client)
    theirs, _ = await dl.start(client)
    for method, path in [
        ("GET", f"/conversations/{theirs}/activities"),
        ("POST", f"/conversations/{theirs}/activities"),
        ("GET", f"/conversations/{theirs}"),
    ]:
        resp = await client.request(method, BASE + path, json=dl.message("hi"), headers=my_auth)
        assert resp.status == 403, path
    assert len((await dl.activities(client, mine, my_auth))["activities"]) == 1


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Basic dXNlcjpwYXNz", 401), ("Bearer", 401), ("Bearer not-a-token", 403)],
)
async def test_missing_or_bad_token_is_refused(client, authorization, status) -> None:
    conversation, _ = await dl.start(client)
    headers = {"Authorization": authorization} if authorization else {}
    resp = await client.get(f"{BASE}/conversations/{conversation}/activities", headers=headers)
    assert resp.status == status
    assert (await resp.json())["error"]["code"]
    assert (await client.post(f"{BASE}/conversations", headers=headers)).status == status


async def test_unknown_conversation_is_404(client) -> None:
    _, auth = await dl.start(client)
    resp = await client.get(f"{BASE}/conversations/{uuid.uuid4().hex}/activities", headers=auth)
    assert resp.status == 404  # DirectLineJS reads 404 as Ended


async def test_bad_bodies_are_4xx(client, local_settings) -> None:
    conversation, auth = await dl.start(client)
    url = f"{BASE}/conversations/{conversation}/activities"
    headers = {**auth, "Content-Type": "application/json"}
    assert (await client.post(url, data="{not json", headers=headers)).status == 400
    assert (await client.post(url, json=["a", "list"], headers=auth)).status == 400
    assert (await client.post(url, json={"text": "no type"}, headers=auth)).status == 400
    assert (await client.post(url, json={"type": "message", "text": 42}, headers=auth)).status == 400
    assert (await client.post(url, json={"type": "message", "attachments": "x"}, headers=auth)).status == 400
    big = dl.message("x" * (local_settings.max_body_bytes + 10))
    assert (await client.post(url, json=big, headers=auth)).status == 413
    assert len((await dl.activities(client, conversation, auth))["activities"]) == 1  # nothing stored


async def test_italian_locale_gets_an_italian_welcome(client) -> None:
    conversation, auth = await dl.start(client, locale="it-IT")
    [welcome] = (await dl.activities(client, conversation, auth))["activities"]
    assert welcome["summary"].startswith("Ciao!") and welcome["locale"] == "it-IT"
    await client.post(
        f"{BASE}/conversations/{conversation}/activities",
        json=dl.message("quanto costa il connettore a pagamento?", locale="it-IT"),
        headers=auth,
    )
    echo, answer = (await dl.activities(client, conversation, auth, "1"))["activities"]
    assert echo["locale"] == "it-IT" and "Sì, utile" in json.dumps(answer, ensure_ascii=False)


async def test_works_with_bot_framework_auth_on(aiohttp_client, make_settings, knowledge) -> None:
    settings = make_settings(
        directline_secret="", app_id=str(uuid.uuid4()), app_password="not-a-real-secret", directline_embedded=True
    )
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    unsigned = {"type": "message", "text": "hi", "conversation": {"id": "c"}, "serviceUrl": "http://127.0.0.1:9"}
    assert (await client.post("/api/messages", json=unsigned)).status == 401  # the Bot Framework door stays locked
    conversation, auth = await dl.start(client)
    await client.post(f"{BASE}/conversations/{conversation}/activities", json=dl.message("prerequisites"), headers=auth)
    texts = [
        a.get("text") or a.get("summary", "") for a in (await dl.activities(client, conversation, auth))["activities"]
    ]
    assert WELCOME_EN in texts[0] and texts[1] == "prerequisites" and "step 1 of" in texts[2]


async def test_idle_conversations_leave_the_database_even_when_no_new_one_comes(client) -> None:
    now = [0.0]
    direct_line = client.app[DIRECT_LINE]
    direct_line.clock = lambda: now[0]
    conversation, _ = await dl.start(client)
    now[0] += direct_line.token_lifetime + 1
    sweeper = asyncio.create_task(direct_line._sweep_every(0.01))  # what open() starts, at a test's pace
    try:
        for _ in range(200):
            if not await direct_line.has(conversation):
                break
            await asyncio.sleep(0.01)
        assert not await direct_line.has(conversation)
        assert await direct_line.store.activities(conversation, 0) == ([], 0)  # its history went with it
    finally:
        sweeper.cancel()


async def test_a_failing_store_is_a_503_with_retry_after_never_a_500(client, monkeypatch) -> None:
    from bot.wiring import DatabaseError

    conversation, auth = await dl.start(client)

    async def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DatabaseError("PostgreSQL: OperationalError: the server closed the connection")

    monkeypatch.setattr(client.app[DIRECT_LINE].store, "token", down)
    for method, path in (("GET", f"/conversations/{conversation}/activities"), ("POST", "/tokens/refresh")):
        resp = await client.request(method, f"{BASE}{path}", headers=auth)
        assert resp.status == 503 and resp.headers["Retry-After"] == "5", await resp.text()
        assert (await resp.json())["error"]["code"] == "ServiceUnavailable"
    monkeypatch.undo()
    assert (await dl.activities(client, conversation, auth))["activities"]  # nothing lost: it answers again


async def test_polls_write_the_last_use_only_when_it_is_stale(client, monkeypatch) -> None:
    now = [5000.0]
    direct_line = client.app[DIRECT_LINE]
    direct_line.clock = lambda: now[0]
    conversation, auth = await dl.start(client)
    touches: list[float] = []
    write = direct_line.store.touch

    async def counted(conversation_id: str, when: float, granularity: float) -> None:
        touches.append(when)
        await write(conversation_id, when, granularity)

    monkeypatch.setattr(direct_line.store, "touch", counted)
    for _ in range(5):  # a poll a second: no write
        now[0] += 1
        await dl.activities(client, conversation, auth)
    assert touches == []
    now[0] += 60
    await dl.activities(client, conversation, auth)
    assert touches == [now[0]]
    assert (await direct_line.store.conversation(conversation)).touched == now[0]
