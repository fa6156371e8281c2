"""Conversation transcripts in SQLite: the `TranscriptStore` port (`assistant.ports`) on already-serialised activities.

The store shares the state store's database file (and, given the `SqliteStateStore` or its `SqliteDatabase`, its
connection). It takes activities as the dicts `Activity.serialize()` gives (the host serialises them: this module
knows no botbuilder), and everything it stores has gone through `assistant.redaction` first (`redacted_json`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.redaction.masking import redacted_json
from stores.sqlite.database import SqliteDatabase
from stores.sqlite.state import SqliteStateStore

# `id` is the rowid: always past the largest one in the table, so it orders a conversation's rows. No
# AUTOINCREMENT (which also never reuses the id of a deleted last row): that costs a sqlite_sequence write on
# every insert, and a deleted transcript's ids have nothing left to collide with. Databases created with it
# keep it and work the same.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS transcript (id INTEGER PRIMARY KEY, channel_id TEXT NOT NULL,"
    " conversation_id TEXT NOT NULL, activity_id TEXT, type TEXT, timestamp TEXT, data TEXT NOT NULL,"
    " direction TEXT NOT NULL CHECK (direction IN ('in', 'out')))",
    "CREATE INDEX IF NOT EXISTS transcript_conversation ON transcript (channel_id, conversation_id, id)",
)


def _check_direction(direction: str) -> None:
    if direction not in ("in", "out"):
        raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")


def _row(raw: dict[str, Any], direction: str) -> tuple[Any, ...]:
    _check_direction(direction)
    return (
        str(raw.get("channelId") or ""),
        str((raw.get("conversation") or {}).get("id") or ""),
        raw.get("id"),
        direction,
        raw.get("type"),
        # msrest's timestamp shape, so TEXT ordering stays chronological
        raw.get("timestamp") or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        redacted_json(raw),
    )


class SqliteTranscriptStore:
    """Redacted activity log per conversation, in the bot's SQLite database.

    Built on a `SqliteStateStore` (or `SqliteDatabase`) it shares that connection and leaves closing
    it to its owner; built on a path it opens, and closes, its own.
    """

    def __init__(self, db: SqliteStateStore | SqliteDatabase | str | Path) -> None:
        if isinstance(db, SqliteStateStore):
            db = db.database
        self._owns_db = not isinstance(db, SqliteDatabase)
        self._db = db if isinstance(db, SqliteDatabase) else SqliteDatabase(db)
        with self._db.transaction() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    async def log_serialized(self, entries: Sequence[tuple[dict[str, Any], str]]) -> None:
        """Store serialised activities (`Activity.serialize()`), redacted, in order, in one transaction."""
        rows = [_row(raw, direction) for raw, direction in entries]
        if not rows:
            return
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT INTO transcript (channel_id, conversation_id, activity_id, direction, type,"
                " timestamp, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    async def get_transcript(
        self, channel_id: str, conversation_id: str, *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Oldest first: `{"seq", "direction", "timestamp", "activity"}`; with `limit`, the latest ones."""
        select = (
            "SELECT id, direction, timestamp, data FROM transcript"
            " WHERE channel_id = ? AND conversation_id = ? ORDER BY id DESC"
        )
        params: tuple[Any, ...] = (channel_id, conversation_id)
        if limit is not None:
            select += " LIMIT ?"
            params += (limit,)
        rows = self._db.query(f"SELECT * FROM ({select}) ORDER BY id", params)
        return [
            {"seq": seq, "direction": direction, "timestamp": ts, "activity": json.loads(data)}
            for seq, direction, ts, data in rows
        ]

    async def list_conversations(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        """Conversations with a transcript, most recently active first."""
        where, params = ("WHERE channel_id = ?", (channel_id,)) if channel_id is not None else ("", ())
        rows = self._db.query(
            "SELECT channel_id, conversation_id, MIN(timestamp), MAX(timestamp), COUNT(*) FROM transcript"
            f" {where} GROUP BY channel_id, conversation_id ORDER BY MAX(id) DESC",
            params,
        )
        keys = ("channel_id", "conversation_id", "first_timestamp", "last_timestamp", "count")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    async def delete_transcript(self, channel_id: str, conversation_id: str) -> None:
        """Forget one conversation's transcript."""
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM transcript WHERE channel_id = ? AND conversation_id = ?",
                (channel_id, conversation_id),
            )

    def close(self) -> None:
        """Close the database if this store opened it."""
        if self._owns_db:
            self._db.close()
