"""create_app(settings): the aiohttp application — routes, shared objects under AppKeys, lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.health import add_health_routes
from bot.settings import Settings
from bot.wiring import Assistant, Knowledge, build_assistant

ASSISTANT = web.AppKey("assistant", Assistant)


async def _messages(request: web.Request) -> web.StreamResponse:
    assistant = request.app[ASSISTANT]
    return await assistant.adapter.process(request, assistant.bot)


def create_app(settings: Settings, *, knowledge: Knowledge | None = None) -> web.Application:
    """Build the web app; the assistant (database, adapter session) is closed on cleanup."""
    assistant = build_assistant(settings, knowledge=knowledge)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[ASSISTANT] = assistant
    app.router.add_post("/api/messages", _messages)
    add_health_routes(
        app,
        {
            "storage": assistant.database.ping,
            "knowledge": lambda: len(assistant.knowledge.kb.entries) > 0,
        },
    )

    async def _lifecycle(app: web.Application) -> AsyncIterator[None]:  # aiohttp 3.x cleanup_ctx form
        yield
        await app[ASSISTANT].close()

    app.cleanup_ctx.append(_lifecycle)
    return app
