"""Tests for stores/sql/transcripts.py: the transcript store on both engines, on activities serialised as the
middleware serialises them (the middleware's tests, and redaction's, are in tests/bot/test_transcripts.py)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.sdk.activity_json import serialize
from stores.sql.database import Database
from stores.sql.state import SqlStateStore
from stores.sql.transcripts import SqlTranscriptStore


@pytest.fixture
def storage(database: Database) -> SqlStateStore:
    return SqlStateStore(database)


@pytest.fixture
def store(storage: SqlStateStore) -> SqlTranscriptStore:
    return SqlTranscriptStore(storage)


async def _log(store: SqlTranscriptStore, activity: Activity, direction: str) -> None:
    """One activity, serialised as the middleware serialises it, then stored."""
    await store.log_serialized([(serialize(activity), direction)])


def _activity(conversation: str, text: str, channel: str = "msteams", ts: str = "2025-01-01T10:00:00Z") -> Activity:
    return Activity(
        type="message",
        text=text,
        channel_id=channel,
        timestamp=ts,
        conversation=ConversationAccount(id=conversation),
        from_property=ChannelAccount(id="u1", role="user"),
    )


async def test_list_conversations_limit_and_delete(store: SqlTranscriptStore) -> None:
    teams = "19:abc@thread.tacv2;messageid=1699999"
    await _log(store, _activity(teams, "one", ts="2025-01-01T10:00:00Z"), "in")
    await _log(store, _activity("webchat-1", "hello", channel="webchat"), "in")
    await _log(store, _activity(teams, "two", ts="2025-01-01T10:05:00Z"), "out")
    await _log(store, _activity(teams, "three", ts="2025-01-01T10:09:00Z"), "in")

    assert await store.list_conversations("msteams") == [
        {
            "channel_id": "msteams",
            "conversation_id": teams,
            "first_timestamp": "2025-01-01T10:00:00.000Z",
            "last_timestamp": "2025-01-01T10:09:00.000Z",
            "count": 3,
        }
    ]
    assert [c["channel_id"] for c in await store.list_conversations()] == ["msteams", "webchat"]
    last_two = await store.get_transcript("msteams", teams, limit=2)
    assert [r["activity"]["text"] for r in last_two] == ["two", "three"]

    await store.delete_transcript("msteams", teams)

    assert await store.get_transcript("msteams", teams) == []
    assert [c["conversation_id"] for c in await store.list_conversations()] == ["webchat-1"]


async def test_store_rejects_unknown_direction(store: SqlTranscriptStore) -> None:
    with pytest.raises(ValueError, match="direction"):
        await _log(store, _activity("c", "x"), "sideways")


async def test_store_on_a_path_owns_its_connection(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    storage = SqlStateStore(path)
    own = SqlTranscriptStore(path)
    await _log(own, _activity("c", "x"), "in")
    await own.aclose()

    shared = SqlTranscriptStore(storage)
    assert len(await shared.get_transcript("msteams", "c")) == 1
    await shared.aclose()  # does not close the storage's connection
    assert await storage.ping()
    await storage.aclose()


@pytest.mark.parametrize("autoincrement", [False, True], ids=["new-schema", "database-created-with-autoincrement"])
async def test_rows_keep_their_order_without_a_sequence_table(tmp_path: Path, autoincrement: bool) -> None:
    path = tmp_path / "bot.db"
    if autoincrement:  # a database from before AUTOINCREMENT was dropped: still read and written the same
        with closing(sqlite3.connect(path)) as old:
            old.execute(
                "CREATE TABLE transcript (id INTEGER PRIMARY KEY AUTOINCREMENT, channel_id TEXT NOT NULL,"
                " conversation_id TEXT NOT NULL, activity_id TEXT, type TEXT, timestamp TEXT, data TEXT NOT NULL,"
                " direction TEXT NOT NULL CHECK (direction IN ('in', 'out')))"
            )
            old.commit()
    store = SqlTranscriptStore(path)
    for text in ("one", "two"):
        await _log(store, _activity("a", text), "in")
    await store.delete_transcript("msteams", "a")
    for text in ("three", "four", "five"):
        await _log(store, _activity("b", text), "in")
    await _log(store, _activity("c", "six"), "out")

    rows = await store.get_transcript("msteams", "b")
    sequences = await store._db.query("SELECT name FROM sqlite_sequence WHERE name = 'transcript'")
    await store.aclose()

    assert [r["activity"]["text"] for r in rows] == ["three", "four", "five"]
    assert rows[0]["seq"] < rows[1]["seq"] < rows[2]["seq"]
    assert bool(sequences) == autoincrement  # no per-insert sequence bookkeeping for transcripts in a new database


@pytest.mark.parametrize("count", [3, 201, 450], ids=["one-statement", "just-over", "transaction"])
async def test_a_turns_rows_are_written_together_in_order(store: SqlTranscriptStore, count: int) -> None:
    entries = [(serialize(_activity("many", f"m{n}")), "in" if n % 2 else "out") for n in range(count)]
    await store.log_serialized(entries)
    rows = await store.get_transcript("msteams", "many")
    assert [r["activity"]["text"] for r in rows] == [f"m{n}" for n in range(count)]
    assert [r["direction"] for r in rows] == [d for _e, d in entries]


async def test_a_bad_direction_writes_none_of_the_turns_rows(store: SqlTranscriptStore) -> None:
    with pytest.raises(ValueError, match="direction"):
        await store.log_serialized(
            [(serialize(_activity("all", "ok")), "in"), (serialize(_activity("all", "x")), "up")]
        )
    assert await store.get_transcript("msteams", "all") == []
