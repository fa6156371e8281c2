"""Azure mode: the token route exchanges the Direct Line secret server-side (against httpx.MockTransport), refuses
untrusted origins and upstream failures, and mounts no embedded endpoint."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from bot.app import DIRECT_LINE, HTTP, create_app
from tests.directline_client import BASE

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
