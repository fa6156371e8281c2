"""Shared fixtures: settings that ignore .env, a fake Bot Connector, and no network beyond this machine."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from devtools.fake_connector import ConnectorCall, FakeConnector
from stores.sqlite.database import SqliteDatabase
from tests.pg import PostgresServer

__all__ = ["ConnectorCall", "FakeConnector"]  # tests import them from here for their type hints

_LOCAL_HOSTS = frozenset({None, "", "localhost", "127.0.0.1", "::1", b"localhost", b"127.0.0.1"})


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that resolves any host but this machine (requests, MSAL and aiohttp all resolve)."""
    attempts: list[str] = []
    resolve = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in _LOCAL_HOSTS:
            attempts.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, f"tests may not resolve {host!r}")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield
    if attempts:
        pytest.fail(f"test tried to reach the network: {sorted(set(attempts))}")


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """`make_settings(**overrides)`: Settings from defaults and overrides only (no .env, no COSELL_ env)."""
    for name in list(os.environ):
        if name.upper().startswith(("COSELL_", "MICROSOFTAPP", "APPLICATIONINSIGHTS_")):
            monkeypatch.delenv(name)

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("database_path", tmp_path / "bot.db")
        return Settings(_env_file=None, **overrides)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Default settings: auth off, database under tmp_path."""
    return make_settings()


@pytest.fixture
async def fake_connector() -> AsyncIterator[FakeConnector]:
    """The fake Bot Connector of devtools/fake_connector.py on 127.0.0.1: use `url` as the activity's serviceUrl;
    `calls` records each request (`.activity`, `.path` still percent-encoded, `.authorization`, …)."""
    async with FakeConnector() as fake:
        yield fake


@pytest.fixture(scope="session")
def knowledge() -> Any:
    """The real knowledge base, indexed once per test session (read-only)."""
    from bot.wiring import load_knowledge

    return load_knowledge(Settings(_env_file=None))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the session (`tests/pg.py`), started when a test first asks."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[SqliteDatabase]:
    """A real SQLite database file under tmp_path, closed after the test."""
    db = SqliteDatabase(tmp_path / "test.db")
    yield db
    db.close()
