"""Bounded storage: `SqlRetention`, the `Retention` port (`assistant.ports`) on either engine — the purge of what is
older than the retention settings, and (through `stores.sql.erasure`) the erasure of one person's data.

What the purge deletes, and by which column:

- conversation state (`state.updated_at`) and transcripts older than `days`. Transcripts go by whole conversations:
  a conversation is deleted when its *last* activity (`timestamp`) is older, never part of one; one that is still
  active keeps all its rows (a Teams personal chat keeps one conversation id for ever, so a user who comes back
  within the retention keeps their whole transcript);
- resolved cases (`cases.updated`) older than `case_days`, each with its bundle, events and outbox rows (open and
  taken cases are never purged, however old); the journal (`feedback`, `checklist`, `remediation`, and on SQLite the
  `handoff` table of earlier builds) by `at`; the API call counts by `day`;
- the shared transcript parts (`stores.sql.transcript_codec`) no transcript row refers to any more.

On SQLite the purge then gives the pages it freed back to the file system, but for a reserve for the next rows
(`SqliteDatabase.release_free_pages`): the file follows what it holds instead of staying at its largest size.

It never holds the database long: each transaction deletes at most `batch` rows (a transcript conversation larger
than that goes whole in one, cases go `batch // 10` at a time with their rows), and the purge yields to the event
loop between transactions, so turns interleave with it. The rows to delete are picked by the indexes of migration 2
(`stores.sql.schema`); the transcripts are swept conversation by conversation in key order from the index alone.

Several instances may purge at once (on PostgreSQL each runs its own periodic purge): every delete re-checks its
condition and is idempotent, so a row another purger deleted first is simply not counted twice; on PostgreSQL the
rows are picked with `FOR UPDATE SKIP LOCKED`, so a purge neither waits for another purge nor for a turn holding a
row. Tests: `tests/stores/test_retention.py` (two purgers at once on both engines).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from stores.sql.database import Database, Dialect
from stores.sql.erasure import forget
from stores.sql.state import state_stamp
from stores.sql.transcripts import _ORPHANS, delete_orphan_parts
from stores.sqlite.database import SqliteDatabase

log = logging.getLogger(__name__)

BATCH = 500  # rows per transaction

# picks rows another transaction holds no lock on (PostgreSQL); SQLite has one writer at a time anyway
_SKIP_LOCKED: dict[Dialect, str] = {"sqlite": "", "postgresql": " FOR UPDATE SKIP LOCKED"}
# one page of the transcript sweep: conversations after the cursor, in the index's order, with their last activity
_PAGE = (
    "SELECT channel_id, conversation_id, MAX(timestamp), COUNT(*) FROM transcript{after}"
    " GROUP BY channel_id, conversation_id ORDER BY channel_id, conversation_id LIMIT ?"
)
_FIRST_PAGE = _PAGE.replace("{after}", "")
_NEXT_PAGE = _PAGE.replace("{after}", " WHERE (channel_id, conversation_id) > (?, ?)")
# a whole conversation, unless an activity at or after the cutoff arrived since the page was read
_DELETE_CONVERSATION = (
    "DELETE FROM transcript WHERE channel_id = ? AND conversation_id = ? AND NOT EXISTS (SELECT 1 FROM transcript AS"
    " newer WHERE newer.channel_id = ? AND newer.conversation_id = ? AND newer.timestamp >= ?)"
)
_CASE_TABLES = ("outbox", "case_events", "case_bundles")  # a purged case's rows, deleted with it


def _stamp(value: datetime, timespec: str = "microseconds") -> str:
    """`value` in UTC as the stores write it (`isoformat`): text order is time order."""
    return value.astimezone(UTC).isoformat(timespec=timespec)


def _activity_stamp(value: datetime) -> str:
    """`value` in the transcript's timestamp shape (msrest's: `2026-05-01T09:30:00.000Z`)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _chunks(conversations: Sequence[tuple[str, str, int]], rows: int) -> Iterator[list[tuple[str, str, int]]]:
    """Whole conversations in groups of at most `rows` rows (a larger conversation alone)."""
    chunk: list[tuple[str, str, int]] = []
    size = 0
    for conversation in conversations:
        if chunk and size + conversation[2] > rows:
            yield chunk
            chunk, size = [], 0
        chunk.append(conversation)
        size += conversation[2]
    if chunk:
        yield chunk


