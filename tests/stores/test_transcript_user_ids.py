"""Migration 2 (stores/sql/schema.py) on both engines: a database written before it gets `transcript.user_id`
backfilled from the stored JSON (the sender of "in" rows, the recipient of "out" rows) and its indexes; the store
writes the column on every insert from then on."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from stores.sql import schema
from stores.sql.database import Database
from stores.sql.transcripts import SqlTranscriptStore


def _activity(sender: str, recipient: str) -> dict[str, object]:
    return {
        "type": "message",
        "channelId": "msteams",
        "conversation": {"id": "c1"},
        "from": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": "2026-04-01T09:00:00.000Z",
        "text": "hi",
    }


async def test_a_database_from_before_gets_its_user_ids_backfilled(
    open_database: Callable[[], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as before:  # a database at version 1, written by the build before migration 2
        before.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        old = open_database()
        async with old.transaction() as conn:
            await conn.executemany(
                "INSERT INTO transcript (channel_id, conversation_id, activity_id, direction, type, timestamp, data)"
                " VALUES ('msteams', 'c1', NULL, ?, 'message', '2026-04-01T09:00:00.000Z', ?)",
                [
                    ("in", json.dumps(_activity("29:user", "bot"))),
                    ("out", json.dumps(_activity("bot", "29:user"))),
                    ("in", json.dumps({"type": "message"})),  # no sender: no user id
                ],
            )
        await old.aclose()

    db = open_database()  # migrated to the current version as it opens
    try:
        assert await db.query("SELECT direction, user_id FROM transcript ORDER BY id") == [
            ("in", "29:user"),
            ("out", "29:user"),
            ("in", None),
        ]
        assert await db.query("SELECT version FROM schema_migrations ORDER BY version") == [(1,), (2,), (3,)]

        await SqlTranscriptStore(db).log_serialized(
            [(_activity("29:other", "bot"), "in"), (_activity("bot", "29:other"), "out")]
        )
        rows = await db.query("SELECT user_id FROM transcript WHERE user_id = ? ORDER BY id", ("29:other",))
        assert rows == [("29:other",), ("29:other",)]
    finally:
        await db.aclose()
