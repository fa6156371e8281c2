"""The embedded Direct Line's shared state, on either engine: conversations, their bounded histories and their tokens
(`SqlDirectLineStore`), so that several instances of the bot serve one Web Chat conversation whichever of them gets
the token refresh, the post, the poll or the WebSocket.

What is kept (tables: `stores.sql.schema`, migration 3):
- a conversation: its user (random, or the id a portal vouched for), locale, whether it was started (welcomed once,
  whichever instance is asked), the watermark (`count`: activities ever appended), the last timestamp handed out
  (timestamps strictly increase: Web Chat orders by them), and when it was last used;
- its history: at most `max_history` activities and `max_history_bytes` bytes of JSON, the oldest falling off (the
  newest is always kept, however large), each stamped with its id (`<conversation>|<watermark>`) and timestamp as it
  is appended, in one transaction with the watermark;
- tokens (`kind` "token") and one-use stream tokens (`kind` "stream", with the token they were issued for and the
  watermark their socket replays from), as their SHA-256 only, at most `max_tokens` of each kind per conversation.

On PostgreSQL every append notifies `CHANNEL` with the conversation's id when it commits (`pg_notify`), and
`changes()` yields those ids from a connection that LISTENs: an instance's open streams wake when another instance
appends. SQLite has no such signal: its readers poll (`changes()` is None).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from assistant.directline_port import DirectLineConversation as StoredConversation
from assistant.directline_port import DirectLineGrant as StoredToken
from assistant.directline_port import DirectLineTokenKind as TokenKind
from stores.sql.database import Connection, Database

CHANNEL = "cosell_directline"
TOKEN: TokenKind = "token"
STREAM: TokenKind = "stream"


def token_hash(token: str) -> str:
    """What the store keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


_CONVERSATION = "SELECT id, user_id, locale, vouched, started, count, touched FROM dl_conversation"


def _grant(row: tuple[Any, ...]) -> StoredToken:
    cid, expires_at, parent, since = row
    return StoredToken(cid, float(expires_at), parent, since)


def _conversation(row: tuple[Any, ...]) -> StoredConversation:
    cid, user, locale, vouched, started, count, touched = row
    return StoredConversation(cid, user, locale, bool(vouched), bool(started), int(count), float(touched))


