"""The database the stores run on, whichever engine it is: the `Database` protocol, implemented by
`stores.sqlite.database.SqliteDatabase` (the embedded default) and `stores.postgres.database.PostgresDatabase`
(several instances on one server).

The stores write their SQL once, in the dialect both engines share (`?` placeholders, `INSERT … ON CONFLICT`,
`UPDATE … RETURNING`); where the engines differ (column types, the outbox's row locking) the migration or the
statement names its variant by `Database.dialect`. Each engine's async side serves the turn path; its sync side serves
the ports that are synchronous by nature (the token cache, which msal saves from a worker thread) and the CLI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class Result:
    """What one statement gave: the rows it returned (a SELECT, or `RETURNING`) and how many rows it changed."""

    rowcount: int
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class Connection(Protocol):
    """A connection inside a transaction (`Database.transaction`)."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement (`?` placeholders) and return its rows and row count."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        ...


class SyncConnection(Protocol):
    """The same, for the sync side (`Database.sync_transaction`)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement (`?` placeholders) and return its rows and row count."""
        ...


class DatabaseError(Exception):
    """The database refused or could not be reached; the message names the engine and the failing operation,
    never a statement's parameters (they can hold user text) nor the connection string's password."""


class Database(Protocol):
    """One engine's connections, shared by every store of the process."""

    dialect: Dialect

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        ...

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement and return all rows."""
        ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement on its own (atomic by itself: no BEGIN/COMMIT around it, one round trip)."""
        ...

    def sync_transaction(self) -> AbstractContextManager[SyncConnection]:
        """A write transaction on the sync side (not on the event loop: it blocks)."""
        ...

    def sync_query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One read statement on the sync side."""
        ...

    async def ping(self) -> bool:
        """True when the database answers `SELECT 1`."""
        ...

    def listen(self, channel: str) -> AsyncIterator[str] | None:
        """The payloads notified on `channel` as their transactions commit, from any process (PostgreSQL's
        LISTEN/NOTIFY); None when the engine has no such signal (SQLite: readers poll)."""
        ...

    async def aclose(self) -> None:
        """Close every connection (idempotent)."""
        ...
