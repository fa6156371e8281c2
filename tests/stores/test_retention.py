"""Tests for stores/sql/retention.py: the purge on both engines — each table's boundary (a second inside the retention
is kept, a second outside goes), transcripts by whole conversations, small transactions, open cases kept, the dry
run, and two purgers at once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.handoff.model import CaseEvent, OutboxItem, SupportCase
from assistant.ports import StateChange
from knowledge.models import Area
from stores.sql.cases import SqlCaseStore
from stores.sql.counters import SqlCallCounter
from stores.sql.database import Connection, Database, Result
from stores.sql.journal import SqlJournal
from stores.sql.retention import SqlRetention
from stores.sql.state import SqlStateStore, state_stamp
from stores.sql.transcripts import SqlTranscriptStore
from tenant.base import System

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SHORT = NOW - timedelta(days=30)  # the conversation retention's cutoff
LONG = NOW - timedelta(days=365)  # the case retention's cutoff
SECOND = timedelta(seconds=1)


def _retention(db: Database, **kwargs: Any) -> SqlRetention:
    return SqlRetention(db, days=30, case_days=365, clock=lambda: NOW, **kwargs)


def _activity(conversation: str, at: datetime, *, user: str = "u1", channel: str = "msteams") -> dict[str, Any]:
    return {
        "type": "message",
        "channelId": channel,
        "conversation": {"id": conversation},
        "from": {"id": user, "role": "user"},
        "recipient": {"id": "bot"},
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",  # msrest's shape
        "text": "hello",
    }


async def _transcript(db: Database, conversation: str, *times: datetime) -> None:
    await SqlTranscriptStore(db).log_serialized([(_activity(conversation, at), "in") for at in times])


async def _state(db: Database, key: str, at: datetime) -> None:
    await SqlStateStore(db).write({key: StateChange("{}", "*")})
    async with db.transaction() as conn:
        await conn.execute("UPDATE state SET updated_at = ? WHERE key = ?", (at.isoformat(), key))


async def _journal(db: Database, conversation: str, at: datetime) -> None:
    journal = SqlJournal(db)
    await journal.record_feedback(conversation, "run-solution-id", True, "en")
    await journal.record_checklist(conversation, Area.configuration, {"a": "done"})
    await journal.record_remediation(conversation, "admin", "start-flows-in-order", before={}, after={}, result="done")
    stamp = at.isoformat(timespec="milliseconds")
    async with db.transaction() as conn:
        for table in ("feedback", "checklist", "remediation"):
            await conn.execute(f"UPDATE {table} SET at = ? WHERE conversation_id = ?", (stamp, conversation))


async def _case(db: Database, ref: str, updated: datetime, status: str = "resolved") -> None:
    store = SqlCaseStore(db)
    case = SupportCase(
        ref=ref, status=status, created=updated, updated=updated, channel_id="msteams", conversation_id=f"c-{ref}"
    )
    await store.create(case, {"ref": ref}, [OutboxItem(ref=ref, target="user", key="case", next_at=updated)])
    event = CaseEvent(ref=ref, at=updated, kind="user_message", author="Ada", text="help")
    await store.update(case, expect_updated=updated, event=event)


async def _count(db: Database, table: str) -> int:
    [(n,)] = await db.query(f"SELECT COUNT(*) FROM {table}")
    return int(n)


async def _seed_boundaries(db: Database) -> None:
    """One row just outside the retention (deleted) and one just inside (kept), in every table the purge bounds."""
    await _state(db, "msteams/conversations/old", SHORT - SECOND)
    await _state(db, "msteams/conversations/new", SHORT + SECOND)
    await _transcript(db, "old", SHORT - 2 * SECOND, SHORT - SECOND)
    await _transcript(db, "new", SHORT - 2 * SECOND, SHORT + SECOND)  # its last activity is inside: kept whole
    await _case(db, "CS-OLD", LONG - SECOND)
    await _case(db, "CS-NEW", LONG + SECOND)
    await _journal(db, "old", LONG - SECOND)
    await _journal(db, "new", LONG + SECOND)
    for day in (LONG.date() - timedelta(days=1), LONG.date()):
        await SqlCallCounter(db, today=lambda day=day: day).add(System.graph, 3)


async def test_each_table_keeps_a_second_inside_and_deletes_a_second_outside(database: Database) -> None:
    await _seed_boundaries(database)

    counts = await _retention(database).purge()

    expected = {
        "state": 1,
        "transcript": 2,
        "transcript_part": 0,  # the rows seeded here are small: no shared part
        "cases": 1,
        "outbox": 1,
        "case_events": 1,
        "case_bundles": 1,
        "feedback": 1,
        "checklist": 1,
        "remediation": 1,
        "api_calls": 1,
    }
    if database.dialect == "sqlite":
        expected["handoff"] = 0
    assert counts == expected
    assert await database.query("SELECT key FROM state") == [("msteams/conversations/new",)]
    assert await database.query("SELECT DISTINCT conversation_id FROM transcript") == [("new",)]
    assert await _count(database, "transcript") == 2  # the old row of the kept conversation too
    assert await database.query("SELECT ref FROM cases") == [("CS-NEW",)]
    for table in ("outbox", "case_events", "case_bundles"):
        assert await database.query(f"SELECT DISTINCT ref FROM {table}") == [("CS-NEW",)]
    for table in ("feedback", "checklist", "remediation"):
        assert await database.query(f"SELECT conversation_id FROM {table}") == [("new",)]
    assert await database.query("SELECT day FROM api_calls") == [(LONG.date().isoformat(),)]

    assert set((await _retention(database).purge()).values()) == {0}  # nothing left to purge


async def test_state_rows_of_this_build_and_of_earlier_builds_go_by_their_time(database: Database) -> None:
    # this build stamps `updated_at` to the second with "Z"; earlier builds wrote `isoformat` (microseconds, +00:00)
    store = SqlStateStore(database)
    await store.write({"fresh": StateChange("{}", None), "stale": StateChange("{}", None)})
    async with database.transaction() as conn:
        await conn.execute("UPDATE state SET updated_at = ? WHERE key = 'stale'", (state_stamp(SHORT - SECOND),))
        for key, at in (("old-build-stale", SHORT - SECOND), ("old-build-fresh", SHORT + SECOND)):
            await conn.execute(
                "INSERT INTO state (key, etag, data, updated_at) VALUES (?, 'e', '{}', ?)", (key, at.isoformat())
            )
    stamps = dict(await database.query("SELECT key, updated_at FROM state"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamps["fresh"])  # 20 characters

    assert (await _retention(database).purge())["state"] == 2  # a second outside the retention, in either shape
    assert sorted(key for (key,) in await database.query("SELECT key FROM state")) == ["fresh", "old-build-fresh"]
    future = SqlRetention(database, days=30, case_days=365, clock=lambda: datetime.now(UTC) + timedelta(days=31))
    assert (await future.purge())["state"] == 2  # a month on, this build's row too


async def test_open_and_taken_cases_are_never_purged(database: Database) -> None:
    years_ago = NOW - timedelta(days=3 * 365)
    await _case(database, "CS-OPEN", years_ago, "open")
    await _case(database, "CS-TAKEN", years_ago, "taken")
    await _case(database, "CS-DONE", years_ago, "resolved")

    counts = await _retention(database).purge()

    assert counts["cases"] == 1
    assert sorted(await database.query("SELECT ref FROM cases")) == [("CS-OPEN",), ("CS-TAKEN",)]
    store = SqlCaseStore(database)
    for ref in ("CS-OPEN", "CS-TAKEN"):
        assert [e.kind for e in await store.events(ref)] == ["user_message"]
        assert await store.bundle(ref) == {"ref": ref} and len(await store.deliveries(ref)) == 1
    assert await store.events("CS-DONE") == [] and await store.bundle("CS-DONE") is None


async def test_the_dry_run_counts_what_the_purge_deletes_and_deletes_nothing(database: Database) -> None:
    await _seed_boundaries(database)
    tables = ("state", "transcript", "cases", "outbox", "case_events", "case_bundles", "feedback", "api_calls")
    before = {table: await _count(database, table) for table in tables}

    dry = await _retention(database).purge(dry_run=True)

    assert {table: await _count(database, table) for table in tables} == before
    assert dry == await _retention(database).purge()
    assert dry["transcript"] == 2 and dry["cases"] == 1


class _Recording:
    """The test's database, recording the rows each transaction deleted (and running `after_query` after reads)."""

    def __init__(self, db: Database, after_query: Callable[[], Any] | None = None) -> None:
        self.db = db
        self.dialect = db.dialect
        self.deleted: list[int] = []
        self._after_query = after_query

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        recorder = _RecordingConn()
        async with self.db.transaction() as conn:
            recorder.conn = conn
            yield recorder
        self.deleted.append(recorder.deleted)

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = await self.db.query(sql, params)
        if self._after_query is not None:
            await self._after_query()
        return rows


