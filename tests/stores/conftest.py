"""The stores' contract tests run on both engines: `database` here is an SQLite file or a fresh PostgreSQL database
on the session's throwaway server (`tests/pg.py`); `open_database` opens one more connection to the same database
(another process's, or the same one's after a restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from stores.postgres.database import PostgresDatabase
from stores.sql.database import Database
from stores.sqlite.database import SqliteDatabase


def open_spec(spec: str) -> Database:
    """The database at `spec`: a postgresql:// URL or an SQLite file path."""
    return PostgresDatabase(spec) if spec.startswith("postgresql://") else SqliteDatabase(spec)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where this test's database is: an SQLite file path or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "test.db")
    server = request.getfixturevalue("postgres_server")
    return str(server.fresh())


@pytest.fixture
async def database(database_spec: str) -> AsyncIterator[Database]:
    """A migrated, empty database of each engine, closed after the test."""
    db = open_spec(database_spec)
    yield db
    await db.aclose()


@pytest.fixture
def open_database(database_spec: str) -> Callable[[], Database]:
    """Open the test's database once more (the caller closes it)."""
    return lambda: open_spec(database_spec)
