"""The `make_host` fixture: an echo bot on `FixedCloudAdapter` over real HTTP (see tests/echo_host.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import ServiceClientCredentialsFactory

from bot.adapter import FixedCloudAdapter
from bot.settings import Settings
from tests.echo_host import EchoBot, Host, MakeHost


@pytest.fixture
def make_host(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> MakeHost:
    async def make(credentials_factory: ServiceClientCredentialsFactory | None = None, **overrides: Any) -> Host:
        settings = make_settings(**overrides)
        auth = ConfigurationBotFrameworkAuthentication(
            settings.bot_auth_config(), credentials_factory=credentials_factory
        )
        adapter = FixedCloudAdapter(auth, max_body_bytes=settings.max_body_bytes)
        bot = EchoBot()
        host = Host(client=None)  # type: ignore[arg-type]

        async def on_error(context: TurnContext, error: Exception) -> None:
            host.errors.append(error)

        async def messages(request: web.Request) -> web.StreamResponse:
            return await adapter.process(request, bot)

        async def close(app: web.Application) -> None:
            await adapter.close()

        adapter.on_turn_error = on_error
        app = web.Application()
        app.router.add_post("/api/messages", messages)
        app.on_cleanup.append(close)
        host.client = await aiohttp_client(app)
        return host

    return make