class _RecordingConn:
    def __init__(self) -> None:
        self.conn: Connection
        self.deleted = 0

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        result = await self.conn.execute(sql, params)
        if sql.startswith("DELETE"):
            self.deleted += result.rowcount
        return result

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.conn.executemany(sql, rows)


async def test_more_rows_than_a_batch_go_in_small_transactions_and_conversations_whole(database: Database) -> None:
    old = SHORT - timedelta(days=1)
    for i in range(10):
        await _state(database, f"msteams/conversations/c{i}", old)
    for i in range(4):
        await _transcript(database, f"pair-{i}", old, old + SECOND)
    await _transcript(database, "long", *(old + k * SECOND for k in range(5)))  # larger than a batch
    await _transcript(database, "active", old, NOW - SECOND)
    recording = _Recording(database)

    counts = await _retention(recording, batch=3).purge()  # type: ignore[arg-type]

    assert counts["state"] == 10 and counts["transcript"] == 4 * 2 + 5
    busy = [n for n in recording.deleted if n]
    assert sorted(busy) == [1, 2, 2, 2, 2, 3, 3, 3, 5]  # state: 3+3+3+1; a pair a transaction; "long" whole
    assert await database.query("SELECT DISTINCT conversation_id FROM transcript") == [("active",)]
    assert await _count(database, "transcript") == 2


