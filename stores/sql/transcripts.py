"""Conversation transcripts: the `TranscriptStore` port (`assistant.ports`) on already-serialised activities, on
either engine.

The store shares the state store's database (given the `SqlStateStore` or its `Database`; given a path, it opens an
SQLite one of its own). It takes activities as the dicts `Activity.serialize()` gives (the host serialises them: this
module knows no botbuilder), and everything it stores has gone through `assistant.redaction` first (`redacted_json`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.ports import TurnFacts
from assistant.redaction.masking import may_hold_secret, redact_activity, redacted_json
from stores.sql.database import Connection, Database, Dialect
from stores.sql.state import SqlStateStore
from stores.sql.transcript_codec import (
    PART_MIN,
    SHARED,
    Columns,
    columns,
    encode,
    in_order,
    is_compact,
    pack,
    part_hash,
    unpack,
)
from stores.sqlite.database import SqliteDatabase

_INSERT = (
    "INSERT INTO transcript (channel_id, conversation_id, activity_id, direction, type, timestamp, data, user_id,"
    " part, verdict, entry_id, checks) VALUES "
)
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_NO_FACTS = (None, None, None)
_ONE_STATEMENT = 200  # rows written by one multi-row INSERT (SQLite allows 32,766 parameters a statement)
# a shared part is written with the rows that use it, in their transaction; `used_at`: when it was first stored
_PARTS = "INSERT INTO transcript_part (hash, data, used_at) VALUES "
_PART_ROW = "(?, ?, ?)"
_PART_CONFLICT = " ON CONFLICT (hash) DO NOTHING"


def _flat(rows: Sequence[Sequence[Any]]) -> list[Any]:
    return [value for row in rows for value in row]


_SELECT = (
    "SELECT t.id, t.direction, t.timestamp, t.data, t.activity_id, t.type, p.data AS part_data FROM transcript AS t"
    " LEFT JOIN transcript_part AS p ON p.hash = t.part WHERE t.channel_id = ? AND t.conversation_id = ?"
)


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


def _now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # msrest's shape: TEXT order is time order


def _redacted(value: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """`value` redacted (`assistant.redaction`) and its JSON, skipping the walk when nothing could hold a secret."""
    text = encode(value)
    if not may_hold_secret(text):
        return value, text
    scrubbed = redact_activity(value)
    return scrubbed, encode(scrubbed)


class _Batch:
    """One write's rows in the compact format (`stores.sql.transcript_codec`), redacted, with their shared parts."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.parts: dict[str, str] = {}
        self._answered: dict[tuple[str, str, str], dict[str, Any]] = {}  # this write's "in" activities, by id

    def add(self, raw: dict[str, Any], direction: str) -> None:
        _check_direction(direction)
        cols = columns(raw, "" if raw.get("timestamp") else _now_stamp())  # the clock only when it is needed
        data, part = self._data(raw, direction, cols) if in_order(raw) else (redacted_json(raw), None)
        self.rows.append(
            (cols.channel_id, cols.conversation_id, cols.activity_id, direction, cols.type, cols.timestamp, data,
             _user_id(raw, direction), part, *_NO_FACTS)
        )  # fmt: skip

    def _data(self, raw: dict[str, Any], direction: str, cols: Columns) -> tuple[str, str | None]:
        shared = SHARED[direction]
        content = {key: value for key, value in raw.items() if key in shared}
        rest, _ = _redacted({key: value for key, value in raw.items() if key not in content} if content else raw)
        reply_to = rest.get("replyToId")
        answered = None
        if direction == "out" and isinstance(reply_to, str):
            answered = self._answered.get((cols.channel_id, cols.conversation_id, reply_to))
        row, part = pack(rest, cols, answered), None
        if content:
            content, content_json = _redacted(content)
            if len(content_json) >= PART_MIN:
                part = part_hash(content_json)
                self.parts[part] = content_json
            else:
                row.update(content)
        if direction == "in" and isinstance(rest.get("id"), str):
            self._answered[(cols.channel_id, cols.conversation_id, rest["id"])] = {**rest, **content}
        return encode(row), part


_ORPHANS = (
    "DELETE FROM transcript_part"
    " WHERE NOT EXISTS (SELECT 1 FROM transcript WHERE transcript.part = transcript_part.hash)"
)


async def delete_orphan_parts(conn: Connection, dialect: Dialect, hashes: Iterable[str] | None = None) -> int:
    """Delete the shared parts no row refers to any more (of `hashes`, or all); the count.

    On PostgreSQL the table is locked against writers first (a turn's write holds ROW EXCLUSIVE on it until it
    commits): a part that an uncommitted row is about to refer to is not taken from under it. SQLite has one writer.
    """
    if dialect == "postgresql":
        await conn.execute("LOCK TABLE transcript_part IN SHARE ROW EXCLUSIVE MODE")
    if hashes is None:
        return (await conn.execute(_ORPHANS)).rowcount
    wanted, deleted = sorted(set(hashes)), 0
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        deleted += (await conn.execute(f"{_ORPHANS} AND hash IN ({marks})", chunk)).rowcount
    return deleted


