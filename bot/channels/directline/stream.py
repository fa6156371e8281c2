"""The Direct Line 3.0 WebSocket stream of the embedded endpoint: the open sockets, their caps, and the pump that
pushes a conversation's activities to each of them.

As the service does (Microsoft's "Receive activities from the bot in Direct Line API 3.0"): each message is an
activity set, `{"activities": [...], "watermark": "N"}`, sent as soon as activities exist (the user's own echo too);
an empty message now and then keeps the connection alive; what the client sends is not read (DirectLineJS sends an
empty message every 20 s for the same reason). One socket per conversation: a newer one closes the older with the
reason "collision" (on one instance: two instances do not know of each other's sockets). A socket lives while its
conversation can still be reached with a token; it is closed when every token of the conversation has expired, when
the conversation is forgotten, and when the app shuts down.

The activities come from the shared store: a socket reads it when this instance appended to the conversation, when
another instance's append is notified (PostgreSQL: `pushed`), and otherwise every `poll` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web

from bot.channels.directline.conversation import Conversation
from bot.channels.directline.protocol import DirectLineError
from bot.log_setup import safe_id
from bot.wiring import DatabaseError

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


Read = Callable[[str, int], Awaitable[tuple[list[dict[str, Any]], int]]]


class Streams:
    """The open WebSocket streams of the embedded endpoint on this instance.

    Args:
        read: a conversation's activities after a watermark, and the new watermark (the shared store).
        max_streams: open sockets allowed in all; beyond, a new one is refused with 503 and `Retry-After`.
        keepalive: seconds between empty keep-alive messages; also how often a socket checks that its conversation
            can still be reached.
        poll: seconds between reads of the store when nothing woke a socket, unless `pushed`.
    """

    def __init__(self, read: Read, *, max_streams: int, keepalive: float, poll: float = 1.0) -> None:
        self._read = read
        self.max_streams = max_streams
        self.keepalive = keepalive
        self.poll = poll
        self.pushed = False  # every append, this instance's or another's, wakes the sockets (no polling)
        self._open: dict[str, list[_Stream]] = {}  # conversation id → its sockets, oldest first

    def __len__(self) -> int:
        return sum(len(streams) for streams in self._open.values())

    def admit(self) -> None:
        """Refuse a new socket when the cap is reached (checked before the upgrade, so the refusal is HTTP)."""
        if len(self) >= self.max_streams:
            raise DirectLineError(
                503, "TooManyStreams", "too many open streams: try again later", {"Retry-After": str(_FULL_RETRY_AFTER)}
            )

    def wake(self, conversation_id: str) -> None:
        """The conversation has new activities: its sockets read them."""
        for stream in self._open.get(conversation_id, ()):
            stream.wake.set()

    async def serve(
        self, request: web.Request, conversation: Conversation, since: int, alive: Callable[[], Awaitable[bool]]
    ) -> web.WebSocketResponse:
        """Upgrade `request` and push `conversation`'s activities after watermark `since` until the socket closes."""
        ws = web.WebSocketResponse(heartbeat=self.keepalive * 2, max_msg_size=_MAX_CLIENT_MESSAGE)
        await ws.prepare(request)
        stream = _Stream(ws)
        streams = self._open.setdefault(conversation.id, [])
        for older in streams[: max(0, len(streams) - MAX_STREAMS_PER_CONVERSATION + 1)]:
            older.close(WSCloseCode.POLICY_VIOLATION, "collision")
        streams.append(stream)
        pump = asyncio.create_task(self._pump(stream, conversation, since, alive))
        try:
            async for _ in ws:  # keep-alives from the client, ignored; the loop answers pings and sees the close
                pass
        finally:
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

    async def _pump(
        self, stream: _Stream, conversation: Conversation, since: int, alive: Callable[[], Awaitable[bool]]
    ) -> None:
        ws, seq = stream.ws, since
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        try:
            while stream.stop is None:
                stream.wake.clear()  # before reading the history: an append from now on wakes the wait below
                found, watermark = await self._read(conversation.id, seq)
                if found and stream.stop is None:
                    seq = watermark
                    body = {"activities": found, "watermark": str(seq)}
                    await ws.send_str(json.dumps(body, ensure_ascii=False))
                    quiet_since = loop.time()
                    continue
                seq = max(seq, watermark)
                wait = self.keepalive if self.pushed else min(self.poll, self.keepalive)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.wake.wait(), wait)
                if stream.stop is None and not stream.wake.is_set() and loop.time() - quiet_since >= self.keepalive:
                    quiet_since = loop.time()
                    if not await alive():
                        stream.close(WSCloseCode.POLICY_VIOLATION, "token expired")
                    else:
                        await ws.send_str("")  # the service's keep-alive: an empty message
            code, reason = stream.stop
            await ws.close(code=code, message=reason.encode())
        except (ConnectionError, RuntimeError) as exc:  # the peer went away while we wrote
            log.debug("web chat stream ended: conversation=%s (%s)", safe_id(conversation.id), type(exc).__name__)
        except DatabaseError as exc:  # the client reconnects (DirectLineJS does) and reads from its watermark
            log.warning("web chat stream closed: the store failed: conversation=%s (%s)", safe_id(conversation.id), exc)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"store unavailable")
