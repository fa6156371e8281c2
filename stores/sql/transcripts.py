"""Conversation transcripts: the `TranscriptStore` port (`assistant.ports`) on already-serialised activities, on
either engine.

The store shares the state store's database (given the `SqlStateStore` or its `Database`; given a path, it opens an
SQLite one of its own). It takes activities as the dicts `Activity.serialize()` gives (the host serialises them: this
module knows no botbuilder), and everything it stores has gone through `assistant.redaction` first (`redacted_json`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.ports import TurnFacts
from assistant.redaction.masking import redacted_json
from stores.sql.database import Database
from stores.sql.state import SqlStateStore
from stores.sqlite.database import SqliteDatabase

_INSERT = (
    "INSERT INTO transcript (channel_id, conversation_id, activity_id, direction, type, timestamp, data, user_id,"
    " verdict, entry_id, checks) VALUES "
)
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_NO_FACTS = (None, None, None)
_ONE_STATEMENT = 200  # rows written by one multi-row INSERT (SQLite allows 32,766 parameters a statement)


def _check_direction(direction: str) -> None:
    if direction not in ("in", "out"):
        raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")


def _user_id(raw: dict[str, Any], direction: str) -> str | None:
    """The user's id: the sender of what came in, the recipient of what went out (`cosell-bot forget` finds a
    person's conversations by it)."""
    account = raw.get("from" if direction == "in" else "recipient")
    user = account.get("id") if isinstance(account, dict) else None
    return str(user) if user is not None else None


def _facts(facts: TurnFacts) -> tuple[Any, ...]:
    """The turn's facts as the columns of migration 4 (`stores.sql.schema`)."""
    checks = json.dumps([list(check) for check in facts.checks], separators=(",", ":")) if facts.checks else None
    return (facts.verdict, facts.entry_id, checks)


def _row(raw: dict[str, Any], direction: str, facts: tuple[Any, ...] = _NO_FACTS) -> tuple[Any, ...]:
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
        _user_id(raw, direction),
        *facts,
    )


class SqlTranscriptStore:
    """Redacted activity log per conversation, in the bot's database.

    Built on a `SqlStateStore` (or a `Database`) it shares that database and leaves closing it to its owner; built
    on a path it opens, and closes, an SQLite one of its own. `id` orders a conversation's rows (SQLite's rowid,
    PostgreSQL's identity column: `stores.sql.schema`); `user_id` is the user's id of each row (the sender of "in"
    rows, the recipient of "out" rows), by which `stores.sql.erasure` finds a person's conversations.
    """

    def __init__(self, db: SqlStateStore | Database | str | Path) -> None:
        if isinstance(db, SqlStateStore):
            db = db.database
        self._owns_db = isinstance(db, str | Path)
        self._db: Database = SqliteDatabase(db) if isinstance(db, str | Path) else db

    async def log_serialized(
        self, entries: Sequence[tuple[dict[str, Any], str]], facts: TurnFacts | None = None
    ) -> None:
        """Store serialised activities (`Activity.serialize()`), redacted, in order, all or none; `facts` go on the
        first "in" row (the turn's own), in the same statement."""
        rows = [_row(raw, direction) for raw, direction in entries]
        if facts is not None:
            first_in = next((i for i, (_raw, direction) in enumerate(entries) if direction == "in"), None)
            if first_in is not None:
                rows[first_in] = rows[first_in][:-3] + _facts(facts)
        if not rows:
            return
        if len(rows) > _ONE_STATEMENT:  # a turn that sent a great many: a transaction of single-row inserts
            async with self._db.transaction() as conn:
                await conn.executemany(_INSERT + _ROW, rows)
            return
        # the usual turn: one statement, so one round trip and atomic by itself
        await self._db.execute(_INSERT + ", ".join([_ROW] * len(rows)), [value for row in rows for value in row])

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
        rows = await self._db.query(f"SELECT * FROM ({select}) AS latest ORDER BY id", params)
        return [
            {"seq": seq, "direction": direction, "timestamp": ts, "activity": json.loads(data)}
            for seq, direction, ts, data in rows
        ]

    async def list_conversations(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        """Conversations with a transcript, most recently active first."""
        where, params = ("WHERE channel_id = ?", (channel_id,)) if channel_id is not None else ("", ())
        rows = await self._db.query(
            "SELECT channel_id, conversation_id, MIN(timestamp), MAX(timestamp), COUNT(*) FROM transcript"
            f" {where} GROUP BY channel_id, conversation_id ORDER BY MAX(id) DESC",
            params,
        )
        keys = ("channel_id", "conversation_id", "first_timestamp", "last_timestamp", "count")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    async def delete_transcript(self, channel_id: str, conversation_id: str) -> None:
        """Forget one conversation's transcript."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM transcript WHERE channel_id = ? AND conversation_id = ?",
                (channel_id, conversation_id),
            )

    async def aclose(self) -> None:
        """Close the database if this store opened it."""
        if self._owns_db:
            await self._db.aclose()
