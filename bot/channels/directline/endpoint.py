"""`DirectLine`: the embedded Direct Line 3.0 endpoint's logic, its state in the shared store
(`stores.sql.directline`: conversations, histories, tokens), so several instances serve one conversation whichever of
them a request reaches. It issues tokens bound to one conversation and one server-chosen user, and short-lived stream
URLs bound to a token; admits new conversations up to a cap; and runs each turn in process with deliveryMode
expectReplies, in the background: a request never waits for the bot's checks. A conversation's turns run one at a
time, in arrival order, on the instance that received them (turns of one conversation on two instances meet at the
state's e-tag: the later one runs again, `bot.handler`); every activity the bot sends reaches the history (and so
the streams, on every instance, and the next poll) as it is sent, not at the end of the turn (`turns`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from assistant.directline_port import DirectLineConversation, DirectLineStore
from assistant.trust import VOUCHED_PREFIX
from bot.channels.directline.conversation import BOT_ACCOUNT, Conversation
from bot.channels.directline.protocol import BASE, DirectLineError
from bot.channels.directline.stream import Streams
from bot.channels.directline.turns import TurnRunner
from bot.channels.gate import LogThrottle
from bot.identity import EMBEDDED_CLAIM, VOUCHED_CLAIM
from bot.log_setup import safe_id
from bot.wiring import Assistant, DatabaseError

log = logging.getLogger(__name__)

_THROTTLE = LogThrottle()  # refusals are logged at most once a minute per kind
_FULL_RETRY_AFTER = 60  # seconds a client is told to wait when no new conversation can be opened
_DROPPED_TYPES = frozenset({"trace", "invokeResponse"})
STREAM_URL_LIFETIME = 60.0  # seconds a stream URL can be used, as the service documents
_TOUCH_EVERY = 30.0  # seconds: a conversation's last use is written at most this often (polls are not writes)


@dataclass(frozen=True)
class Access:
    """A request's bearer token, the conversation it opens and when it expires."""

    token: str
    conversation: Conversation
    expires_at: float


def channel_auth(assistant: Assistant, vouched_user: str | None = None) -> AuthenticateRequestResult:
    """Credentials for turns the embedded endpoint hands the bot.

    The endpoint *is* the channel: there is no inbound Bot Framework JWT to validate (see
    `FixedCloudAdapter.in_process_auth`); two claims of ours say the turn is the embedded endpoint's and which user,
    if any, a portal vouched for (bot/identity.py).
    """
    claims = {EMBEDDED_CLAIM: True, VOUCHED_CLAIM: vouched_user}
    result: AuthenticateRequestResult = assistant.adapter.in_process_auth(assistant.settings.app_id, claims)
    return result


