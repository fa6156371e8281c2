"""The embedded Direct Line's turns, in the background: a request never waits for the bot (its live checks can take
seconds). Each conversation has one worker that runs its queued turns one at a time, in arrival order; every activity
the bot sends reaches the conversation's history (and so the streams and the next poll) as it is sent, not at the end
of the turn; a turn that fails is logged and answered with the usual apology; the app's shutdown gives running turns
a moment, then cancels them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
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

Keep = Callable[[Conversation, dict[str, Any]], None]


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
        self._closing = False

    def check_room(self, conversation: Conversation, turns: int) -> None:
        """Refuse `turns` more turns: 429 when the conversation has too many waiting, 503 while shutting down."""
        if self._closing:
            raise DirectLineError(503, "ShuttingDown", "the bot is restarting: try again shortly", {"Retry-After": "5"})
        if len(conversation.pending) + turns > MAX_PENDING_TURNS:
            raise DirectLineError(
                429, "TooManyRequests", "too many activities waiting for the bot: slow down", {"Retry-After": "2"}
            )

    def enqueue(self, conversation: Conversation, activity: Activity) -> asyncio.Future[None]:
        """Queue a turn; the future is done when it has run."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        conversation.pending.append((activity, done))
        if conversation.worker is None:
            worker = asyncio.create_task(self._work(conversation))
            conversation.worker = worker
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

    async def _work(self, conversation: Conversation) -> None:
        try:
            while conversation.pending:
                activity, done = conversation.pending[0]  # stays counted while it runs
                try:
                    await self._turn(conversation, activity)
                finally:
                    conversation.pending.popleft()
                    if not done.done():
                        done.set_result(None)
        finally:
            conversation.worker = None
            for _, done in conversation.pending:  # cancelled at shutdown: nobody waits for the rest
                done.cancel()
            conversation.pending.clear()

    async def _turn(self, conversation: Conversation, activity: Activity) -> None:
        """Run one turn; each reply reaches the history as the bot sends it. A failure is logged and answered with
        the usual apology, so the user is never left waiting."""
        activity.delivery_mode = "expectReplies"
        activity.timestamp = activity.timestamp or datetime.now(UTC)
        assistant = self._assistant
        kept: list[dict[str, Any]] = []

        async def logic(context: TurnContext) -> None:
            def keep(reply: Activity) -> None:
                data = serialized(context, reply)  # the snapshot taken as it was sent
                kept.append(data)
                self._keep(conversation, data)

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
            self._keep(conversation, apology | {"conversation": {"id": conversation.id}, "channelId": "webchat"})
            return
        body = response.body if response is not None else None
        for reply in body.get("activities", []) if isinstance(body, dict) else []:
            # sent before the relay was in place (by a middleware), so not kept yet
            if not any(reply is data for data in kept):
                self._keep(conversation, reply.serialize() if isinstance(reply, Activity) else reply)
