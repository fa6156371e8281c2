"""The embedded Direct Line's turns, in the background: a request never waits for the bot (its live checks can take
seconds). Each conversation has one worker that runs its queued turns one at a time, in arrival order; every activity
the bot sends reaches the conversation's history (and so the streams and the next poll) as it is sent, not at the end
of the turn; a turn that fails is logged and answered with the usual apology; the app's shutdown gives running turns
a moment, then cancels them."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from assistant import messages
from bot.channels.directline.conversation import BOT_ACCOUNT, Conversation
from bot.channels.directline.protocol import DirectLineError
from bot.handler import locale_lang
from bot.log_setup import safe_id
from bot.sdk.turn_context import serialized
from bot.wiring import Assistant

log = logging.getLogger(__name__)

MAX_PENDING_TURNS = 16  # turns queued per conversation; beyond, a post gets 429 (each holds a body of up to 256 KB)
_SHUTDOWN_GRACE = 10.0  # seconds running turns get to finish when the app stops; then they are cancelled

Keep = Callable[[Conversation, dict[str, Any]], Awaitable[None]]


@dataclass
class _Queue:
    """A conversation's turns waiting on this instance, and the worker that runs them."""

    pending: deque[tuple[Conversation, Activity, asyncio.Future[None]]] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None


class _Writer:
    """A turn's replies on their way to the history: kept in the order they were sent, each write started as the
    reply is sent (the relay's hook is synchronous), `flush` waits for them all."""

    def __init__(self, keep: Keep, conversation: Conversation) -> None:
        self._keep, self._conversation = keep, conversation
        self._last: asyncio.Task[None] | None = None

    def push(self, data: dict[str, Any]) -> None:
        self._last = asyncio.ensure_future(self._write(self._last, data))

    async def _write(self, previous: asyncio.Task[None] | None, data: dict[str, Any]) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # in order; a failed write is logged by its own task, not raised here
        try:
            await self._keep(self._conversation, data)
        except Exception:
            log.exception("web chat: a reply could not be kept: conversation=%s", safe_id(self._conversation.id))

    async def flush(self) -> None:
        if self._last is not None:
            await asyncio.wait([self._last])


class _Relay(list[Any]):
    """A turn's buffer of expectReplies replies that also hands each reply on as it is buffered, i.e. as it is sent
    (`FastCopyTurnContext.send_activities` snapshots a reply, then appends it here)."""

    def __init__(self, on_sent: Callable[[Activity], None]) -> None:
        super().__init__()
        self._on_sent = on_sent

    def append(self, activity: Activity) -> None:
        super().append(activity)
        self._on_sent(activity)


class TurnRunner:
    """Runs the embedded conversations' turns in the background.

    Args:
        assistant: the bot that answers.
        keep: puts an activity the bot sent into its conversation's history.
    """

    def __init__(self, assistant: Assistant, keep: Keep) -> None:
        self._assistant = assistant
        self._keep = keep
        self._workers: set[asyncio.Task[None]] = set()
        self._queues: dict[str, _Queue] = {}
        self._closing = False

    def check_room(self, conversation: Conversation, turns: int) -> None:
        """Refuse `turns` more turns: 429 when the conversation has too many waiting, 503 while shutting down."""
        if self._closing:
            raise DirectLineError(503, "ShuttingDown", "the bot is restarting: try again shortly", {"Retry-After": "5"})
        queue = self._queues.get(conversation.id)
        if queue is not None and len(queue.pending) + turns > MAX_PENDING_TURNS:
            raise DirectLineError(
                429, "TooManyRequests", "too many activities waiting for the bot: slow down", {"Retry-After": "2"}
            )

    def enqueue(self, conversation: Conversation, activity: Activity) -> asyncio.Future[None]:
        """Queue a turn; the future is done when it has run."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues.setdefault(conversation.id, _Queue())
        queue.pending.append((conversation, activity, done))
        if queue.worker is None:
            worker = asyncio.create_task(self._work(conversation.id, queue))
            queue.worker = worker
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        return done

    async def idle(self) -> None:
        """Wait until every queued turn has run."""
        while self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)

    async def close(self, grace: float = _SHUTDOWN_GRACE) -> None:
        """Refuse new turns, give running ones `grace` seconds, then cancel them."""
        self._closing = True
        workers = list(self._workers)
        if not workers:
            return
        _, late = await asyncio.wait(workers, timeout=grace)
        for worker in late:
            worker.cancel()
        if late:
            log.warning("web chat: %d conversation(s) still had a turn running at shutdown: cancelled", len(late))
            await asyncio.wait(late)

    async def _work(self, conversation_id: str, queue: _Queue) -> None:
        try:
            while queue.pending:
                conversation, activity, done = queue.pending[0]  # stays counted while it runs
                try:
                    await self._turn(conversation, activity)
                finally:
                    queue.pending.popleft()
                    if not done.done():
                        done.set_result(None)
        finally:
            queue.worker = None
            for _, _, done in queue.pending:  # cancelled at shutdown: nobody waits for the rest
                done.cancel()
            queue.pending.clear()
            if self._queues.get(conversation_id) is queue:
                del self._queues[conversation_id]

    async def _turn(self, conversation: Conversation, activity: Activity) -> None:
        """Run one turn; each reply reaches the history as the bot sends it. A failure is logged and answered with
        the usual apology, so the user is never left waiting."""
        activity.delivery_mode = "expectReplies"
        activity.timestamp = activity.timestamp or datetime.now(UTC)
        assistant = self._assistant
        kept: list[dict[str, Any]] = []
        writer = _Writer(self._keep, conversation)

        async def logic(context: TurnContext) -> None:
            def keep(reply: Activity) -> None:
                data = serialized(context, reply)  # the snapshot taken as it was sent
                kept.append(data)
                writer.push(data)

            context.buffered_reply_activities = _Relay(keep)
            await assistant.bot.on_turn(context)

        try:
            response = await assistant.adapter.process_activity(conversation.auth, activity, logic)
        except Exception:  # on_turn_error already ran; this is the adapter itself failing
            log.exception(
                "web chat turn failed: conversation=%s activity=%s", safe_id(conversation.id), safe_id(activity.id)
            )
            lang = locale_lang(activity.locale or conversation.locale) or assistant.settings.default_locale
            apology = {"type": "message", "text": messages.text("error", lang), "from": dict(BOT_ACCOUNT)}
            writer.push(apology | {"conversation": {"id": conversation.id}, "channelId": "webchat"})
            await writer.flush()
            return
        body = response.body if response is not None else None
        for reply in body.get("activities", []) if isinstance(body, dict) else []:
            # sent before the relay was in place (by a middleware), so not kept yet
            if not any(reply is data for data in kept):
                writer.push(reply.serialize() if isinstance(reply, Activity) else reply)
        await writer.flush()