async def delete_conversation(conn: Connection, channel_id: str, conversation_id: str) -> tuple[int, list[str]]:
    """Delete one conversation's transcript rows: (rows deleted, the shared parts they referred to)."""
    key = (channel_id, conversation_id)
    where = "channel_id = ? AND conversation_id = ?"
    parts = await conn.execute(f"SELECT DISTINCT part FROM transcript WHERE {where} AND part IS NOT NULL", key)
    deleted = await conn.execute(f"DELETE FROM transcript WHERE {where}", key)
    return deleted.rowcount, [part for (part,) in parts.rows]


async def _insert(conn: Connection | Database, rows: list[tuple[Any, ...]]) -> None:
    if len(rows) > _ONE_STATEMENT:  # a turn that sent a great many: single-row inserts
        await conn.executemany(_INSERT + _ROW, rows)  # type: ignore[union-attr]
        return
    await conn.execute(_INSERT + ", ".join([_ROW] * len(rows)), _flat(rows))


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
        """Store serialised activities (`Activity.serialize()`), redacted and compact, in order, all or none; `facts`
        go on the first "in" row (the turn's own), in the same statement."""
        batch = _Batch()
        for raw, direction in entries:
            batch.add(raw, direction)
        if facts is not None:
            first_in = next((i for i, (_raw, direction) in enumerate(entries) if direction == "in"), None)
            if first_in is not None:
                batch.rows[first_in] = batch.rows[first_in][:-3] + _facts(facts)
        if not batch.rows:
            return
        if not batch.parts and len(batch.rows) <= _ONE_STATEMENT:  # one statement: one round trip, atomic by itself
            await _insert(self._db, batch.rows)
            return
        parts = [(h, data, _now_stamp()) for h, data in batch.parts.items()]
        if self._db.dialect == "postgresql" and len(batch.rows) <= _ONE_STATEMENT:
            # the parts and the rows in one statement (a data-modifying WITH): one round trip, atomic by itself, as
            # a turn without parts; the usual turn on PostgreSQL
            values = [value for row in (*parts, *batch.rows) for value in row]
            with_parts = f"WITH parts AS ({_PARTS}{', '.join([_PART_ROW] * len(parts))}{_PART_CONFLICT}) "
            await self._db.execute(with_parts + _INSERT + ", ".join([_ROW] * len(batch.rows)), values)
            return
        async with self._db.transaction() as conn:  # parts first: no row refers to a part not there
            if parts:
                await conn.execute(_PARTS + ", ".join([_PART_ROW] * len(parts)) + _PART_CONFLICT, _flat(parts))
            await _insert(conn, batch.rows)

    async def get_transcript(
        self, channel_id: str, conversation_id: str, *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Oldest first: `{"seq", "direction", "timestamp", "activity"}`; with `limit`, the latest ones."""
        select = f"{_SELECT} ORDER BY t.id DESC"
        params: tuple[Any, ...] = (channel_id, conversation_id)
        if limit is not None:
            select += " LIMIT ?"
            params += (limit,)
        rows = await self._db.query(f"SELECT * FROM ({select}) AS latest ORDER BY id", params)
        answered: dict[Any, Any] = {}  # the "in" activities read so far, by id (the last of each id)
        out = []
        for seq, direction, ts, data, activity_id, kind, part in rows:
            row = json.loads(data)
            ref = row.get("_r") if is_compact(row) else None
            if ref is not None and ref not in answered:  # before the `limit`: read it alone
                answered[ref] = await self._answered(channel_id, conversation_id, ref, seq)
            activity = unpack(row, Columns(channel_id, conversation_id, activity_id, kind, ts), part, answered.get(ref))
            if direction == "in" and isinstance(activity, dict) and isinstance(activity.get("id"), str):
                answered[activity["id"]] = activity
            out.append({"seq": seq, "direction": direction, "timestamp": ts, "activity": activity})
        return out

    async def _answered(self, channel_id: str, conversation_id: str, activity_id: str, before: int) -> Any:
        """The last "in" activity with `activity_id` stored before row `before` (None if there is none)."""
        rows = await self._db.query(
            f"{_SELECT} AND t.direction = 'in' AND t.activity_id = ? AND t.id < ? ORDER BY t.id DESC LIMIT 1",
            (channel_id, conversation_id, activity_id, before),
        )
        for _seq, _direction, ts, data, stored_id, kind, part in rows:
            return unpack(json.loads(data), Columns(channel_id, conversation_id, stored_id, kind, ts), part, None)
        return None

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
            _rows, parts = await delete_conversation(conn, channel_id, conversation_id)
            await delete_orphan_parts(conn, self._db.dialect, parts)

    async def aclose(self) -> None:
        """Close the database if this store opened it."""
        if self._owns_db:
            await self._db.aclose()
