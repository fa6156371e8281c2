"""PostgreSQL for several instances of the bot: `PostgresDatabase`, the `Database` of `stores.sql.database` on
psycopg 3 — an async connection pool for the turn path, a small sync pool for the synchronous ports (the token cache,
saved by msal from a worker thread) and the CLI.

Why psycopg 3 and not asyncpg: one driver gives both sides (asyncpg is async only, and the token cache is saved from a
thread msal runs in), its pool is maintained with it (`psycopg_pool`), and the binary wheel carries libpq (no Debian
package at run time). Connections are autocommit outside `transaction()`; every connection gets the statement timeout
(`options=-c statement_timeout=…`), so a stuck query fails the turn with a clear error instead of holding it.

The stores' SQL uses `?` placeholders (SQLite's); here they become psycopg's `%s` (a literal `%` doubled). No store
statement holds a `?` or a `%` inside a string literal: the translation relies on that.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from stores.sql.database import DatabaseError, Dialect, Result

log = logging.getLogger(__name__)

_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@|(password=)\S+", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The connection string with its password masked (for logs and errors)."""
    return _PASSWORD.sub(lambda m: (m.group(1) or m.group(2)) + "***" + ("@" if m.group(1) else ""), url)


@lru_cache(maxsize=1024)
def _pg(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class _AsyncConn:
    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        cur = await self._conn.execute(_pg(sql), params)
        rows = await cur.fetchall() if cur.description is not None else []
        return Result(cur.rowcount, rows)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            async with self._conn.cursor() as cur:
                await cur.executemany(_pg(sql), rows)


class _SyncConn:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        cur = self._conn.execute(_pg(sql), params)
        rows = cur.fetchall() if cur.description is not None else []
        return Result(cur.rowcount, rows)


class PostgresDatabase:
    """The pools of one PostgreSQL database. Built synchronously (wiring is): the schema is migrated at once over
    one sync connection (`stores.sql.schema.migrate`, under an advisory lock, so instances starting together take
    turns); the async pool opens on first use, in the running event loop."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 10, statement_timeout_ms: int = 5000) -> None:
        from stores.sql.schema import migrate

        self.url = url
        self._options = f"-c statement_timeout={int(statement_timeout_ms)}"
        self._kwargs: dict[str, Any] = {"autocommit": True, "options": self._options}
        self._size = max(1, pool_size)
        self._pool: AsyncConnectionPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sync: ConnectionPool | None = None
        self._closed = False
        try:
            with psycopg.connect(url, autocommit=True, options=self._options) as conn:
                migrate(_SyncConn(conn), self.dialect, lock=lambda: conn.transaction())
        except psycopg.Error as exc:
            raise DatabaseError(
                f"PostgreSQL at {redact_url(url)}: cannot open or migrate: {type(exc).__name__}: {_why(exc)}"
            ) from None

    async def _async_pool(self) -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._loop is not loop:
            # opened in an event loop that has ended (a CLI or a test runs asyncio.run more than once): its
            # connections cannot be closed from here; they go with it
            self._pool, self._loop = None, None
        if self._pool is None:
            if self._closed:
                raise DatabaseError("PostgreSQL: the database is closed")
            pool = AsyncConnectionPool(self.url, min_size=1, max_size=self._size, kwargs=self._kwargs, open=False)
            try:
                await pool.open(wait=True, timeout=10)
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"PostgreSQL at {redact_url(self.url)}: {type(exc).__name__}: {_why(exc)}"
                ) from None
            self._pool, self._loop = pool, loop
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_AsyncConn]:
        pool = await self._async_pool()
        try:
            async with pool.connection() as conn, conn.transaction():
                yield _AsyncConn(conn)
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {type(exc).__name__}: {_why(exc)}") from exc

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        pool = await self._async_pool()
        try:
            async with pool.connection() as conn:
                return (await _AsyncConn(conn).execute(sql, params)).rows
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {type(exc).__name__}: {_why(exc)}") from exc

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """One statement on its own, in autocommit: one round trip instead of BEGIN, the statement and COMMIT."""
        pool = await self._async_pool()
        try:
            async with pool.connection() as conn:
                return await _AsyncConn(conn).execute(sql, params)
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {type(exc).__name__}: {_why(exc)}") from exc

    def _sync_pool(self) -> ConnectionPool:
        if self._sync is None:
            self._sync = ConnectionPool(self.url, min_size=1, max_size=2, kwargs=self._kwargs, open=True)
        return self._sync

    @contextmanager
    def sync_transaction(self) -> Iterator[_SyncConn]:
        try:
            with self._sync_pool().connection() as conn, conn.transaction():
                yield _SyncConn(conn)
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {type(exc).__name__}: {_why(exc)}") from exc

    def sync_query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._sync_pool().connection() as conn:
                return _SyncConn(conn).execute(sql, params).rows
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {type(exc).__name__}: {_why(exc)}") from exc

    async def listen(self, channel: str) -> AsyncIterator[str]:
        """The payloads NOTIFYed on `channel`, from a connection of its own (LISTEN holds it: not the pool's), until
        the caller stops iterating; a lost connection is opened again after a second (what was notified meanwhile
        is lost: the readers' periodic checks catch up)."""
        if not re.fullmatch(r"[a-z_]{1,63}", channel):
            raise ValueError(f"not a channel name: {channel!r}")
        while not self._closed:
            try:
                conn = await psycopg.AsyncConnection.connect(self.url, **self._kwargs)
            except psycopg.Error as exc:
                log.warning("PostgreSQL LISTEN %s: cannot connect (%s): retrying", channel, type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            try:
                async with conn:
                    await conn.execute(f'LISTEN "{channel}"')
                    async for notify in conn.notifies():
                        yield notify.payload
            except psycopg.Error as exc:
                log.warning("PostgreSQL LISTEN %s: connection lost (%s): reconnecting", channel, type(exc).__name__)
                await asyncio.sleep(1.0)

    async def ping(self) -> bool:
        try:
            return await self.query("SELECT 1") == [(1,)]
        except DatabaseError:
            log.warning("PostgreSQL ping failed for %s", redact_url(self.url))
            return False

    async def aclose(self) -> None:
        self._closed = True
        if self._pool is not None and self._loop is asyncio.get_running_loop():
            await self._pool.close()
        self._pool = self._loop = None
        if self._sync is not None:
            self._sync.close()
            self._sync = None


def _why(exc: psycopg.Error) -> str:
    """The server's message without the statement's parameters (psycopg does not put them in it)."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return redact_url(primary or str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
