"""The process's one SQLite connection (`SqliteDatabase`), which every store of the process shares: the embedded
default `Database` (`stores.sql.database`)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from stores.sql.database import Dialect, Result

log = logging.getLogger(__name__)


def file_bytes(path: Path) -> int:
    """What an SQLite file takes on disk: the file and what its WAL still holds (0 for either when absent)."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


RESERVE_PAGES = 256  # free pages (1 MiB) that `release_free_pages` keeps for the next rows in any case
RELEASE_STEP = 1024  # pages (4 MiB) released per step


class _Conn:
    """The connection inside a transaction, on both sides (its calls are synchronous either way)."""

    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        cur = self.raw.execute(sql, params)
        return Result(cur.rowcount, cur.fetchall())


class _AsyncConn:
    __slots__ = ("_conn",)

    def __init__(self, conn: _Conn) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        return self._conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.raw.executemany(sql, rows)


class SqliteDatabase:
    """One SQLite connection in WAL mode, serialised by a lock; the schema is migrated when it opens
    (`stores.sql.schema`).

    Every call is short and local, so callers run it synchronously on the event loop, the async side included (its
    coroutines never suspend): measured on this machine, `asyncio.to_thread` costs about 140 µs per hop, while a
    keyed read takes about 6 µs and a committed write about 22 µs (WAL + synchronous=NORMAL does not fsync per
    commit). The lock only matters for callers on other threads (a CLI, msal's worker thread); inside an async
    transaction nothing but the connection may be awaited (the lock is a thread lock).
    """

    dialect: Dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        from stores.sql.schema import migrate

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; we issue BEGIN IMMEDIATE/COMMIT ourselves
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._closed = False
        # a new file keeps a map of its pages, so that the pages a purge frees can go back to the file system
        # (`release_free_pages`); an existing file keeps its mode (only `compact` changes it)
        self._conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            log.warning("SQLite journal_mode is %s, not wal, for %s", mode, self.path)
        # WAL + NORMAL: a killed process loses nothing committed (it is all in the WAL);
        # only a power cut can lose the last few transactions.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        migrate(_Conn(self._conn), self.dialect, lock=self.sync_transaction)

    @contextmanager
    def sync_transaction(self) -> Iterator[_Conn]:
        """Hold the lock and a write transaction; commit on success, roll back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Conn(self._conn)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_AsyncConn]:
        """The same transaction for the stores' async code (it runs synchronously: see the class)."""
        with self.sync_transaction() as conn:
            yield _AsyncConn(conn)

    def sync_query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement and return all rows."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The same read for the stores' async code."""
        return self.sync_query(sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """One statement on its own: SQLite commits it by itself (no BEGIN IMMEDIATE/COMMIT statements)."""
        with self._lock:
            return _Conn(self._conn).execute(sql, params)

    async def release_free_pages(self, *, step: int = RELEASE_STEP) -> int:
        """Give the free pages (what a purge deleted) back to the file system, all but a reserve for the next rows:
        a tenth of the pages in use, at least `RESERVE_PAGES`. `step` pages at a time, yielding to the event loop
        in between (each step moves pages from the end of the file into the free ones and truncates it; turns wait
        for one step at most). Returns the pages released; 0 for a file without the page map (created before
        `auto_vacuum=INCREMENTAL`: see `compact`)."""
        if self.sync_query("PRAGMA auto_vacuum") != [(2,)]:  # 2: INCREMENTAL
            return 0
        [(pages,)] = self.sync_query("PRAGMA page_count")
        [(free,)] = self.sync_query("PRAGMA freelist_count")
        excess = free - max(RESERVE_PAGES, (pages - free) // 10)
        released = 0
        while released < excess:
            n = min(step, excess - released)
            with self._lock:  # executescript steps it to the end (execute: one step, one page)
                self._conn.executescript(f"PRAGMA incremental_vacuum({int(n)})")
            released += n
            await asyncio.sleep(0)
        return max(released, 0)

    def compact(self) -> None:
        """Rewrite the file without its free pages, with the page map that `release_free_pages` needs (a file made
        before it keeps its size otherwise). Takes as long as copying the file, and as much space again, and holds
        every other writer off meanwhile: for `cosell-bot purge --compact`, not for a serving instance."""
        with self._lock:
            self._conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._conn.execute("VACUUM")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # the copy went through the WAL

    def sync_ping(self) -> bool:
        """True if the database answers `SELECT 1`."""
        try:
            return self.sync_query("SELECT 1") == [(1,)]
        except sqlite3.Error:
            log.warning("SQLite ping failed for %s", self.path, exc_info=True)
            return False

    def listen(self, channel: str) -> AsyncIterator[str] | None:
        """None: SQLite has no notifications between processes (readers poll)."""
        return None

    async def ping(self) -> bool:
        """True if the database answers `SELECT 1`."""
        return self.sync_ping()

    def close(self) -> None:
        """Close the connection (idempotent); the last close checkpoints the WAL."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    async def aclose(self) -> None:
        """`close`, for the `Database` protocol."""
        self.close()
