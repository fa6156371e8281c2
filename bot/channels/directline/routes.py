"""The embedded Direct Line 3.0 routes under `/v3/directline` (the WebSocket stream and polling; no upload), and the
gate every token-issuing route passes, its refusals as Direct Line errors."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.channels.directline.endpoint import DirectLine
from bot.channels.directline.protocol import BASE, DirectLineError, read_json, valid_locale
from bot.channels.gate import GateRefusal, LogThrottle, TokenGate

log = logging.getLogger(__name__)

_THROTTLE = LogThrottle()  # refusals are logged at most once a minute per kind


def admit(gate: TokenGate, request: web.Request, family: str, body: Any = None) -> str | None:
    """`gate.admit`, its refusals as Direct Line errors."""
    try:
        return gate.admit(request, family, body)
    except GateRefusal as exc:
        if exc.status == 429 and (held := _THROTTLE.due("rate")) is not None:
            log.warning("rate limited: route=%s (%d more refused before)", family, held)
        raise DirectLineError(exc.status, exc.code, exc.message, exc.headers) from None


def _service_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}{BASE}"


def _stream_url(request: web.Request, conversation_id: str, stream_token: str, watermark: str | None) -> str:
    """The absolute `ws(s)://` URL of a conversation's stream (a WebSocket URL cannot be relative for every
    client); `wss` when the request came over TLS, or through a proxy that says so (X-Forwarded-Proto: it only
    shapes the caller's own URL)."""
    secure = request.scheme == "https" or request.headers.get("X-Forwarded-Proto", "").strip().lower() == "https"
    query = urlencode({**({"watermark": watermark} if watermark else {}), "t": stream_token})
    return f"{'wss' if secure else 'ws'}://{request.host}{BASE}/conversations/{conversation_id}/stream?{query}"


def add_direct_line_routes(app: web.Application, direct_line: DirectLine, gate: TokenGate) -> None:
    """Mount the embedded Direct Line 3.0 endpoint under `/v3/directline`."""

    async def generate(request: web.Request) -> web.Response:
        body = await read_json(request)
        vouched = admit(gate, request, "token", body)
        locale = body.get("locale") if isinstance(body, dict) else None
        issued, _ = await direct_line.generate(locale if valid_locale(locale) else None, vouched)
        return web.json_response(issued)

    async def refresh(request: web.Request) -> web.Response:
        admit(gate, request, "refresh")
        return web.json_response(await direct_line.refresh(request.headers.get("Authorization")))

    async def start(request: web.Request) -> web.Response:
        admit(gate, request, "conversation")
        access = await direct_line.authorize(request.headers.get("Authorization"))
        conversation = access.conversation
        body = await read_json(request)
        locale = body.get("locale") if isinstance(body, dict) else None
        started = await direct_line.start(conversation, locale if valid_locale(locale) else None, _service_url(request))
        stream = _stream_url(request, conversation.id, await direct_line.issue_stream(access, "0"), None)
        body = direct_line.describe(access) | {"streamUrl": stream}
        return web.json_response(body, status=201 if started else 200)

    async def reconnect(request: web.Request) -> web.Response:
        access = await direct_line.authorize(request.headers.get("Authorization"), request.match_info["id"])
        await direct_line.start(access.conversation, None, _service_url(request))
        watermark = request.query.get("watermark") or None
        stream_token = await direct_line.issue_stream(access, watermark)
        body = direct_line.describe(access)
        url = _stream_url(request, access.conversation.id, stream_token, watermark)
        return web.json_response(body | {"streamUrl": url})

    async def stream(request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            raise DirectLineError(400, "BadArgument", "connect to the stream URL with a WebSocket")
        conversation, since = await direct_line.open_stream(request.query.get("t"), request.match_info["id"])
        return await direct_line.streams.serve(request, conversation, since, lambda: direct_line.alive(conversation))

    async def post_activity(request: web.Request) -> web.Response:
        access = await direct_line.authorize(request.headers.get("Authorization"), request.match_info["id"])
        body = await read_json(request)
        activity_id = await direct_line.post(access.conversation, body, _service_url(request))
        return web.json_response({"id": activity_id})

    async def get_activities(request: web.Request) -> web.Response:
        access = await direct_line.authorize(request.headers.get("Authorization"), request.match_info["id"])
        return web.json_response(await direct_line.activities(access.conversation, request.query.get("watermark")))

    app.router.add_post(f"{BASE}/tokens/generate", generate)
    app.router.add_post(f"{BASE}/tokens/refresh", refresh)
    app.router.add_post(f"{BASE}/conversations", start)
    app.router.add_get(f"{BASE}/conversations/{{id}}", reconnect)
    app.router.add_get(f"{BASE}/conversations/{{id}}/stream", stream)
    app.router.add_post(f"{BASE}/conversations/{{id}}/activities", post_activity)
    app.router.add_get(f"{BASE}/conversations/{{id}}/activities", get_activities)
