"""The Web Chat page, `/embed.js` and the bundle; the token route handing out an embedded session; the origins that may
use them (CORS preflight, trusted origins, CSP frame-ancestors)."""

from __future__ import annotations

import bot.channels.webchat as webchat
from bot.app import create_app
from tests import directline_client as dl
from tests.directline_client import BASE


async def test_token_route_hands_out_an_embedded_session(client) -> None:
    conversation, _, data = await dl.session(client)
    assert data["domain"] == BASE and data["webSocket"] is True and data["expires_in"] == 1800
    assert data["userId"].startswith("user-") and not data["userId"].startswith("dl_")  # Web Chat would refuse dl_
    assert len(data["token"]) >= 40 and conversation not in data["token"]


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
