"""The embedded Direct Line's WebSocket stream and background turns: `streamUrl` on start and reconnect, activity
sets pushed as activities exist (the echo too), replay from a watermark, keep-alives, stream URLs bound to a live
token (4xx, never 5xx), caps per conversation and overall, closing on expiry and shutdown; a POST that returns before
its turn ends, one turn at a time in arrival order, and a failed turn answered with an apology."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import WSMsgType

from bot.app import ASSISTANT, DIRECT_LINE
from bot.channels.directline import turns as turns_module
from tests import directline_client as dl
from tests.directline_client import BASE, WELCOME_EN


async def _open(client, locale: str = "en-US") -> tuple[str, dict[str, str], str]:  # type: ignore[no-untyped-def]
    conversation, auth, _ = await dl.session(client)
    resp = await client.post(f"{BASE}/conversations", json={"locale": locale}, headers=auth)
    assert resp.status == 201
    return conversation, auth, (await resp.json())["streamUrl"]


def _path(stream_url: str) -> str:
    parts = urlsplit(stream_url)
    return f"{parts.path}?{parts.query}"


async def _next_set(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next activity set, skipping keep-alives."""
    while True:
        msg = await ws.receive(timeout=5)
        assert msg.type == WSMsgType.TEXT, msg
        if msg.data:
            body: dict[str, Any] = json.loads(msg.data)
            return body


async def _until(ws: aiohttp.ClientWebSocketResponse, done) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    got: list[dict[str, Any]] = []
    while not done(got):
        got += (await _next_set(ws))["activities"]
    return got


def _texts(activities: list[dict[str, Any]]) -> list[str]:
    return [a.get("text") or a.get("summary") or "" for a in activities if a["type"] == "message"]


async def _say(client, conversation: str, auth: dict[str, str], text: str, client_id: str = "c-1") -> str:  # type: ignore[no-untyped-def]
    resp = await client.post(
        f"{BASE}/conversations/{conversation}/activities", json=dl.message(text, client_id), headers=auth
    )
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["id"])


async def test_start_gives_a_stream_url_and_the_stream_pushes_the_echo_and_the_answer(client) -> None:  # type: ignore[no-untyped-def]
    conversation, auth, stream_url = await _open(client)
    parts = urlsplit(stream_url)
    assert parts.scheme == "ws" and parts.path == f"{BASE}/conversations/{conversation}/stream"
    assert parts.netloc == f"127.0.0.1:{client.port}" and parse_qs(parts.query)["t"]
    async with client.ws_connect(_path(stream_url)) as ws:
        first = await _next_set(ws)
        assert WELCOME_EN in _texts(first["activities"])[0] and first["watermark"] == "1"
        posted = await _say(client, conversation, auth, "Solution ID is required")
        got = await _until(ws, lambda got: len(_texts(got)) >= 2)
        echo, answer = [a for a in got if a["type"] == "message"][:2]
        assert echo["id"] == posted and echo["channelData"]["clientActivityID"] == "c-1"
        assert "co-sell ready solution" in answer["summary"]
        ids = [a["id"] for a in first["activities"] + got]
        assert len(ids) == len(set(ids))