async def test_a_conversation_that_comes_back_during_the_purge_is_kept_whole(database: Database) -> None:
    old = SHORT - timedelta(days=1)
    await _transcript(database, "returning", old, old + SECOND)
    came_back = False

    async def user_returns() -> None:  # between the sweep's read and its delete, a new activity arrives
        nonlocal came_back
        if not came_back:
            came_back = True
            await _transcript(database, "returning", NOW)

    counts = await _retention(_Recording(database, user_returns)).purge()  # type: ignore[arg-type]

    assert came_back and counts["transcript"] == 0
    assert await _count(database, "transcript") == 3


async def test_two_purgers_at_once_delete_each_row_once(
    database: Database, open_database: Callable[[], Database]
) -> None:
    """Every instance runs its own periodic purge: at the same time on one database they delete every expired row
    between them, each once, and neither fails."""
    old = SHORT - timedelta(days=1)
    for i in range(40):
        await _state(database, f"msteams/conversations/c{i}", old)
        await _transcript(database, f"c{i}", old, old + SECOND)
    other = open_database()
    try:
        first, second = await asyncio.gather(_retention(database, batch=7).purge(), _retention(other, batch=7).purge())
    finally:
        await other.aclose()

    assert first["state"] + second["state"] == 40
    assert first["transcript"] + second["transcript"] == 80
    assert await _count(database, "state") == 0 and await _count(database, "transcript") == 0


@pytest.mark.parametrize(("days", "case_days"), [(0, 365), (30, 29)])
def test_a_case_retention_shorter_than_the_conversations_is_refused(tmp_path: Any, days: int, case_days: int) -> None:
    from stores.sqlite.database import SqliteDatabase

    db = SqliteDatabase(tmp_path / "r.db")
    try:
        with pytest.raises(ValueError, match="retention"):
            SqlRetention(db, days=days, case_days=case_days)
    finally:
        db.close()
