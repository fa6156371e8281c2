"""The embedded Direct Line 3.0 endpoint and the token route, over HTTP as Web Chat (DirectLineJS) uses them:
welcome, echo with clientActivityID, watermarks, token refresh and expiry, isolation, CORS, locale, bad input,
auth on, the page and bundle routes, and the Azure-mode token exchange against httpx.MockTransport."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest
from botbuilder.schema import Activity
from pydantic import ValidationError

import bot.channels.webchat as webchat
from bot.app import ASSISTANT, DIRECT_LINE, HTTP, create_app
from bot.settings import describe_error

BASE = "/v3/directline"
WELCOME_EN = "Hi! I help you troubleshoot"
# what Web Chat 4.18.1 posts (captured from the browser), minus the volatile fields
WEB_CHAT_HEADERS = {"x-ms-bot-agent": "DirectLine/3.0 (directlinejs; WebChat/4.18.1 (Full) 0.15.5)"}


def _message(text: str, client_id: str = "c-1", locale: str = "en-US", **extra: object) -> dict:
    return {
        "type": "message",
        "text": text,
        "textFormat": "plain",
        "channelId": "webchat",
        "from": {"id": "someone-else", "name": "", "role": "user"},
        "locale": locale,
        "localTimezone": "Europe/Rome",
        "attachments": [],
        "channelData": {"attachmentSizes": [], "clientActivityID": client_id},
        **extra,
    }


async def _session(client) -> tuple[str, dict[str, str], dict]:
    resp = await client.post("/api/directline/token")
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    data = await resp.json()
    return data["conversationId"], {"Authorization": f"Bearer {data['token']}", **WEB_CHAT_HEADERS}, data


async def _start(client, locale: str = "en-US") -> tuple[str, dict[str, str]]:
    conversation, auth, _ = await _session(client)
    resp = await client.post(f"{BASE}/conversations", json={"user": {"id": "ignored"}, "locale": locale}, headers=auth)
    assert resp.status == 201
    assert (await resp.json())["conversationId"] == conversation
    return conversation, auth


async def _activities(client, conversation: str, auth: dict[str, str], watermark: str = "") -> dict:
    resp = await client.get(f"{BASE}/conversations/{conversation}/activities?watermark={watermark}", headers=auth)
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.fixture
def local_settings(make_settings):
    return make_settings(directline_secret="")  # explicit: a DirectLineSecret in the environment must not leak in


@pytest.fixture
async def client(aiohttp_client, local_settings, knowledge):
    return await aiohttp_client(create_app(local_settings, knowledge=knowledge))


async def test_token_route_hands_out_an_embedded_session(client) -> None:
    conversation, _, data = await _session(client)
    assert data["domain"] == BASE and data["webSocket"] is False and data["expires_in"] == 1800
    assert data["userId"].startswith("user-") and not data["userId"].startswith("dl_")  # Web Chat would refuse dl_
    assert len(data["token"]) >= 40 and conversation not in data["token"]


async def test_start_conversation_sends_the_welcome_once(client) -> None:
    conversation, auth = await _start(client)
    page = await _activities(client, conversation, auth)
    [welcome] = page["activities"]
    assert welcome["type"] == "message" and WELCOME_EN in welcome["summary"]
    assert [a["data"] for a in welcome["attachments"][0]["content"]["actions"]][0] == {"area": "prerequisites"}
    assert welcome["from"]["role"] == "bot" and welcome["channelId"] == "webchat"
    assert welcome["id"].startswith(f"{conversation}|") and welcome["timestamp"].endswith("Z")
    assert page["watermark"] == "1"
    again = await client.post(f"{BASE}/conversations", json={}, headers=auth)
    assert again.status == 200  # already started: no second welcome
    assert (await _activities(client, conversation, auth, "1"))["activities"] == []


async def test_post_is_echoed_with_client_activity_id_then_answered(client) -> None:
    conversation, auth = await _start(client)
    resp = await client.post(
        f"{BASE}/conversations/{conversation}/activities", json=_message("Solution ID is required"), headers=auth
    )
    assert resp.status == 200
    posted_id = (await resp.json())["id"]
    echo, answer = (await _activities(client, conversation, auth, "1"))["activities"]
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
    conversation, auth = await _start(client)
    for n, text in enumerate(["Solution ID is required", "Yes, it helped"]):
        await client.post(
            f"{BASE}/conversations/{conversation}/activities", json=_message(text, f"c-{n}"), headers=auth
        )
    everything = await _activities(client, conversation, auth)
    assert len(everything["activities"]) == 5 and everything["watermark"] == "5"
    newer = await _activities(client, conversation, auth, "3")
    assert [a["text"] for a in newer["activities"]] == ["Yes, it helped", "Great, glad it helped! Anything else?"]
    assert (await _activities(client, conversation, auth, "5")) == {"activities": [], "watermark": "5"}
    bad = await client.get(f"{BASE}/conversations/{conversation}/activities?watermark=x", headers=auth)
    assert bad.status == 400


async def test_history_is_bounded_and_traces_are_dropped(client, monkeypatch) -> None:
    monkeypatch.setattr(webchat, "MAX_HISTORY", 3)
    bot = client.app[ASSISTANT].bot

    async def chatty(turn_context) -> None:
        await turn_context.send_activity(Activity(type="trace", name="BotState"))
        await turn_context.send_activity("pong")

    monkeypatch.setattr(bot, "on_turn", chatty)
    conversation, auth = await _start(client)
    for n in range(3):
        await client.post(
            f"{BASE}/conversations/{conversation}/activities", json=_message("ping", f"c-{n}"), headers=auth
        )
    page = await _activities(client, conversation, auth)
    assert page["watermark"] == "7"  # welcome turn's pong + 3 × (echo, pong)
    assert [a["text"] for a in page["activities"]] == ["pong", "ping", "pong"]
    assert all(a["type"] == "message" for a in page["activities"])


async def test_refresh_issues_a_new_token_and_the_old_one_expires(client) -> None:
    now = [1000.0]
    client.app[DIRECT_LINE].clock = lambda: now[0]
    conversation, old = await _start(client)
    now[0] += 1000
    resp = await client.post(f"{BASE}/tokens/refresh", headers=old)
    assert resp.status == 200
    refreshed = await resp.json()
    new = {"Authorization": f"Bearer {refreshed['token']}"}
    assert refreshed["conversationId"] == conversation and refreshed["token"] != old["Authorization"][7:]
    await _activities(client, conversation, old)  # still valid until its own expiry
    now[0] += 801  # 1801 s after the first token, 801 s after the refresh
    stale = await client.get(f"{BASE}/conversations/{conversation}/activities", headers=old)
    assert stale.status == 403  # DirectLineJS reads 403 as ExpiredToken
    assert (await client.post(f"{BASE}/tokens/refresh", headers=old)).status == 403
    assert len((await _activities(client, conversation, new))["activities"]) == 1
    reconnect = await client.get(f"{BASE}/conversations/{conversation}", headers=new)
    assert reconnect.status == 200 and (await reconnect.json())["expires_in"] == 999


async def test_idle_conversations_are_forgotten(client) -> None:
    now = [0.0]
    direct_line = client.app[DIRECT_LINE]
    direct_line.clock = lambda: now[0]
    idle, _ = await _start(client)
    active, auth = await _start(client)
    now[0] += 1000
    await _activities(client, active, auth)  # polling keeps a conversation alive
    now[0] += 900
    await _session(client)  # a new conversation sweeps the old ones
    assert idle not in direct_line and active in direct_line


async def test_one_token_cannot_reach_another_conversation(client) -> None:
    mine, my_auth = await _start(client)
    theirs, _ = await _start(client)
    for method, path in [
        ("GET", f"/conversations/{theirs}/activities"),
        ("POST", f"/conversations/{theirs}/activities"),
        ("GET", f"/conversations/{theirs}"),
    ]:
        resp = await client.request(method, BASE + path, json=_message("hi"), headers=my_auth)
        assert resp.status == 403, path
    assert len((await _activities(client, mine, my_auth))["activities"]) == 1


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Basic dXNlcjpwYXNz", 401), ("Bearer", 401), ("Bearer not-a-token", 403)],
)
async def test_missing_or_bad_token_is_refused(client, authorization, status) -> None:
    conversation, _ = await _start(client)
    headers = {"Authorization": authorization} if authorization else {}
    resp = await client.get(f"{BASE}/conversations/{conversation}/activities", headers=headers)
    assert resp.status == status
    assert (await resp.json())["error"]["code"]
    assert (await client.post(f"{BASE}/conversations", headers=headers)).status == status


async def test_unknown_conversation_is_404(client) -> None:
    _, auth = await _start(client)
    resp = await client.get(f"{BASE}/conversations/{uuid.uuid4().hex}/activities", headers=auth)
    assert resp.status == 404  # DirectLineJS reads 404 as Ended


async def test_bad_bodies_are_4xx(client, local_settings) -> None:
    conversation, auth = await _start(client)
    url = f"{BASE}/conversations/{conversation}/activities"
    headers = {**auth, "Content-Type": "application/json"}
    assert (await client.post(url, data="{not json", headers=headers)).status == 400
    assert (await client.post(url, json=["a", "list"], headers=auth)).status == 400
    assert (await client.post(url, json={"text": "no type"}, headers=auth)).status == 400
    assert (await client.post(url, json={"type": "message", "text": 42}, headers=auth)).status == 400
    assert (await client.post(url, json={"type": "message", "attachments": "x"}, headers=auth)).status == 400
    big = _message("x" * (local_settings.max_body_bytes + 10))
    assert (await client.post(url, json=big, headers=auth)).status == 413
    assert len((await _activities(client, conversation, auth))["activities"]) == 1  # nothing stored


async def test_italian_locale_gets_an_italian_welcome(client) -> None:
    conversation, auth = await _start(client, locale="it-IT")
    [welcome] = (await _activities(client, conversation, auth))["activities"]
    assert welcome["summary"].startswith("Ciao!") and welcome["locale"] == "it-IT"
    await client.post(
        f"{BASE}/conversations/{conversation}/activities",
        json=_message("quanto costa il connettore a pagamento?", locale="it-IT"),
        headers=auth,
    )
    echo, answer = (await _activities(client, conversation, auth, "1"))["activities"]
    assert echo["locale"] == "it-IT" and "Sì, utile" in json.dumps(answer, ensure_ascii=False)


async def test_cors_preflight_and_origin_policy(client) -> None:
    preflight = {
        "Origin": "http://localhost:5173",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-ms-bot-agent,x-requested-with",
    }
    resp = await client.options(f"{BASE}/conversations/abc/activities", headers=preflight)
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    allowed = {h.strip().casefold() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-ms-bot-agent", "x-requested-with"} <= allowed
    assert {"GET", "POST"} <= set(resp.headers["Access-Control-Allow-Methods"].replace(",", " ").split())
    token = await client.post("/api/directline/token", headers={"Origin": "http://127.0.0.1:8080"})
    assert token.status == 200 and token.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    evil = await client.post("/api/directline/token", headers={"Origin": "https://evil.example"})
    assert evil.status == 403 and "Access-Control-Allow-Origin" not in evil.headers
    refused = await client.options(f"{BASE}/tokens/refresh", headers={**preflight, "Origin": "https://evil.example"})
    assert refused.status == 403


async def test_configured_trusted_origins_replace_loopback(aiohttp_client, make_settings, knowledge) -> None:
    settings = make_settings(directline_secret="", trusted_origins="https://portal.contoso.com/")
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    ok = await client.post("/api/directline/token", headers={"Origin": "https://portal.contoso.com"})
    assert ok.status == 200
    assert (await client.post("/api/directline/token", headers={"Origin": "http://localhost:3000"})).status == 403
    same = f"http://{client.server.host}:{client.server.port}"
    assert (await client.post("/api/directline/token", headers={"Origin": same})).status == 200
    page = await client.get("/")
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://portal.contoso.com"


@pytest.mark.parametrize("value", ["portal.contoso.com", "https://portal.contoso.com/app", "ftp://x"])
def test_a_trusted_origin_must_be_an_origin(make_settings, value) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(trusted_origins=f"http://localhost:3000,{value}")
    assert "COSELL_TRUSTED_ORIGINS" in describe_error(info.value)


async def test_works_with_bot_framework_auth_on(aiohttp_client, make_settings, knowledge) -> None:
    settings = make_settings(
        directline_secret="", app_id=str(uuid.uuid4()), app_password="not-a-real-secret", directline_embedded=True
    )
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    unsigned = {"type": "message", "text": "hi", "conversation": {"id": "c"}, "serviceUrl": "http://127.0.0.1:9"}
    assert (await client.post("/api/messages", json=unsigned)).status == 401  # the Bot Framework door stays locked
    conversation, auth = await _start(client)
    await client.post(f"{BASE}/conversations/{conversation}/activities", json=_message("prerequisites"), headers=auth)
    texts = [
        a.get("text") or a.get("summary", "") for a in (await _activities(client, conversation, auth))["activities"]
    ]
    assert WELCOME_EN in texts[0] and texts[1] == "prerequisites" and "step 1 of" in texts[2]


async def test_page_embed_and_bundle(client, monkeypatch, tmp_path) -> None:
    page = await client.get("/")
    html = await page.text()
    assert (
        page.status == 200
        and 'src="/embed.js"' in html
        and "frame-ancestors" in page.headers["Content-Security-Policy"]
    )
    embed = await (await client.get("/embed.js")).text()
    assert "/api/directline/token" in embed and "createDirectLine" in embed and "__WEBCHAT_VERSION__" not in embed
    if webchat.BUNDLE.is_file():
        bundle = await client.get("/webchat/webchat.js")
        assert bundle.status == 200 and "immutable" in bundle.headers["Cache-Control"]
        assert bundle.headers["Content-Type"].startswith("text/javascript")
    monkeypatch.setattr(webchat, "BUNDLE", tmp_path / "missing" / "webchat.js")
    missing = await client.get("/webchat/webchat.js")
    assert missing.status == 503 and "scripts/bootstrap" in await missing.text()


# --- Azure mode --------------------------------------------------------------------------------------------------

SECRET = "dl-secret-value-never-shown"


@pytest.fixture
async def azure(aiohttp_client, make_settings, knowledge):
    """An app in Azure mode whose httpx client answers from `upstream` (a list of (request, response) pairs)."""
    calls: list[httpx.Request] = []
    answers: list[httpx.Response] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.host, request.url.path) != (
            "POST",
            "europe.directline.botframework.com",
            "/v3/directline/tokens/generate",
        ):
            pytest.fail(f"unexpected outbound call: {request.method} {request.url}")
        calls.append(request)
        return answers.pop(0)

    settings = make_settings(
        directline_secret=SECRET,
        directline_url="https://europe.directline.botframework.com/v3/directline",
        trusted_origins="https://portal.contoso.com",
    )
    app = create_app(settings, knowledge=knowledge)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        app[HTTP] = http
        yield await aiohttp_client(app), calls, answers


async def test_azure_mode_exchanges_the_secret_server_side(azure, caplog) -> None:
    client, calls, answers = azure
    caplog.set_level(logging.DEBUG)
    answers.append(httpx.Response(200, json={"conversationId": "abc-eu", "token": "eyJ.token", "expires_in": 3600}))
    resp = await client.post("/api/directline/token", headers={"Origin": "https://portal.contoso.com"})
    assert resp.status == 200
    body = await resp.json()
    assert body["token"] == "eyJ.token" and body["conversationId"] == "abc-eu" and body["expires_in"] == 3600
    assert body["domain"] == "https://europe.directline.botframework.com/v3/directline" and body["webSocket"] is True
    [upstream] = calls
    assert upstream.headers["Authorization"] == f"Bearer {SECRET}"
    sent = json.loads(upstream.content)
    assert sent["user"]["id"].startswith("dl_") and sent["user"]["id"] == body["userId"]
    assert sent["trustedOrigins"] == ["https://portal.contoso.com"]
    assert SECRET not in await resp.text() and SECRET not in caplog.text
    assert DIRECT_LINE not in client.app
    assert (await client.post(f"{BASE}/tokens/generate")).status == 404  # no embedded side door in Azure mode


async def test_azure_mode_refuses_untrusted_origins_and_upstream_failures(azure, caplog) -> None:
    client, calls, answers = azure
    evil = await client.post("/api/directline/token", headers={"Origin": "https://evil.example"})
    assert evil.status == 403 and calls == []
    answers.append(httpx.Response(403, json={"error": {"code": "BadArgument", "message": f"bad secret {SECRET}"}}))
    refused = await client.post("/api/directline/token", headers={"Origin": "https://portal.contoso.com"})
    assert refused.status == 502 and SECRET not in await refused.text() and SECRET not in caplog.text
