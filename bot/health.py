"""Liveness (`/healthz`) and readiness (`/readyz`) endpoints for the hosting platform."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

log = logging.getLogger(__name__)

Probe = Callable[[], bool | Awaitable[bool]]
#: a probe slower than this counts as failed (a database that hangs is not ready)
PROBE_TIMEOUT_S = 2.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def health_handlers(probes: Mapping[str, Probe]) -> tuple[Handler, Handler]:
    """Build the `(healthz, readyz)` handlers.

    Args:
        probes: readiness checks by name (e.g. "storage", "knowledge"); each must be quick and
            return (or, when async, resolve to) True when ready. A probe that raises or takes longer than
            `PROBE_TIMEOUT_S` counts as failed.
    """
    probes = dict(probes)

    async def healthz(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.StreamResponse:
        failed = [name for name, probe in probes.items() if not await _passes(name, probe)]
        if failed:
            return web.json_response({"status": "unavailable", "failed": failed}, status=503)
        return web.json_response({"status": "ok"})

    return healthz, readyz


def add_health_routes(app: web.Application, probes: Mapping[str, Probe]) -> None:
    """Register `GET /healthz` (always 200) and `GET /readyz` (200, or 503 naming the failed probes)."""
    healthz, readyz = health_handlers(probes)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)


async def _passes(name: str, probe: Probe) -> bool:
    try:
        result = probe()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, PROBE_TIMEOUT_S)
        return bool(result)
    except Exception as exc:  # a broken or hung probe means "not ready", not a 500
        log.warning("readiness probe %s raised %s", name, type(exc).__name__)
        return False
