"""Two `serve` processes on one PostgreSQL database, as two instances behind Azure Bot Service: a conversation's turns
go alternately to either (and in racing pairs to both at once), and no update is lost, no user sees a "conflict"
message, and an escalation's deliveries go out once whichever instance's outbox picks them up — also when a third
process (the `cases` CLI) queues them.

A Web Chat conversation through the embedded Direct Line works whichever instance serves its token, its posts, its
polls and its WebSocket, and hears an escalation's proactive messages from either.

Real processes, real HTTP and WebSockets between them (127.0.0.1 only), the throwaway PostgreSQL server of
`tests/pg.py`, and the fake Bot Connector standing for Teams."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import psycopg
import pytest

from assistant import messages
from bot.sdk.state import decode_item
from devtools.fake_connector import ConnectorCall, FakeConnector
from tests.directline_client import BASE, WELCOME_EN, message
from tests.pg import PostgresServer

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUPPORT_CHANNEL = "19:support-team@thread.tacv2"
REF = re.compile(r"CS-[A-Z0-9]{6}")
CONFLICT = {messages.text("conflict", lang) for lang in ("en", "it")}
QUESTIONS = (
    "WorkflowTriggerNotFound when I turn on a flow",
    "do sellers need a special role in partner center?",
    "what fields must exist in the CRM first?",
    "is a Dynamics 365 subscription needed for the Salesforce connector?",
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as fake:
        yield fake


@pytest.fixture
def shared_env(postgres_server: PostgresServer, connector: FakeConnector, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("COSELL_", "MICROSOFTAPP"))}
    env.update(
        COSELL_DATABASE_URL=postgres_server.fresh(),
        COSELL_DATABASE_PATH=str(tmp_path / "unused.db"),  # never opened: PostgreSQL is selected
        COSELL_SUPPORT_TEAMS_CHANNEL_ID=SUPPORT_CHANNEL,
        COSELL_SUPPORT_TEAMS_SERVICE_URL=connector.url,
        COSELL_SUPPORT_TEAMS_TENANT_ID=TENANT,
        COSELL_CASE_LINK_SECRET="case-link-secret-for-tests-0123456789abcdef",
        COSELL_LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture
def instances(shared_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    """Two `cosell-bot serve` processes on the shared database; their base URLs."""
    procs, urls, logs = [], [], []
    for name in ("a", "b"):
        port = _port()
        log = (tmp_path / f"{name}.log").open("w")
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
                cwd=tmp_path,  # no .env of the developer's
                env=shared_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, proc in zip(urls, procs, strict=True):
            _wait_ready(url, proc, tmp_path)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], tmp_path: Path) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            logs = "\n".join(p.read_text() for p in tmp_path.glob("*.log"))
            raise AssertionError(f"serve exited with {proc.returncode}:\n{logs[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        subprocess.run(["sleep", "0.1"], check=True)
    raise AssertionError(f"{url} never became ready")


def _teams(connector: FakeConnector, conversation: str, text: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "conversation": {"id": conversation, "conversationType": "personal", "tenantId": TENANT},
        "from": {"id": f"29:{conversation}", "name": "Mario Bianchi"},
        "recipient": {"id": "28:bot", "name": "Co-sell"},
        "locale": "en-US",
        "text": text,
        **extra,
    }


async def _post(http: httpx.AsyncClient, base: str, body: dict[str, Any]) -> None:
    response = await http.post(f"{base}/api/messages", json=body)
    assert response.status_code in (200, 201, 202), (response.status_code, response.text)


def _texts(connector: FakeConnector, conversation: str) -> list[str]:
    return [
        f"{c.activity.get('text') or ''}"
        for c in connector.calls
        if c.conversation_id == conversation and c.kind != "create_conversation" and c.activity.get("type") == "message"
    ]


def _turns(url: str, conversation: str) -> int:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT data FROM state WHERE key = %s", (f"msteams/conversations/{conversation}",))
        [(data,)] = rows.fetchall()
    return int(decode_item(data)[0]["ConversationData"]["turns"])


async def test_turns_alternate_and_race_between_two_instances_without_a_lost_update(
    instances: list[str], connector: FakeConnector, shared_env: dict[str, str]
) -> None:
    a, b = instances
    async with httpx.AsyncClient(timeout=30) as http:
        # alternating: each conversation's turns go A, B, A, B
        alternating = [f"alt-{n}" for n in range(4)]
        for i, question in enumerate(QUESTIONS):
            await asyncio.gather(*(_post(http, (a, b)[i % 2], _teams(connector, c, question)) for c in alternating))
        # racing pairs: the same conversation's next two messages reach both instances at once
        racing = [f"race-{n}" for n in range(8)]
        for question in QUESTIONS[:3]:
            await asyncio.gather(
                *(_post(http, base, _teams(connector, c, question)) for c in racing for base in (a, b))
            )
    url = shared_env["COSELL_DATABASE_URL"]
    for conversation in alternating:
        assert _turns(url, conversation) == len(QUESTIONS), conversation
        assert not CONFLICT & set(_texts(connector, conversation))
    for conversation in racing:
        answered = {c.activity.get("replyToId") for c in connector.calls if c.conversation_id == conversation}
        assert len(answered) == 6, conversation  # every message answered
        assert _turns(url, conversation) == 6, conversation  # 3 rounds × 2 instances: no update lost
        assert not CONFLICT & set(_texts(connector, conversation)), _texts(connector, conversation)


async def _resolve(ref: str, env: dict[str, str], cwd: Path) -> None:
    """A third process (the `cases` CLI) resolves the case."""
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "cases", "resolve", ref,
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(done.communicate(), 60)
    assert done.returncode == 0, err.decode()


def _said(call: ConnectorCall) -> str:
    activity = call.activity
    return f"{activity.get('text') or ''} {activity.get('summary') or ''} {json.dumps(activity.get('attachments'))}"


async def test_an_escalation_across_instances_is_delivered_once(
    instances: list[str], connector: FakeConnector, shared_env: dict[str, str], tmp_path: Path
) -> None:
    a, b = instances
    user = "a:1mario-two-instances"
    async with httpx.AsyncClient(timeout=30) as http:
        await _post(http, a, _teams(connector, user, QUESTIONS[0]))
        await _post(http, b, _teams(connector, user, "I need to talk to someone from support"))
        await connector.wait_for(
            lambda c: c.conversation_id == user and "This is what support will receive" in _said(c), 20
        )
        send = {
            "action": {
                "type": "Action.Execute",
                "verb": "choose",
                "data": {"choice": "send", "card": "handoff_preview"},
            }
        }
        await _post(http, a, _teams(connector, user, None, type="invoke", name="adaptiveCard/action", value=send))
    card = await connector.wait_for(lambda c: c.kind == "create_conversation", 20)  # the support thread's card
    ref = REF.search(_said(card))
    assert ref is not None
    await _resolve(ref.group(0), shared_env, tmp_path)  # either instance's outbox tells the user, once
    await connector.wait_for(
        lambda c: c.conversation_id == user and ref.group(0) in _said(c) and "resolved" in _said(c).lower(), 20
    )
    await asyncio.sleep(6)  # a poll of both outboxes later: nothing is delivered twice
    threads = [c for c in connector.calls if c.kind == "create_conversation"]
    assert len(threads) == 1
    to_user = [c for c in connector.calls if c.conversation_id == user and c.kind != "create_conversation"]
    bodies = [json.dumps(c.activity, sort_keys=True) for c in to_user]
    assert len(bodies) == len(set(bodies)), "a delivery went out twice"


class _Socket:
    """A Web Chat stream (the WebSocket DirectLineJS opens): every activity it has pushed, in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.activities, self.watermarks = ws, [], []

    async def until(self, done: Callable[[list[dict[str, Any]]], bool]) -> None:
        """Read until `done` holds (30 s at most)."""
        async with asyncio.timeout(30):
            while not done(self.activities):
                message = await self.ws.receive()
                assert message.type == aiohttp.WSMsgType.TEXT, message
                if message.data:  # an empty message is a keep-alive
                    body = json.loads(message.data)
                    self.activities.extend(body["activities"])
                    self.watermarks.append(int(body["watermark"]))