class SqlRetention:
    """The `Retention` port on a `Database`: `purge` (see the module docstring) and `forget` (`stores.sql.erasure`).

    `days` bounds conversation state and transcripts, `case_days` (at least `days`) resolved cases, the journal and
    the API call counts; `clock` gives "now" (UTC), `batch` the rows per transaction.
    """

    def __init__(
        self,
        db: Database,
        *,
        days: int,
        case_days: int,
        batch: int = BATCH,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if days < 1 or case_days < days:
            raise ValueError("retention: days must be at least 1 and case_days at least days")
        self._db = db
        self.days, self.case_days = days, case_days
        self._batch = max(1, batch)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._skip = _SKIP_LOCKED[db.dialect]

    async def purge(self, *, dry_run: bool = False) -> dict[str, int]:
        """Delete what is older than the retention (with `dry_run`, only count it); return the rows per table."""
        now = self._clock()
        short, long = now - timedelta(days=self.days), now - timedelta(days=self.case_days)
        counts = {
            "state": await self._rows("state", "key", "updated_at < ?", state_stamp(short), dry_run),
            "transcript": await self._transcripts(_activity_stamp(short), dry_run),
            "transcript_part": await self._orphan_parts(dry_run),
        }
        counts.update(await self._cases(_stamp(long), dry_run))
        at = _stamp(long, "milliseconds")
        for table in ("feedback", "checklist", "remediation"):
            counts[table] = await self._rows(table, "id", "at < ?", at, dry_run)
        if self._db.dialect == "sqlite":  # the hand-over table of builds before support cases (SQLite only)
            counts["handoff"] = await self._rows("handoff", "ref", "at < ?", at, dry_run)
        counts["api_calls"] = await self._rows("api_calls", "day", "day < ?", long.date().isoformat(), dry_run)
        if not dry_run and isinstance(self._db, SqliteDatabase):  # PostgreSQL's autovacuum does this itself
            released = await self._db.release_free_pages()
            if released:
                log.info("purge: gave %d free pages of the SQLite file back to the file system", released)
        return counts

    async def forget(self, user_id: str, *, dry_run: bool = False) -> dict[str, int]:
        """Erase one person's data everywhere (`stores.sql.erasure.forget`); return the rows per table."""
        return await forget(self._db, user_id, dry_run=dry_run, clock=self._clock)

    async def _rows(self, table: str, key: str, where: str, cutoff: str, dry_run: bool) -> int:
        """Delete the rows of `table` matching `where` (one `?`: `cutoff`), `batch` per transaction."""
        if dry_run:
            [(count,)] = await self._db.query(f"SELECT COUNT(*) FROM {table} WHERE {where}", (cutoff,))
            return int(count)
        # the outer condition again: a row picked from the subquery's snapshot but changed since (a turn saved its
        # state) is kept; PostgreSQL re-evaluates it on the row's newest version
        pick = f"SELECT {key} FROM {table} WHERE {where} LIMIT ?{self._skip}"
        sql = f"DELETE FROM {table} WHERE {key} IN ({pick}) AND {where}"
        total = 0
        while True:
            async with self._db.transaction() as conn:
                deleted = (await conn.execute(sql, (cutoff, self._batch, cutoff))).rowcount
            total += deleted
            if deleted == 0:
                return total
            await asyncio.sleep(0)  # let turns run between transactions

    async def _transcripts(self, cutoff: str, dry_run: bool) -> int:
        """Delete the conversations whose last activity is older than `cutoff`, sweeping them in key order."""
        total = 0
        cursor: tuple[Any, ...] = ()
        while True:
            sql = _NEXT_PAGE if cursor else _FIRST_PAGE
            page = await self._db.query(sql, (*cursor, self._batch))
            if not page:
                return total
            cursor = (page[-1][0], page[-1][1])
            expired = [(c, v, int(n)) for c, v, last, n in page if last is not None and last < cutoff]
            for chunk in _chunks(expired, self._batch):
                total += sum(n for _c, _v, n in chunk) if dry_run else await self._delete_conversations(chunk, cutoff)
            if len(page) < self._batch:
                return total
            await asyncio.sleep(0)

    async def _orphan_parts(self, dry_run: bool) -> int:
        """Delete the shared transcript parts no row refers to any more (after the transcripts went)."""
        if dry_run:
            [(count,)] = await self._db.query(_ORPHANS.replace("DELETE", "SELECT COUNT(*)", 1))
            return int(count)
        async with self._db.transaction() as conn:
            return await delete_orphan_parts(conn, self._db.dialect)

    async def _delete_conversations(self, chunk: list[tuple[str, str, int]], cutoff: str) -> int:
        deleted = 0
        async with self._db.transaction() as conn:
            for channel, conversation, _n in chunk:
                params = (channel, conversation, channel, conversation, cutoff)
                deleted += (await conn.execute(_DELETE_CONVERSATION, params)).rowcount
        await asyncio.sleep(0)
        return deleted

    async def _cases(self, cutoff: str, dry_run: bool) -> dict[str, int]:
        """Delete resolved cases last changed before `cutoff`, each with its bundle, events and outbox rows."""
        old = "SELECT ref FROM cases WHERE status = 'resolved' AND updated < ?"
        counts = dict.fromkeys(("cases", *_CASE_TABLES), 0)
        if dry_run:
            for table in counts:
                [(n,)] = await self._db.query(f"SELECT COUNT(*) FROM {table} WHERE ref IN ({old})", (cutoff,))
                counts[table] = int(n)
            return counts
        pick = f"{old} ORDER BY updated LIMIT ?{self._skip}"
        while True:
            async with self._db.transaction() as conn:
                refs = [ref for (ref,) in (await conn.execute(pick, (cutoff, max(1, self._batch // 10)))).rows]
                if refs:
                    marks = ",".join("?" * len(refs))
                    for table in (*_CASE_TABLES, "cases"):
                        deleted = await conn.execute(f"DELETE FROM {table} WHERE ref IN ({marks})", refs)
                        counts[table] += deleted.rowcount
            if not refs:
                return counts
            await asyncio.sleep(0)
