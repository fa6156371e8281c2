"""The Direct Line 3.0 WebSocket stream of the embedded endpoint: the open sockets, their caps, and the pump that
pushes a conversation's activities to each of them.

As the service does (Microsoft's "Receive activities from the bot in Direct Line API 3.0"): each message is an
activity set, `{"activities": [...], "watermark": "N"}`, sent as soon as activities exist (the user's own echo too);
an empty message now and then keeps the connection alive; what the client sends is not read (DirectLineJS sends an
empty message every 20 s for the same reason). One socket per conversation: a newer one closes the older with the
reason "collision". A socket lives while its conversation can still be reached with a token; it is closed when
every token of the conversation has expired, when the conversation is forgotten, and when the app shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, web

from bot.channels.directline.conversation import Conversation
from bot.channels.directline.protocol import DirectLineError
from bot.log_setup import safe_id

log = logging.getLogger(__name__)

MAX_STREAMS_PER_CONVERSATION = 1  # the service's rule
_FULL_RETRY_AFTER = 30  # seconds a client is told to wait when no socket can be opened
_MAX_CLIENT_MESSAGE = 4096  # bytes: the client has nothing to say but keep-alives


@dataclass
class _Stream:
    """One open socket and why it should close, once it should."""

    ws: web.WebSocketResponse
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    stop: tuple[int, str] | None = None

    def close(self, code: int, reason: str) -> None:
        if self.stop is None:
            self.stop = (code, reason)
        self.wake.set()


class Streams:
    """The open WebSocket streams of the embedded endpoint.

    Args:
        max_streams: open sockets allowed in all; beyond, a new one is refused with 503 and `Retry-After`.
        keepalive: seconds between empty keep-alive messages; also how often a socket checks that its conversation
            can still be reached.
    """

    def __init__(self, *, max_streams: int, keepalive: float) -> None:
        self.max_streams = max_streams
        self.keepalive = keepalive
        self._open: dict[str, list[_Stream]] = {}  # conversation id → its sockets, oldest first

    def __len__(self) -> int:
        return sum(len(streams) for streams in self._open.values())

    def admit(self) -> None:
        """Refuse a new socket when the cap is reached (checked before the upgrade, so the refusal is HTTP)."""
        if len(self) >= self.max_streams:
            raise DirectLineError(
                503, "TooManyStreams", "too many open streams: try again later", {"Retry-After": str(_FULL_RETRY_AFTER)}
            )

    async def serve(
        self, request: web.Request, conversation: Conversation, since: int, alive: Callable[[], bool]
    ) -> web.WebSocketResponse:
        """Upgrade `request` and push `conversation`'s activities after watermark `since` until the socket closes."""
        ws = web.WebSocketResponse(heartbeat=self.keepalive * 2, max_msg_size=_MAX_CLIENT_MESSAGE)
        await ws.prepare(request)
        stream = _Stream(ws)
        streams = self._open.setdefault(conversation.id, [])
        for older in streams[: max(0, len(streams) - MAX_STREAMS_PER_CONVERSATION + 1)]:
            older.close(WSCloseCode.POLICY_VIOLATION, "collision")
        streams.append(stream)
        conversation.listeners.add(stream.wake)
        pump = asyncio.create_task(self._pump(stream, conversation, since, alive))
        try:
            async for _ in ws:  # keep-alives from the client, ignored; the loop answers pings and sees the close
                pass
        finally:
            conversation.listeners.discard(stream.wake)
            streams.remove(stream)
            if not streams:
                self._open.pop(conversation.id, None)
            stream.close(WSCloseCode.OK, "closed")
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        return ws

    def end(self, conversation_id: str, code: int = WSCloseCode.OK, reason: str = "conversation ended") -> None:
        """Close the sockets of one conversation."""
        for stream in self._open.get(conversation_id, []):
            stream.close(code, reason)

    def close_all(self) -> None:
        """Close every socket (the app is shutting down)."""
        for conversation_id in list(self._open):
            self.end(conversation_id, WSCloseCode.GOING_AWAY, "server shutting down")

    async def _pump(self, stream: _Stream, conversation: Conversation, since: int, alive: Callable[[], bool]) -> None:
        ws, seq = stream.ws, since
        try:
            while stream.stop is None:
                stream.wake.clear()  # before reading the history: an append from now on wakes the wait below
                batch = [(n, activity) for n, activity, _ in conversation.history if n > seq]
                if batch:
                    seq = batch[-1][0]
                    body = {"activities": [activity for _, activity in batch], "watermark": str(seq)}
                    await ws.send_str(json.dumps(body, ensure_ascii=False))
                    continue
                try:
                    await asyncio.wait_for(stream.wake.wait(), self.keepalive)
                except TimeoutError:
                    if not alive():
                        stream.close(WSCloseCode.POLICY_VIOLATION, "token expired")
                    else:
                        await ws.send_str("")  # the service's keep-alive: an empty message
            code, reason = stream.stop
            await ws.close(code=code, message=reason.encode())
        except (ConnectionError, RuntimeError) as exc:  # the peer went away while we wrote
            log.debug("web chat stream ended: conversation=%s (%s)", safe_id(conversation.id), type(exc).__name__)
