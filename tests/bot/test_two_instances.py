"""Two `serve` processes on one PostgreSQL database, as two instances behind Azure Bot Service: a conversation's turns
go alternately to either (and in racing pairs to both at once), and no update is lost, no user sees a "conflict"
message, and an escalation's deliveries go out once whichever instance's outbox picks them up — also when a third
process (the `cases` CLI) queues them.

Real processes, real HTTP between them (127.0.0.1 only), the throwaway PostgreSQL server of `tests/pg.py`, and the fake
Bot Connector standing for Teams."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from assistant import messages
from bot.sdk.state import decode_item
from devtools.fake_connector import ConnectorCall, FakeConnector
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
    # a third process resolves it: either instance's outbox tells the user, once
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "cases", "resolve", ref.group(0),
        cwd=tmp_path, env=shared_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(done.communicate(), 60)
    assert done.returncode == 0, err.decode()
    await connector.wait_for(
        lambda c: c.conversation_id == user and ref.group(0) in _said(c) and "resolved" in _said(c).lower(), 20
    )
    await asyncio.sleep(6)  # a poll of both outboxes later: nothing is delivered twice
    threads = [c for c in connector.calls if c.kind == "create_conversation"]
    assert len(threads) == 1
    to_user = [c for c in connector.calls if c.conversation_id == user and c.kind != "create_conversation"]
    bodies = [json.dumps(c.activity, sort_keys=True) for c in to_user]
    assert len(bodies) == len(set(bodies)), "a delivery went out twice"
