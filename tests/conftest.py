"""Shared fixtures: settings that ignore .env, a fake Bot Connector, and no network beyond this machine."""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.settings import Settings

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
        if name.upper().startswith(("COSELL_", "MICROSOFTAPP")):
            monkeypatch.delenv(name)

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("database_path", tmp_path / "bot.db")
        return Settings(_env_file=None, **overrides)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Default settings: auth off, database under tmp_path."""
    return make_settings()


@dataclass
class ConnectorCall:
    """One activity the fake connector received."""

    path: str  # raw, still URL-encoded
    activity: dict[str, Any]
    authorization: str | None


@dataclass
class FakeConnector:
    """A Bot Connector on 127.0.0.1: use `url` as the activity's serviceUrl."""

    url: str = ""
    calls: list[ConnectorCall] = field(default_factory=list)
    status: int = 200  # set to e.g. 503 to make the following posts fail


@pytest.fixture
async def fake_connector(aiohttp_server: Callable[..., Awaitable[Any]]) -> FakeConnector:
    """Implements `POST /v3/conversations/{conv}/activities[/{id}]`, recording each call."""
    fake = FakeConnector()

    async def receive(request: web.Request) -> web.Response:
        fake.calls.append(ConnectorCall(request.raw_path, await request.json(), request.headers.get("Authorization")))
        if fake.status >= 300:
            return web.json_response({"error": {"code": "FakeFailure"}}, status=fake.status)
        return web.json_response({"id": f"reply-{len(fake.calls)}"}, status=fake.status)

    app = web.Application()
    # `.+`: the bot percent-encodes the ids whole (quote(..., safe="")), and an id holding "//" ("%2F%2F") is not
    # matched by the default `{name}` pattern (tests/security/test_hostile_inputs.py sends such ids)
    app.router.add_post("/v3/conversations/{conversation:.+}/activities", receive)
    app.router.add_post("/v3/conversations/{conversation:.+}/activities/{activity:.+}", receive)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("/")).rstrip("/")
    return fake


@pytest.fixture(scope="session")
def knowledge() -> Any:
    """The real knowledge base, indexed once per test session (read-only)."""
    from bot.wiring import load_knowledge

    return load_knowledge(Settings(_env_file=None))