async def test_reconnect_replays_from_the_watermark_or_only_what_is_new(client) -> None:  # type: ignore[no-untyped-def]
    conversation, auth, _ = await _open(client)
    await _say(client, conversation, auth, "Solution ID is required")
    await dl.settle(client)  # history: welcome (1), echo (2), answer (3)
    resp = await client.get(f"{BASE}/conversations/{conversation}?watermark=1", headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert body["conversationId"] == conversation and body["token"] == auth["Authorization"][7:]
    assert parse_qs(urlsplit(body["streamUrl"]).query)["watermark"] == ["1"]
    async with client.ws_connect(_path(body["streamUrl"])) as ws:
        replay = await _next_set(ws)
        assert replay["watermark"] == "3" and _texts(replay["activities"])[0] == "Solution ID is required"
    fresh = await (await client.get(f"{BASE}/conversations/{conversation}", headers=auth)).json()
    async with client.ws_connect(_path(fresh["streamUrl"])) as ws:
        await _say(client, conversation, auth, "Yes, it helped", "c-2")
        got = await _until(ws, lambda got: len(_texts(got)) >= 2)
        assert _texts(got)[0] == "Yes, it helped"  # nothing from before the reconnect


async def test_keep_alives_are_empty_messages(client) -> None:  # type: ignore[no-untyped-def]
    client.app[DIRECT_LINE].streams.keepalive = 0.05
    _, _, stream_url = await _open(client)
    async with client.ws_connect(_path(stream_url)) as ws:
        await _next_set(ws)  # the welcome
        await ws.send_str("")  # DirectLineJS's own keep-alive: ignored
        keepalive = await ws.receive(timeout=2)
        assert keepalive.type == WSMsgType.TEXT and keepalive.data == ""


@pytest.mark.parametrize("problem", ["missing", "forged", "reused", "stale", "other-conversation", "token-expired"])
async def test_a_bad_stream_url_is_refused_with_a_4xx(client, problem: str) -> None:  # type: ignore[no-untyped-def]
    now = [1000.0]
    direct_line = client.app[DIRECT_LINE]
    direct_line.clock = lambda: now[0]
    conversation, _, stream_url = await _open(client)
    other, _, _ = await _open(client)
    path = _path(stream_url)
    if problem == "missing":
        path = f"{BASE}/conversations/{conversation}/stream"
    elif problem == "forged":
        path = f"{BASE}/conversations/{conversation}/stream?t=not-a-stream-token"
    elif problem == "reused":
        async with client.ws_connect(path) as ws:
            await _next_set(ws)
    elif problem == "stale":
        now[0] += 61  # a stream URL must be used within 60 s
    elif problem == "other-conversation":
        path = path.replace(conversation, other)
    else:
        now[0] += direct_line.token_lifetime + 1
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(path)
    assert refused.value.status == 403
    plain = await client.get(path)  # not an upgrade
    assert 400 <= plain.status < 500


async def test_a_plain_get_on_the_stream_is_400(client) -> None:  # type: ignore[no-untyped-def]
    _, _, stream_url = await _open(client)
    resp = await client.get(_path(stream_url))
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "BadArgument"


async def test_one_socket_per_conversation_and_a_cap_overall(client) -> None:  # type: ignore[no-untyped-def]
    direct_line = client.app[DIRECT_LINE]
    direct_line.streams.max_streams = 2
    conversation, auth, stream_url = await _open(client)
    async with client.ws_connect(_path(stream_url)) as older:
        await _next_set(older)
        again = await (await client.get(f"{BASE}/conversations/{conversation}", headers=auth)).json()
        async with client.ws_connect(_path(again["streamUrl"])) as newer:
            closed = await older.receive(timeout=2)
            assert closed.type == WSMsgType.CLOSE and closed.extra == "collision"  # the service's reason
            _, _, second_url = await _open(client)
            async with client.ws_connect(_path(second_url)):
                _, _, third_url = await _open(client)
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(_path(third_url))
                assert refused.value.status == 503 and refused.value.headers["Retry-After"]
            await _say(client, conversation, auth, "Solution ID is required")
            assert "Solution ID is required" in _texts(await _until(newer, lambda got: bool(_texts(got))))


async def test_the_socket_closes_when_no_token_of_the_conversation_is_left(client) -> None:  # type: ignore[no-untyped-def]
    now = [1000.0]
    direct_line = client.app[DIRECT_LINE]
    direct_line.clock = lambda: now[0]
    direct_line.streams.keepalive = 0.05
    _, _, stream_url = await _open(client)
    async with client.ws_connect(_path(stream_url)) as ws:
        await _next_set(ws)
        now[0] += direct_line.token_lifetime + 1
        while (msg := await ws.receive(timeout=2)).type == WSMsgType.TEXT:
            assert msg.data == ""
        assert msg.type == WSMsgType.CLOSE and msg.data == 1008 and msg.extra == "token expired"


async def test_shutdown_closes_the_sockets_and_ends_a_hung_turn(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bot = client.app[ASSISTANT].bot
    conversation, auth, stream_url = await _open(client)
    hung = asyncio.Event()

    async def hangs(turn_context) -> None:  # type: ignore[no-untyped-def]
        hung.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(bot, "on_turn", hangs)
    monkeypatch.setattr(turns_module, "_SHUTDOWN_GRACE", 0.1)
    async with client.ws_connect(_path(stream_url)) as ws:
        await _next_set(ws)
        await _say(client, conversation, auth, "anything")
        await hung.wait()
        await client.app[DIRECT_LINE].close()
        while (msg := await ws.receive(timeout=2)).type == WSMsgType.TEXT:
            pass
        assert msg.type == WSMsgType.CLOSE and msg.data == 1001
    refused = await client.post(
        f"{BASE}/conversations/{conversation}/activities", json=dl.message("more"), headers=auth
    )
    assert refused.status == 503


async def test_a_post_returns_before_its_turn_ends_and_turns_run_in_order(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bot = client.app[ASSISTANT].bot
    conversation, auth, stream_url = await _open(client)
    release = asyncio.Event()
    running: list[str] = []

    async def slow(turn_context) -> None:  # type: ignore[no-untyped-def]
        text = turn_context.activity.text
        running.append(text)
        await turn_context.send_activity(f"working on {text}")
        await release.wait()
        assert running[-1] == text  # no other turn of this conversation started meanwhile
        await turn_context.send_activity(f"done {text}")

    monkeypatch.setattr(bot, "on_turn", slow)
    async with client.ws_connect(_path(stream_url)) as ws:
        await _next_set(ws)  # the welcome
        for n in range(3):
            await _say(client, conversation, auth, f"q{n}", f"c-{n}")  # returns although the turn is blocked
        early = await _until(ws, lambda got: {"working on q0", "q2"} <= set(_texts(got)))
        # every echo came back at once, though the first turn still runs
        assert [t for t in _texts(early) if t.startswith("q")] == ["q0", "q1", "q2"]
        assert running == ["q0"]
        release.set()
        rest = await _until(ws, lambda got: "done q2" in _texts(got))
    replies = [t for t in _texts(early + rest) if t.startswith(("working", "done"))]
    assert replies == ["working on q0", "done q0", "working on q1", "done q1", "working on q2", "done q2"]


async def test_too_many_waiting_turns_get_429(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bot = client.app[ASSISTANT].bot
    conversation, auth, _ = await _open(client)
    release = asyncio.Event()

    async def blocked(turn_context) -> None:  # type: ignore[no-untyped-def]
        await release.wait()

    monkeypatch.setattr(bot, "on_turn", blocked)
    url = f"{BASE}/conversations/{conversation}/activities"
    statuses = [(await client.post(url, json=dl.message(f"m{n}"), headers=auth)).status for n in range(18)]
    assert statuses == [200] * turns_module.MAX_PENDING_TURNS + [429, 429]
    release.set()
    await dl.settle(client)
    assert (await client.post(url, json=dl.message("later"), headers=auth)).status == 200


async def test_a_turn_that_fails_is_answered_with_the_apology(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    adapter = client.app[ASSISTANT].adapter
    conversation, auth, _ = await _open(client, locale="it-IT")

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the adapter itself failed")

    monkeypatch.setattr(adapter, "process_activity", broken)
    url = f"{BASE}/conversations/{conversation}/activities"
    assert (await client.post(url, json=dl.message("ciao", locale="it-IT"), headers=auth)).status == 200
    page = await dl.activities(client, conversation, auth, "1")
    echo, apology = page["activities"]
    assert echo["text"] == "ciao" and apology["from"]["role"] == "bot" and apology["text"].startswith("Mi dispiace")