class SqlDirectLineStore:
    """The embedded Direct Line's conversations, histories and tokens in the bot's database.

    Args:
        db: the database (shared with the other stores; its owner closes it).
        max_history: activities kept per conversation.
        max_history_bytes: JSON bytes kept per conversation (the newest activity is kept whatever its size).
        max_tokens: live tokens, and unused stream tokens, per conversation (each refresh adds one).
    """

    def __init__(
        self, db: Database, *, max_history: int = 500, max_history_bytes: int = 512 * 1024, max_tokens: int = 4
    ) -> None:
        self.db = db
        self.max_history = max_history
        self.max_history_bytes = max_history_bytes
        self.max_tokens = max_tokens

    async def create(self, conversation_id: str, user_id: str, locale: str | None, vouched: bool, now: float) -> None:
        await self.db.execute(
            "INSERT INTO dl_conversation (id, user_id, locale, vouched, touched) VALUES (?, ?, ?, ?, ?)",
            (conversation_id, user_id, locale, int(vouched), now),
        )

    async def conversation(self, conversation_id: str) -> StoredConversation | None:
        rows = await self.db.query(f"{_CONVERSATION} WHERE id = ?", (conversation_id,))
        return _conversation(rows[0]) if rows else None

    async def population(self) -> tuple[int, int]:
        """(conversations, anonymous ones) kept now."""
        rows = await self.db.query("SELECT COUNT(*), COALESCE(SUM(1 - vouched), 0) FROM dl_conversation")
        return int(rows[0][0]), int(rows[0][1])

    async def touch(self, conversation_id: str, now: float, granularity: float) -> None:
        """Record a use of the conversation, at most once per `granularity` seconds (a poll a second is no write a
        second)."""
        await self.db.execute(
            "UPDATE dl_conversation SET touched = ? WHERE id = ? AND touched < ?",
            (now, conversation_id, now - granularity),
        )

    async def start(self, conversation_id: str, locale: str | None) -> bool:
        """Mark the conversation started (and set its locale when given); True for the one caller that did, on
        whichever instance."""
        result = await self.db.execute(
            "UPDATE dl_conversation SET started = 1, locale = COALESCE(?, locale) WHERE id = ? AND started = 0",
            (locale, conversation_id),
        )
        return result.rowcount == 1

    async def issue(
        self,
        token: str,
        conversation_id: str,
        kind: TokenKind,
        expires_at: float,
        *,
        parent: str | None = None,
        since: int | None = None,
    ) -> None:
        """Keep a new token of `kind`; the conversation's oldest of that kind beyond `max_tokens` is forgotten."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO dl_token (hash, conversation_id, kind, expires_at, parent, since)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (token_hash(token), conversation_id, kind, expires_at, token_hash(parent) if parent else None, since),
            )
            await conn.execute(
                "DELETE FROM dl_token WHERE conversation_id = ? AND kind = ? AND id NOT IN"
                " (SELECT id FROM dl_token WHERE conversation_id = ? AND kind = ? ORDER BY id DESC LIMIT ?)",
                (conversation_id, kind, conversation_id, kind, self.max_tokens),
            )

    async def token(self, token: str, kind: TokenKind = TOKEN) -> StoredToken | None:
        return await self.token_by_hash(token_hash(token), kind)

    async def token_by_hash(self, hashed: str, kind: TokenKind = TOKEN) -> StoredToken | None:
        rows = await self.db.query(
            "SELECT conversation_id, expires_at, parent, since FROM dl_token WHERE hash = ? AND kind = ?",
            (hashed, kind),
        )
        return _grant(rows[0]) if rows else None

    async def redeem(self, stream_token: str) -> StoredToken | None:
        """Take a stream token (it opens one socket, once): what it opened, or None when unknown or used."""
        result = await self.db.execute(
            "DELETE FROM dl_token WHERE hash = ? AND kind = ? RETURNING conversation_id, expires_at, parent, since",
            (token_hash(stream_token), STREAM),
        )
        return _grant(result.rows[0]) if result.rows else None

    async def alive(self, conversation_id: str, now: float) -> bool:
        """True while some token of the conversation can still reach it."""
        rows = await self.db.query(
            "SELECT 1 FROM dl_token WHERE conversation_id = ? AND kind = ? AND expires_at > ? LIMIT 1",
            (conversation_id, TOKEN, now),
        )
        return bool(rows)

    async def append(self, conversation_id: str, activity: dict[str, Any], now_ms: int) -> int | None:
        """Stamp `activity` with its id and timestamp (strictly after the conversation's last) and keep it; the
        oldest fall off beyond the bounds. Returns its watermark, or None when the conversation is gone."""
        async with self.db.transaction() as conn:
            result = await conn.execute(
                "UPDATE dl_conversation SET count = count + 1,"
                " last_ms = CASE WHEN last_ms + 1 > ? THEN last_ms + 1 ELSE ? END"
                " WHERE id = ? RETURNING count, last_ms",
                (now_ms, now_ms, conversation_id),
            )
            if not result.rows:
                return None
            seq, last_ms = int(result.rows[0][0]), int(result.rows[0][1])
            activity["id"] = f"{conversation_id}|{seq:07d}"
            activity["timestamp"] = (
                datetime.fromtimestamp(last_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
            data = json.dumps(activity, ensure_ascii=False)
            size = len(data.encode())
            await conn.execute(
                "INSERT INTO dl_activity (conversation_id, seq, size, data) VALUES (?, ?, ?, ?)",
                (conversation_id, seq, size, data),
            )
            kept = await conn.execute(
                "UPDATE dl_conversation SET kept = kept + 1, size = size + ? WHERE id = ? RETURNING kept, size",
                (size, conversation_id),
            )
            count, total = int(kept.rows[0][0]), int(kept.rows[0][1])
            if count > self.max_history or total > self.max_history_bytes:
                await self._trim(conn, conversation_id, count, total)
            if self.db.dialect == "postgresql":
                await conn.execute("SELECT pg_notify(?, ?)", (CHANNEL, conversation_id))
        return seq

    async def _trim(self, conn: Connection, conversation_id: str, count: int, total: int) -> None:
        rows = (
            await conn.execute(
                "SELECT seq, size FROM dl_activity WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
            )
        ).rows
        cut, dropped, freed = None, 0, 0
        for seq, size in rows[:-1]:  # the newest stays
            if count - dropped <= self.max_history and total - freed <= self.max_history_bytes:
                break
            cut, dropped, freed = seq, dropped + 1, freed + int(size)
        if cut is None:
            return
        await conn.execute("DELETE FROM dl_activity WHERE conversation_id = ? AND seq <= ?", (conversation_id, cut))
        await conn.execute(
            "UPDATE dl_conversation SET kept = kept - ?, size = size - ? WHERE id = ?",
            (dropped, freed, conversation_id),
        )

    async def watermark(self, conversation_id: str) -> int:
        """Activities ever appended to the conversation (0 when it is gone)."""
        rows = await self.db.query("SELECT count FROM dl_conversation WHERE id = ?", (conversation_id,))
        return int(rows[0][0]) if rows else 0

    async def activities(self, conversation_id: str, since: int) -> tuple[list[dict[str, Any]], int]:
        """The kept activities after watermark `since`, and the watermark they bring the reader to (read first, so
        an activity appended meanwhile is never skipped: it comes with the next read)."""
        watermark = await self.watermark(conversation_id) or since
        if watermark <= since:
            return [], watermark
        found = await self.db.query(
            "SELECT data FROM dl_activity WHERE conversation_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
            (conversation_id, since, watermark),
        )
        return [json.loads(data) for (data,) in found], watermark

    async def sweep(self, now: float, idle: float) -> list[str]:
        """Forget the conversations unused for `idle` seconds (with their histories and tokens) and every expired
        token; returns the forgotten conversations' ids."""
        async with self.db.transaction() as conn:
            gone = [
                cid
                for (cid,) in (
                    await conn.execute("DELETE FROM dl_conversation WHERE touched < ? RETURNING id", (now - idle,))
                ).rows
            ]
            for cid in gone:
                await conn.execute("DELETE FROM dl_activity WHERE conversation_id = ?", (cid,))
                await conn.execute("DELETE FROM dl_token WHERE conversation_id = ?", (cid,))
            await conn.execute("DELETE FROM dl_token WHERE expires_at <= ?", (now,))
        return gone

    def changes(self) -> AsyncIterator[str] | None:
        """The ids of conversations another instance appended to, as they commit (PostgreSQL); None on SQLite,
        whose readers poll."""
        return self.db.listen(CHANNEL)