def _answered(echo_id: str) -> Callable[[list[dict[str, Any]]], bool]:
    """The echo of `echo_id` and a bot message after it (a turn's replies go out once its state is saved)."""

    def answered(seen: list[dict[str, Any]]) -> bool:
        ids = [a["id"] for a in seen]
        return echo_id in ids and any(
            a["from"]["role"] == "bot" and a["type"] == "message" for a in seen[ids.index(echo_id) + 1 :]
        )

    return answered


async def test_a_web_chat_conversation_works_whichever_instance_serves_it(
    instances: list[str], connector: FakeConnector, shared_env: dict[str, str], tmp_path: Path
) -> None:
    """The token from A, the conversation started (welcomed) on B, the WebSocket on A, messages posted alternately to
    B and A, a poll on B, a refresh on B of A's token; an escalation's proactive message (the case resolved by a third
    process) reaches the socket once, whichever instance's outbox sends it."""
    a, b = instances
    async with httpx.AsyncClient(timeout=30) as http, aiohttp.ClientSession() as session:
        issued = (await http.post(f"{a}/api/directline/token")).json()
        conversation, auth = issued["conversationId"], {"Authorization": f"Bearer {issued['token']}"}
        started = await http.post(f"{b}{BASE}/conversations", json={"locale": "en-US"}, headers=auth)
        assert started.status_code == 201, started.text
        again = await http.post(f"{a}{BASE}/conversations", json={}, headers=auth)
        assert again.status_code == 200  # already started, on the other instance: no second welcome
        stream = urlsplit(started.json()["streamUrl"])
        socket = _Socket(await session.ws_connect(f"{a.replace('http', 'ws')}{stream.path}?{stream.query}"))
        await socket.until(lambda seen: len(seen) >= 1)
        [welcome] = socket.activities
        assert welcome["from"]["role"] == "bot" and WELCOME_EN in welcome["summary"]

        async def say(base: str, text: str | None, n: int, **extra: Any) -> str:
            body = message(text or "", f"c-{n}", **extra)
            if text is None:
                body.pop("text")
            posted = await http.post(f"{base}{BASE}/conversations/{conversation}/activities", json=body, headers=auth)
            assert posted.status_code == 200, posted.text
            echo_id = str(posted.json()["id"])
            await socket.until(_answered(echo_id))  # as a user does: the answer before the next message
            return echo_id

        for n, question in enumerate(QUESTIONS):
            await say((b, a)[n % 2], question, n)
        polled = (await http.get(f"{b}{BASE}/conversations/{conversation}/activities", headers=auth)).json()
        assert [x["id"] for x in polled["activities"]] == [x["id"] for x in socket.activities]
        assert int(polled["watermark"]) == socket.watermarks[-1] == len(socket.activities)
        echoes = [x for x in socket.activities if x["from"]["role"] == "user"]
        assert [x["channelData"]["clientActivityID"] for x in echoes] == ["c-0", "c-1", "c-2", "c-3"]
        stamps = [x["timestamp"] for x in socket.activities]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # Web Chat orders by them

        refreshed = await http.post(f"{b}{BASE}/tokens/refresh", headers=auth)
        assert refreshed.status_code == 200 and refreshed.json()["conversationId"] == conversation
        auth = {"Authorization": f"Bearer {refreshed.json()['token']}"}

        await say(a, "I need to talk to someone from support", 10)  # the preview, the conversation so far in it
        await say(b, None, 11, value={"choice": "send", "card": "handoff_preview"})
        ref = REF.search(json.dumps(socket.activities))
        assert ref is not None, [x.get("text") or x.get("summary") for x in socket.activities[-4:]]
        await _resolve(ref.group(0), shared_env, tmp_path)

        def resolved(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [x for x in seen if ref.group(0) in json.dumps(x) and "resolved" in json.dumps(x).lower()]

        await socket.until(lambda seen: bool(resolved(seen)))
        await asyncio.sleep(6)  # a poll of both outboxes later: nothing is delivered twice
        polled = (await http.get(f"{a}{BASE}/conversations/{conversation}/activities", headers=auth)).json()
        assert len(resolved(polled["activities"])) == 1
        await socket.ws.close()
