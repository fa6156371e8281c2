"""The [http] section's new baselines (devtools/bench/baselines.py), each served for real as the bench serves it: its
own spawned process on 127.0.0.1, one message over HTTP with normal delivery, the reply at the fake Bot Connector,
then stopped. Not a timing test: speed is reported by the bench, never asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from devtools.bench.baselines import AGENTS_ECHO_PREFIX
from devtools.bench.over_http import Served, message, post
from devtools.bench.turns import own_db
from tests.conftest import FakeConnector

# kind → (the status `/api/messages` answers, the reply's text for "ping")
EXPECTED = {"agents": (202, f"{AGENTS_ECHO_PREFIX}ping"), "bare": (200, "ping")}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
async def test_baseline_server_replies_through_the_connector(
    kind: str, settings: Settings, fake_connector: FakeConnector, tmp_path: Path
) -> None:
    status, text = EXPECTED[kind]
    server = await Served(kind, own_db(settings, tmp_path / "unused.db"), 1).started()
    try:
        cpu = await server.cpu()
        body = message(fake_connector.url, "conv-1", "user-1", "ping")
        async with server.session.post(f"{server.base}/api/messages", json=body) as resp:
            assert resp.status == status, await resp.text()
        await post(server.session, server.base, message(fake_connector.url, "conv-2", "user-1", "ping"))
        assert await server.cpu() > cpu  # the control route reports the child's own CPU
    finally:
        await server.stopped()  # tells the child to stop and waits for its process to return

    replies = [c for c in fake_connector.calls if c.conversation_id == "conv-1"]
    assert len(replies) == 1, fake_connector.calls
    reply = replies[0]
    assert (reply.kind, reply.status, reply.authorization) == ("reply_to_activity", 200, None)  # anonymous: auth off
    assert reply.activity_id == body["id"]
    assert reply.body["type"] == "message" and reply.body["text"] == text
    assert reply.body["replyToId"] == body["id"] and reply.body["recipient"]["id"] == "user-1"
    assert [c.conversation_id for c in fake_connector.calls] == ["conv-1", "conv-2"]  # nothing else was called
