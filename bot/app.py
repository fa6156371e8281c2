"""create_app(settings): the aiohttp application — routes, shared objects under AppKeys, lifecycle."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

import httpx
from aiohttp import web

from bot.channels.webchat import DirectLine, add_webchat_routes
from bot.health import add_health_routes
from bot.settings import Settings
from bot.wiring import Assistant, Knowledge, build_assistant

ASSISTANT = web.AppKey("assistant", Assistant)
HTTP = web.AppKey("http", httpx.AsyncClient)  # outbound calls; set it before start-up to inject one (tests)
DIRECT_LINE = web.AppKey("direct_line", DirectLine)  # the embedded Direct Line (local mode only)


async def _messages(request: web.Request) -> web.StreamResponse:
    assistant = request.app[ASSISTANT]
    return await assistant.adapter.process(request, assistant.bot)


def freeze_startup_heap() -> None:
    """Move everything built so far (modules, the knowledge index: ~110,000 objects) out of the collector's reach.

    They live as long as the process, yet every full collection traversed them (~50 ms each, about every 300
    turns under load, as turns leave cyclic garbage behind). Frozen objects are still freed by reference
    counting; only cycles among them would stay. Call once, in a server process, after `create_app`.
    """
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, *, knowledge: Knowledge | None = None) -> web.Application:
    """Build the web app; the assistant (database, adapter session) and the HTTP client are closed on cleanup."""
    assistant = build_assistant(settings, knowledge=knowledge)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[ASSISTANT] = assistant
    app.router.add_post("/api/messages", _messages)
    direct_line = add_webchat_routes(app, assistant, http=lambda: app[HTTP])
    if direct_line is not None:
        app[DIRECT_LINE] = direct_line
    add_health_routes(
        app,
        {
            "storage": assistant.database.ping,
            "knowledge": lambda: len(assistant.knowledge.kb.entries) > 0,
        },
    )

    async def _http(app: web.Application) -> AsyncIterator[None]:  # aiohttp 3.x cleanup_ctx form
        if HTTP in app:  # injected: the injector closes it
            yield
            return
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as http:
            app[HTTP] = http
            yield

    async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        await app[ASSISTANT].close()

    app.cleanup_ctx.append(_lifecycle)
    app.cleanup_ctx.append(_http)
    return app