class DirectLine:
    """Direct Line 3.0 on the shared store: tokens, conversations and their history; runs turns in process.

    Args:
        assistant: the bot that answers.
        store: the conversations, histories and tokens (every instance's).
        token_lifetime: seconds a token lives; also how long an idle conversation is kept.
        max_streams: open WebSocket streams on this instance (default: `max_conversations`).
        keepalive: seconds between a stream's empty keep-alive messages.
        poll: seconds between a stream's reads of the store when the database cannot notify (SQLite: another
            process's appends reach this instance's sockets within this time; its own at once).
        clock: Unix seconds, the same on every instance (injectable for tests).
    """

    def __init__(
        self,
        assistant: Assistant,
        store: DirectLineStore,
        *,
        token_lifetime: int,
        max_conversations: int = 1000,
        max_streams: int | None = None,
        keepalive: float = 15.0,
        poll: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._assistant = assistant
        self.store = store
        self.token_lifetime = token_lifetime
        self.max_conversations = max_conversations
        self.clock = clock
        self._anonymous = channel_auth(assistant)
        self.streams = Streams(
            store.activities, max_streams=max_streams or max_conversations, keepalive=keepalive, poll=poll
        )
        self.turns = TurnRunner(assistant, self._keep)
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        """Start the background work: the sweep of idle conversations every minute (at most a quarter of a token's
        lifetime), so a conversation's history leaves the database soon after its last token expired even when no
        new conversation comes; and, where the database can tell (PostgreSQL), the wake-up of this instance's streams
        when another instance appends (without it they read the store every `poll` seconds)."""
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._sweep_every(min(60.0, self.token_lifetime / 4))))
        changes = self.store.changes()
        if changes is not None:
            self.streams.pushed = True
            self._tasks.append(asyncio.create_task(self._listen(changes)))

    async def _listen(self, changes: AsyncIterator[str]) -> None:
        async for conversation_id in changes:
            self.streams.wake(conversation_id)

    async def _sweep_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self._sweep()
            except DatabaseError as exc:  # tried again at the next interval
                log.warning("web chat: the sweep of idle conversations failed: %s", exc)

    async def has(self, conversation_id: str) -> bool:
        """True while the store keeps the conversation."""
        return await self.store.conversation(conversation_id) is not None

    async def generate(self, locale: str | None = None, vouched_id: str | None = None) -> tuple[dict[str, Any], str]:
        """A new conversation and its first token: (Direct Line body, user id).

        Anonymous callers never choose their user id (a chosen id would let a caller read another user's state):
        it is random. Only a user the portal's server vouched for (`vouched_id`, checked by the caller) gets the
        portal's id, as `dl_u.<id>`, and the conversation's turns carry it as verified.

        Raises:
            DirectLineError: 503 when the open conversations are at the cap (live ones are never evicted for new).
        """
        await self._sweep()
        await self._admit(vouched=vouched_id is not None)
        user_id = VOUCHED_PREFIX + vouched_id if vouched_id is not None else f"user-{secrets.token_hex(8)}"
        conversation_id = secrets.token_hex(16)
        await self.store.create(conversation_id, user_id, locale, vouched_id is not None, self.clock())
        return await self._issue(conversation_id), user_id

    async def _admit(self, *, vouched: bool) -> None:
        """Refuse a new conversation when the cap is reached: anonymous ones count against `max_conversations`,
        and all together against twice that (vouched users keep some room when anonymous ones fill theirs). The
        count is every instance's (two instances admitting at the same moment may pass it by one each)."""
        total, anonymous = await self.store.population()
        if total >= 2 * self.max_conversations or (not vouched and anonymous >= self.max_conversations):
            if (held := _THROTTLE.due("full")) is not None:
                log.warning(
                    "web chat is full: refused a new conversation (%d open, %d more refused before)", total, held
                )
            raise DirectLineError(
                503,
                "TooManyConversations",
                "too many open conversations: try again in a minute",
                {"Retry-After": str(_FULL_RETRY_AFTER)},
            )

    async def refresh(self, authorization: str | None) -> dict[str, Any]:
        """A new token for the same conversation; the presented one stays valid until it expires."""
        access = await self.authorize(authorization)
        return await self._issue(access.conversation.id)

    async def authorize(self, authorization: str | None, conversation_id: str | None = None) -> Access:
        """The bearer token and the conversation it opens; 401, 403 or 404 as a `DirectLineError`."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.casefold() != "bearer" or not token or " " in token:
            raise DirectLineError(401, "Unauthorized", "an Authorization: Bearer <token> header is required")
        now = self.clock()
        grant = await self.store.token(token, "token")
        if grant is None or grant.expires_at <= now:
            raise DirectLineError(403, "TokenExpired", "the token is unknown or expired")
        stored = await self.store.conversation(conversation_id or grant.conversation_id)
        if stored is None:
            raise DirectLineError(404, "BadArgument", "conversation not found")
        if stored.id != grant.conversation_id:
            raise DirectLineError(403, "Forbidden", "the token is not valid for this conversation")
        await self._touch(stored, now)
        return Access(token, self._view(stored), grant.expires_at)

    async def _touch(self, stored: DirectLineConversation, now: float) -> None:
        """Record a use of the conversation, written only when the stored one is older than the granularity (the
        value is in hand: most requests write nothing)."""
        granularity = min(_TOUCH_EVERY, self.token_lifetime / 10)
        if now - stored.touched >= granularity:
            await self.store.touch(stored.id, now, granularity)

    def _view(self, stored: DirectLineConversation) -> Conversation:
        auth = channel_auth(self._assistant, stored.user_id) if stored.vouched else self._anonymous
        return Conversation(stored.id, stored.user_id, stored.locale, auth, stored.vouched, stored.started)

    def describe(self, access: Access) -> dict[str, Any]:
        """`{conversationId, token, expires_in}` for a token already issued."""
        expires_in = max(0, int(access.expires_at - self.clock()))
        return {"conversationId": access.conversation.id, "token": access.token, "expires_in": expires_in}

    async def start(self, conversation: Conversation, locale: str | None, service_url: str) -> bool:
        """Send the conversationUpdate (user and bot added) once, whichever instance is asked, and wait for its turn
        (the welcome); True if this call started the conversation."""
        if conversation.started or not await self.store.start(conversation.id, locale):
            return False
        done = self._welcome(conversation, locale, service_url)
        await asyncio.shield(done)  # a client that hangs up does not cancel the welcome
        log.info("web chat conversation started: conversation=%s", safe_id(conversation.id))
        return True

    def _welcome(self, conversation: Conversation, locale: str | None, service_url: str) -> asyncio.Future[None]:
        conversation.started = True
        conversation.locale = locale or conversation.locale
        members = [{"id": conversation.user_id, "role": "user"}, BOT_ACCOUNT]
        update = {"type": "conversationUpdate", "membersAdded": members, "from": {"id": conversation.user_id}}
        stamped = conversation.stamp(update, service_url)
        stamped["id"] = f"{conversation.id}|start"  # never shown: Web Chat does not get conversationUpdates
        return self.turns.enqueue(conversation, Activity().deserialize(stamped))

    async def post(self, conversation: Conversation, body: Any, service_url: str) -> str:
        """Echo the user's activity into the history and queue the bot's turn on it; returns the echo's id at once.

        Raises:
            DirectLineError: 400 for a body that is not an activity; 404 when the conversation is gone; 429 when
                the conversation already has `MAX_PENDING_TURNS` turns waiting here; 503 while the app shuts down.
        """
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            raise DirectLineError(400, "BadArgument", "the body must be an activity with a type")
        if not isinstance(body.get("text"), str | None):
            raise DirectLineError(400, "BadArgument", "activity text must be a string")
        echo = conversation.stamp(body, service_url)
        try:
            activity = Activity().deserialize(echo)
        except ValueError as exc:  # msrest's DeserializationError
            raise DirectLineError(400, "BadArgument", "the activity does not match the Bot Framework schema") from exc
        self.turns.check_room(conversation, 1 if conversation.started else 2)
        if not conversation.started and await self.store.start(conversation.id, None):
            self._welcome(conversation, None, service_url)  # a client that never called POST /conversations
        if not await self._append(conversation.id, echo):
            raise DirectLineError(404, "BadArgument", "conversation not found")
        activity.id = echo["id"]
        self.turns.enqueue(conversation, activity)
        return str(echo["id"])

    async def idle(self) -> None:
        """Wait until every queued turn has run."""
        await self.turns.idle()

    async def close(self) -> None:
        """On shutdown: close the streams, refuse new turns, give running ones a moment, then cancel them."""
        self.streams.close_all()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.turns.close()

    async def deliver(self, activity: Activity) -> bool:
        """Keep a proactive bot activity (a support engineer's reply, say) in its web chat conversation's history, for
        the streams and the next poll on every instance; False when `activity` is not for a conversation of this
        endpoint (the adapter then sends it over HTTP as usual)."""
        service_url = activity.service_url or ""
        conversation_id = activity.conversation.id if activity.conversation else ""
        if not service_url.rstrip("/").endswith(BASE) or not conversation_id:
            return False
        data = activity.serialize()
        data.update(channelId="webchat", conversation={"id": conversation_id}, serviceUrl=service_url)
        data["from"] = dict(BOT_ACCOUNT)
        data.pop("recipient", None)
        return await self._append(conversation_id, data)

    async def activities(self, conversation: Conversation, watermark: str | None) -> dict[str, Any]:
        """Activities after `watermark` (all kept ones without it) and the new watermark."""
        found, seq = await self.store.activities(conversation.id, _watermark(watermark) if watermark else 0)
        return {"activities": found, "watermark": str(seq)}

    async def issue_stream(self, access: Access, watermark: str | None) -> str:
        """A stream token (for the stream URL's `t`) that opens one socket on the conversation within
        `STREAM_URL_LIFETIME` seconds, while the token lives, on any instance. The socket replays from `watermark`;
        without one, from the start of a new conversation (`watermark="0"`) or, on reconnect, from now, as the
        service does."""
        count = await self.store.watermark(access.conversation.id)
        since = min(_watermark(watermark), count) if watermark else count
        stream_token = secrets.token_urlsafe(32)
        expires_at = self.clock() + STREAM_URL_LIFETIME
        await self.store.issue(
            stream_token, access.conversation.id, "stream", expires_at, parent=access.token, since=since
        )
        return stream_token

    async def open_stream(self, stream_token: str | None, conversation_id: str) -> tuple[Conversation, int]:
        """Redeem a stream token (once): the conversation and the watermark its socket replays from.

        Raises:
            DirectLineError: 403 for an unknown, used or expired stream token, or one whose token has expired; 404
                for a conversation that is gone; 503 when this instance's open streams are at the cap.
        """
        self.streams.admit()
        now = self.clock()
        grant = await self.store.redeem(stream_token) if stream_token else None
        if grant is None or grant.expires_at <= now or grant.conversation_id != conversation_id:
            raise DirectLineError(403, "TokenExpired", "the stream URL is unknown, used or expired: reconnect")
        token = await self.store.token_by_hash(grant.parent or "")
        if token is None or token.expires_at <= now:
            raise DirectLineError(403, "TokenExpired", "the token is unknown or expired")
        stored = await self.store.conversation(conversation_id)
        if stored is None:
            raise DirectLineError(404, "BadArgument", "conversation not found")
        await self._touch(stored, now)
        return self._view(stored), int(grant.since or 0)

    async def alive(self, conversation: Conversation) -> bool:
        """True while some token of `conversation` can still reach it."""
        return await self.store.alive(conversation.id, self.clock())

    async def _issue(self, conversation_id: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        await self.store.issue(token, conversation_id, "token", self.clock() + self.token_lifetime)
        return {"conversationId": conversation_id, "token": token, "expires_in": self.token_lifetime}

    async def _sweep(self) -> None:
        """Forget conversations idle longer than a token lives (no token can reach them) and expired tokens. Live
        ones are kept (a flood of new conversations is refused instead, see `_admit`)."""
        for conversation_id in await self.store.sweep(self.clock(), self.token_lifetime):
            self.streams.end(conversation_id)

    async def _append(self, conversation_id: str, data: dict[str, Any]) -> bool:
        """Keep `data` in the conversation's history (stamped with its id and time) and wake this instance's streams
        of it (the others' wake by the database's notification, or their next read)."""
        seq = await self.store.append(conversation_id, data, int(time.time() * 1000))
        if seq is None:
            return False
        self.streams.wake(conversation_id)
        return True

    async def _keep(self, conversation: Conversation, data: dict[str, Any]) -> None:
        if data.get("type") not in _DROPPED_TYPES:
            await self._append(conversation.id, dict(data))  # a copy: append stamps the id and time


def _watermark(value: str) -> int:
    try:
        return max(0, int(value))
    except ValueError as exc:
        raise DirectLineError(400, "BadArgument", "watermark must be an integer") from exc
