"""create_app(settings): the aiohttp application — routes, shared objects under AppKeys, lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.directline.endpoint import DirectLine
from bot.channels.webchat import add_webchat_routes
from bot.health import add_health_routes
from bot.loopback import is_loopback_host
from bot.purge import purge_periodically
from bot.report import ReportAccess, add_report_route
from bot.settings import Settings
from bot.support.links import add_case_routes
from bot.wiring import Assistant, Knowledge, build_assistant

if TYPE_CHECKING:
    import httpx

ASSISTANT = web.AppKey("assistant", Assistant)
#: outbound calls (the Azure Direct Line token exchange); set it before start-up to inject one (tests), else one is
#: made on first use: building an httpx client loads a CA bundle (~35 ms), which a FAQ-only server never needs
HTTP: web.AppKey[httpx.AsyncClient] = web.AppKey("http")
DIRECT_LINE = web.AppKey("direct_line", DirectLine)  # the embedded Direct Line (local mode only)


async def _messages(request: web.Request) -> web.StreamResponse:
    assistant = request.app[ASSISTANT]
    return await assistant.adapter.process(request, assistant.bot)


_YOUNG_THRESHOLD = 20_000


def tune_gc_for_serving() -> None:
    """Freeze the start-up heap and make young collections rare; call once, in a server process, after `create_app`.

    Everything built so far (modules, the knowledge index: ~110,000 objects) lives as long as the process, yet
    every full collection traversed it (~50 ms each). Frozen objects are still freed by reference counting;
    only cycles among them would stay: the start-up's few (~2,300 objects, tens of KiB) are frozen rather than
    collected first, since that collection cost 50-70 ms before the first request could be served.

    A turn leaves no cyclic garbage (tests/bot/test_turn_context.py checks it): everything it makes dies by
    reference counting. Under load the default threshold (700 net allocations) still started a young
    collection every few turns, each finding nothing and costing 0.1-0.4 ms with 16 turns in flight. At 20,000
    they are rare; should a cycle slip in, at most that many objects wait for the collector.

    `cosell-bot serve` stops the collector before its first import; this turns it back on. Importing and building
    the app makes ~300,000 objects and almost no garbage, yet with the default thresholds the collector ran dozens
    of times over the growing heap meanwhile: ~0.1 s of a ~0.8 s start-up, for nothing.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_THRESHOLD, older, oldest)
    gc.enable()


class _LazyClient:
    """The server's outbound httpx client, made on first use and closed on cleanup."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def get(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _loopback_host_guard() -> Any:
    """With auth off the bot serves its own machine only: a request whose Host is not a loopback name reached it
    through a proxy, a tunnel or a DNS-rebinding page (evil.example resolving to 127.0.0.1) and is refused."""

    @web.middleware
    async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
        if not is_loopback_host(host):
            reason = "with Bot Framework auth off this server answers loopback host names only (localhost, 127.0.0.1)"
            return web.json_response({"error": reason}, status=421)
        return await handler(request)

    return guard


def create_app(settings: Settings, *, knowledge: Knowledge | None = None) -> web.Application:
    """Build the web app; the assistant (database, adapter session) and the HTTP client are closed on cleanup."""
    assistant = build_assistant(settings, knowledge=knowledge)
    app = web.Application(client_max_size=settings.max_body_bytes)
    if not settings.auth_enabled and not settings.allow_remote_without_auth:
        app.middlewares.append(_loopback_host_guard())
    app[ASSISTANT] = assistant
    app.router.add_post("/api/messages", _messages)
    add_case_routes(app, assistant.support.cases, assistant.support.links, assistant.support.staff_tokens)
    access = ReportAccess(settings.admin_report_token.get_secret_value(), assistant.support.staff_tokens)
    add_report_route(app, assistant.analytics, assistant.knowledge.kb, access)
    outbound = _LazyClient()
    direct_line = add_webchat_routes(app, assistant, http=lambda: app[HTTP] if HTTP in app else outbound.get())
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
        yield
        await outbound.aclose()  # an injected client is closed by its injector

    async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
        # the outbox delivers escalations (cases, staff replies) from this instance while it serves; the purge keeps
        # the database within the retention settings
        stop = asyncio.Event()
        tasks = [asyncio.create_task(app[ASSISTANT].support.outbox.run(stop))]
        if settings.purge_interval_s:
            tasks.append(asyncio.create_task(purge_periodically(assistant.retention, settings.purge_interval_s, stop)))
        yield
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
        await app[ASSISTANT].close()

    app.cleanup_ctx.append(_lifecycle)
    app.cleanup_ctx.append(_http)
    return app
