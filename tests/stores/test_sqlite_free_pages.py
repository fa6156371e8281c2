"""The SQLite file follows what it holds (stores/sqlite/database.py): a new file keeps a page map
(`auto_vacuum=INCREMENTAL`), a purge gives the pages it freed back to the file system but for a reserve, and
`compact` rewrites a file made before that (`cosell-bot purge --compact`)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.ports import StateChange
from stores.sql.retention import SqlRetention
from stores.sql.state import SqlStateStore
from stores.sqlite.database import RESERVE_PAGES, SqliteDatabase

ROWS = 3000
PAYLOAD = "x" * 2000  # ~half a page per row: 3,000 rows fill ~1,500 pages (6 MiB)


def _pragma(db: SqliteDatabase, name: str) -> int:
    [(value,)] = db.sync_query(f"PRAGMA {name}")
    return int(value)


async def _fill(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        for i in range(ROWS):
            await conn.execute(
                "INSERT INTO state (key, etag, data, updated_at) VALUES (?, 'e', ?, '2020-01-01T00:00:00Z')",
                (f"msteams/conversations/c{i}", PAYLOAD + str(i)),
            )


async def test_the_pages_a_delete_frees_go_back_to_the_file_system_but_for_a_reserve(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "bot.db")
    try:
        assert _pragma(db, "auto_vacuum") == 2  # INCREMENTAL, from the first table on
        await _fill(db)
        full = _pragma(db, "page_count")
        assert full > 1000
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM state")
        assert _pragma(db, "freelist_count") > 1000 and _pragma(db, "page_count") == full  # SQLite keeps them

        released = await db.release_free_pages(step=100)  # in steps, yielding between them

        assert released > 1000
        assert _pragma(db, "page_count") <= full - released  # (and the page map's pages that mapped them)
        assert _pragma(db, "freelist_count") <= RESERVE_PAGES  # the reserve for the next rows stays
        assert await db.release_free_pages() == 0  # nothing more to give back
    finally:
        db.close()
    assert (tmp_path / "bot.db").stat().st_size < full * 4096 / 2  # the file itself shrank (after the checkpoint)


async def test_the_purge_gives_back_what_it_deleted(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "bot.db")
    try:
        await _fill(db)
        await SqlStateStore(db).write({"msteams/conversations/kept": StateChange(PAYLOAD, None)})
        full = _pragma(db, "page_count")

        counts = await SqlRetention(db, days=30, case_days=365, clock=lambda: datetime.now(UTC)).purge()

        assert counts["state"] == ROWS
        assert _pragma(db, "page_count") < full / 2
        assert db.sync_query("SELECT key FROM state") == [("msteams/conversations/kept",)]
        dry = SqlRetention(db, days=30, case_days=365, clock=lambda: datetime.now(UTC) + timedelta(days=60))
        pages = _pragma(db, "page_count")
        assert (await dry.purge(dry_run=True))["state"] == 1 and _pragma(db, "page_count") == pages  # touches nothing
    finally:
        db.close()


async def test_a_file_made_without_the_page_map_keeps_its_pages_until_compacted(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as raw:  # as an earlier build made it: tables first, auto_vacuum left at NONE
        raw.execute("CREATE TABLE state (key TEXT PRIMARY KEY, etag TEXT, data TEXT, updated_at TEXT)")
    raw.close()
    db = SqliteDatabase(path)  # migrated as it opens; the mode of an existing file cannot change here
    try:
        assert _pragma(db, "auto_vacuum") == 0
        await _fill(db)
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM state WHERE key != 'msteams/conversations/c7'")
        full = _pragma(db, "page_count")
        assert await db.release_free_pages() == 0 and _pragma(db, "page_count") == full

        db.compact()

        assert _pragma(db, "auto_vacuum") == 2 and _pragma(db, "freelist_count") == 0
        assert _pragma(db, "page_count") < full / 10
        assert db.sync_query("SELECT data FROM state") == [(PAYLOAD + "7",)]  # what it held, kept
    finally:
        db.close()
    assert path.stat().st_size < full * 4096 / 10
