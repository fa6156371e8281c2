"""Tests for bot/transcripts.py: TranscriptMiddleware over the SQLite transcript store, rows redacted (the store's own
tests: tests/stores/sqlite/test_transcript_store.py; the redaction itself: tests/assistant/redaction/)."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, Attachment, ChannelAccount, ConversationAccount, DeliveryModes

from assistant.analytics.model import TurnFacts
from assistant.redaction.rule import MASK
from bot.adapter import FixedCloudAdapter
from bot.transcripts import (
    TranscriptMiddleware,
    as_logged,
)
from stores.sql.state import SqlStateStore
from stores.sql.transcripts import SqlTranscriptStore

if TYPE_CHECKING:
    from conftest import FakeConnector


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStateStore]:
    store = SqlStateStore(tmp_path / "bot.db")
    yield store
    await store.aclose()


@pytest.fixture
def store(storage: SqlStateStore) -> SqlTranscriptStore:
    return SqlTranscriptStore(storage)


async def _reply_twice(context: TurnContext) -> None:
    await context.send_trace_activity("BotState", value={"token": "internal"})
    await context.send_activity("first reply")
    await context.send_activity("second reply")


async def test_middleware_logs_turn_in_order_with_roles_and_redaction(
    store: SqlTranscriptStore, storage: SqlStateStore
) -> None:
    adapter = TestAdapter(_reply_twice)
    adapter.use(TranscriptMiddleware(store))

    await adapter.receive_activity("my password is Hunter2!")

    rows = await store.get_transcript("test", "Convo1")
    assert [r["direction"] for r in rows] == ["in", "out", "out"]
    activities = [r["activity"] for r in rows]
    assert [a["from"]["role"] for a in activities] == ["user", "bot", "bot"]
    assert [a["text"] for a in activities] == [f"my password is {MASK}", "first reply", "second reply"]
    assert all(r["timestamp"] for r in rows)
    assert not storage.database.sync_query("SELECT id FROM transcript WHERE data LIKE '%Hunter2%'")
    # roles and timestamps went onto copies: the template and the sent replies are untouched
    assert adapter.template.from_property.role is None
    assert [a.from_property.role for a in adapter.activity_buffer] == [None, None]
    assert [a.timestamp for a in adapter.activity_buffer] == [None, None]


async def test_expect_replies_are_logged_too(store: SqlTranscriptStore) -> None:
    adapter = TestAdapter(_reply_twice)
    adapter.use(TranscriptMiddleware(store))

    await adapter.receive_activity(Activity(type="message", text="hi", delivery_mode=DeliveryModes.expect_replies))

    assert adapter.activity_buffer == []  # buffered on the turn context, not sent
    assert [r["direction"] for r in await store.get_transcript("test", "Convo1")] == ["in", "out", "out"]


async def test_turn_that_raises_still_has_its_incoming_activity(store: SqlTranscriptStore) -> None:
    async def failing(context: TurnContext) -> None:
        raise RuntimeError("boom")

    adapter = TestAdapter(failing)
    adapter.use(TranscriptMiddleware(store))

    with pytest.raises(RuntimeError, match="boom"):
        await adapter.receive_activity("hello")

    rows = await store.get_transcript("test", "Convo1")
    assert [(r["direction"], r["activity"]["text"]) for r in rows] == [("in", "hello")]


async def test_updates_are_logged_as_message_update(store: SqlTranscriptStore) -> None:
    async def edit(context: TurnContext) -> None:
        await context.update_activity(Activity(id="42", type="message", text="edited"))

    adapter = TestAdapter(edit)
    adapter.use(TranscriptMiddleware(store))
    await adapter.receive_activity("hi")

    rows = await store.get_transcript("test", "Convo1")
    assert [(r["direction"], r["activity"]["type"]) for r in rows] == [
        ("in", "message"),
        ("out", "messageUpdate"),
    ]


async def test_store_failure_does_not_break_the_turn(
    store: SqlTranscriptStore, storage: SqlStateStore, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = TestAdapter(_reply_twice)
    adapter.use(TranscriptMiddleware(store))
    await storage.aclose()

    with caplog.at_level(logging.ERROR, logger="bot.transcripts"):
        await adapter.receive_activity("my password is Hunter2!")

    assert [a.text for a in adapter.activity_buffer] == ["first reply", "second reply"]
    assert len(caplog.records) == 3
    assert all("Convo1" in r.getMessage() for r in caplog.records)
    assert "Hunter2" not in caplog.text


# --- batching, and replies logged from the body the adapter sent ---------------------------------------------


class SpyStore(SqlTranscriptStore):
    def __init__(self, db: SqlStateStore) -> None:
        super().__init__(db)
        self.batches: list[list[str]] = []

    async def log_serialized(
        self, entries: Sequence[tuple[dict[str, Any], str]], facts: TurnFacts | None = None
    ) -> None:
        self.batches.append([direction for _, direction in entries])
        await super().log_serialized(entries, facts)


async def test_a_turn_is_written_in_one_batch_in_order_and_redacted(storage: SqlStateStore) -> None:
    async def chatty(context: TurnContext) -> None:
        await context.send_activity("first, with password: Summer2024")
        await context.send_trace_activity("BotState", value={})
        await context.send_activities([Activity(type="message", text="second"), Activity(type="typing")])
        await context.update_activity(Activity(id="42", type="message", text="edited"))

    store = SpyStore(storage)
    adapter = TestAdapter(chatty)
    adapter.use(TranscriptMiddleware(store))

    await adapter.receive_activity("my password is Hunter2!")

    assert store.batches == [["in", "out", "out", "out", "out"]]
    rows = [r["activity"] for r in await store.get_transcript("test", "Convo1")]
    assert [(a["type"], a.get("text")) for a in rows] == [
        ("message", f"my password is {MASK}"),
        ("message", f"first, with password: {MASK}"),
        ("message", "second"),
        ("typing", None),
        ("messageUpdate", "edited"),
    ]
    assert [a["from"]["role"] for a in rows] == ["user", "bot", "bot", "bot", "bot"]


async def test_a_failing_turn_writes_its_rows_then_logs_the_apology_at_once(storage: SqlStateStore) -> None:
    async def failing(context: TurnContext) -> None:
        await context.send_activity("working on it")
        raise RuntimeError("boom")

    async def on_error(context: TurnContext, error: Exception) -> None:
        await context.send_activity("sorry")

    store = SpyStore(storage)
    adapter = TestAdapter(failing)
    adapter.on_turn_error = on_error
    adapter.use(TranscriptMiddleware(store))

    await adapter.receive_activity("hello")

    assert store.batches == [["in", "out"], ["out"]]
    rows = await store.get_transcript("test", "Convo1")
    assert [r["activity"]["text"] for r in rows] == ["hello", "working on it", "sorry"]


class PickyStore(SqlTranscriptStore):
    """Refuses any batch holding an activity whose text is "bad"."""

    async def log_serialized(
        self, entries: Sequence[tuple[dict[str, Any], str]], facts: TurnFacts | None = None
    ) -> None:
        if any(raw.get("text") == "bad" for raw, _ in entries):
            raise ValueError("refused")
        await super().log_serialized(entries, facts)


async def test_one_row_the_store_refuses_does_not_cost_the_others(
    storage: SqlStateStore, caplog: pytest.LogCaptureFixture
) -> None:
    async def replies(context: TurnContext) -> None:
        await context.send_activity("bad")
        await context.send_activity("good")

    store = PickyStore(storage)
    adapter = TestAdapter(replies)
    adapter.use(TranscriptMiddleware(store))

    with caplog.at_level(logging.ERROR, logger="bot.transcripts"):
        await adapter.receive_activity("hi")

    assert [r["activity"]["text"] for r in await store.get_transcript("test", "Convo1")] == ["hi", "good"]
    [record] = caplog.records
    assert "out activity not logged (conversation Convo1" in record.getMessage()


_SENT_AT = datetime(2025, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
_CARD = Attachment(content_type="application/vnd.microsoft.card.adaptive", content={"type": "AdaptiveCard"})
REPLIES = {
    "role set": Activity(type="message", text="a", from_property=ChannelAccount(id="b", name="Bot", role="skill")),
    "no role": Activity(
        type="message",
        id="x",
        text="a",
        from_property=ChannelAccount(id="b", name="Bot", aad_object_id="o", properties={"p": 1}),
        conversation=ConversationAccount(id="c"),
    ),
    "empty role": Activity(type="message", from_property=ChannelAccount(id="b", role="")),
    "no sender": Activity(type="typing", service_url="http://x", channel_id="webchat"),
    "own timestamp": Activity(type="message", timestamp=_SENT_AT, attachments=[_CARD], input_hint="expectingInput"),
    "nothing": Activity(),
}


@pytest.mark.parametrize("reply", REPLIES.values(), ids=REPLIES.keys())
def test_a_sent_reply_is_logged_as_its_defaulted_copy_would_serialise(reply: Activity) -> None:
    expected = copy.copy(reply)
    expected.from_property = copy.copy(reply.from_property) or ChannelAccount()
    expected.from_property.role = expected.from_property.role or "bot"
    expected.timestamp = reply.timestamp or _SENT_AT

    logged = as_logged(reply.serialize(), "bot", None if reply.timestamp else _SENT_AT)

    assert json.dumps(logged) == json.dumps(expected.serialize())  # key order included


async def test_a_posted_reply_is_serialised_once_for_the_wire_and_the_transcript(
    aiohttp_client: Any,
    make_settings: Any,
    fake_connector: FakeConnector,
    storage: SqlStateStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings()
    adapter = FixedCloudAdapter(
        ConfigurationBotFrameworkAuthentication(settings.bot_auth_config()), max_body_bytes=settings.max_body_bytes
    )
    store = SqlTranscriptStore(storage)
    adapter.use(TranscriptMiddleware(store))

    async def echo(context: TurnContext) -> None:
        await context.send_activity(Activity(type="message", text="echo", attachments=[_CARD]))

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, SimpleNamespace(on_turn=echo))

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    client = await aiohttp_client(app)
    serialised: list[str | None] = []
    serialize = Activity.serialize

    def counting(self: Activity, *args: Any, **kwargs: Any) -> Any:
        serialised.append(self.text)
        return serialize(self, *args, **kwargs)

    monkeypatch.setattr(Activity, "serialize", counting)
    body = {
        "type": "message",
        "id": "act-1",
        "text": "hi",
        "channelId": "webchat",
        "serviceUrl": fake_connector.url,
        "conversation": {"id": "conv-1"},
        "from": {"id": "user-1"},
        "recipient": {"id": "bot-1", "name": "Bot"},
    }
    assert (await client.post("/api/messages", json=body)).status == 201
    await adapter.close()

    assert serialised == ["hi", "echo"]
    [sent] = [call.activity for call in fake_connector.calls]
    [_, out] = [row["activity"] for row in await store.get_transcript("webchat", "conv-1")]
    assert out["timestamp"]
    assert out == sent | {"from": sent["from"] | {"role": "bot"}, "timestamp": out["timestamp"]}
