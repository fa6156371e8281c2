"""`DirectLine`: the embedded Direct Line 3.0 endpoint's state and logic, in memory. It issues tokens bound to one
conversation and one server-chosen user, and short-lived stream URLs bound to a token; admits new conversations up
to a cap; and runs each turn in process with deliveryMode expectReplies, in the background: a request never waits
for the bot's checks. A conversation's turns run one at a time, in arrival order, and every activity the bot sends
reaches the history (and so the streams and the next poll) as it is sent, not at the end of the turn (`turns`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from assistant.trust import VOUCHED_PREFIX
from bot.channels.directline.conversation import BOT_ACCOUNT, MAX_TOKENS, Conversation, Grant
from bot.channels.directline.protocol import BASE, DirectLineError
from bot.channels.directline.stream import Streams
from bot.channels.directline.turns import TurnRunner
from bot.channels.gate import LogThrottle
from bot.identity import EMBEDDED_CLAIM, VOUCHED_CLAIM
from bot.log_setup import safe_id
from bot.wiring import Assistant

log = logging.getLogger(__name__)

_THROTTLE = LogThrottle()  # refusals are logged at most once a minute per kind
_FULL_RETRY_AFTER = 60  # seconds a client is told to wait when no new conversation can be opened
_DROPPED_TYPES = frozenset({"trace", "invokeResponse"})
STREAM_URL_LIFETIME = 60.0  # seconds a stream URL can be used, as the service documents


@dataclass(frozen=True)
class StreamGrant:
    """What a stream URL opens: one conversation, from a watermark, while the token it was issued for lives."""

    conversation_id: str
    token: str
    since: int
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
    """In-memory Direct Line 3.0: tokens, conversations and their history; runs turns in process.

    Args:
        assistant: the bot that answers.
        token_lifetime: seconds a token lives; also how long an idle conversation is kept.
        max_streams: open WebSocket streams in all (default: `max_conversations`).
        keepalive: seconds between a stream's empty keep-alive messages.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        assistant: Assistant,
        *,
        token_lifetime: int,
        max_conversations: int = 1000,
        max_history_bytes: int = 512 * 1024,
        max_streams: int | None = None,
        keepalive: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._assistant = assistant
        self.token_lifetime = token_lifetime
        self.max_conversations = max_conversations
        self.max_history_bytes = max_history_bytes
        self.clock = clock
        self._conversations: dict[str, Conversation] = {}
        self._grants: dict[str, Grant] = {}
        self._stream_grants: dict[str, StreamGrant] = {}
        self._anonymous = channel_auth(assistant)
        self.streams = Streams(max_streams=max_streams or max_conversations, keepalive=keepalive)
        self.turns = TurnRunner(assistant, self._keep)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._conversations

    def generate(self, locale: str | None = None, vouched_id: str | None = None) -> tuple[dict[str, Any], str]:
        """A new conversation and its first token: (Direct Line body, user id).

        Anonymous callers never choose their user id (a chosen id would let a caller read another user's state):
        it is random. Only a user the portal's server vouched for (`vouched_id`, checked by the caller) gets the
        portal's id, as `dl_u.<id>`, and the conversation's turns carry it as verified.

        Raises:
            DirectLineError: 503 when the open conversations are at the cap (live ones are never evicted for new).
        """
        self._sweep()
        self._admit(vouched=vouched_id is not None)
        now = self.clock()
        if vouched_id is not None:
            user_id = VOUCHED_PREFIX + vouched_id
            auth, vouched = channel_auth(self._assistant, user_id), True
        else:
            user_id, auth, vouched = f"user-{secrets.token_hex(8)}", self._anonymous, False
        conversation = Conversation(secrets.token_hex(16), user_id, locale, now, auth, vouched)
        self._conversations[conversation.id] = conversation
        return self._issue(conversation), conversation.user_id

    def _admit(self, *, vouched: bool) -> None:
        """Refuse a new conversation when the cap is reached: anonymous ones count against `max_conversations`,
        and all together against twice that (vouched users keep some room when anonymous ones fill theirs)."""
        total = len(self._conversations)
        anonymous = total if not vouched else sum(1 for c in self._conversations.values() if not c.vouched)
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

    def refresh(self, authorization: str | None) -> dict[str, Any]:
        """A new token for the same conversation; the presented one stays valid until it expires."""
        _, conversation = self.authorize(authorization)
        return self._issue(conversation)

    def authorize(self, authorization: str | None, conversation_id: str | None = None) -> tuple[str, Conversation]:
        """The bearer token and the conversation it opens; 401, 403 or 404 as a `DirectLineError`."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.casefold() != "bearer" or not token or " " in token:
            raise DirectLineError(401, "Unauthorized", "an Authorization: Bearer <token> header is required")
        now = self.clock()
        grant = self._grants.get(token)
        if grant is None or grant.expires_at <= now:
            raise DirectLineError(403, "TokenExpired", "the token is unknown or expired")
        conversation = self._conversations.get(conversation_id or grant.conversation_id)
        if conversation is None:
            raise DirectLineError(404, "BadArgument", "conversation not found")
        if conversation.id != grant.conversation_id:
            raise DirectLineError(403, "Forbidden", "the token is not valid for this conversation")
        conversation.touched = now
        return token, conversation

    def describe(self, token: str, conversation: Conversation) -> dict[str, Any]:
        """`{conversationId, token, expires_in}` for a token already issued."""
        expires_in = max(0, int(self._grants[token].expires_at - self.clock()))
        return {"conversationId": conversation.id, "token": token, "expires_in": expires_in}

    async def start(self, conversation: Conversation, locale: str | None, service_url: str) -> bool:
        """Send the conversationUpdate (user and bot added) once and wait for its turn (the welcome); True if this
        call started the conversation."""
        if conversation.started:
            return False
        done = self._start(conversation, locale, service_url)
        await asyncio.shield(done)  # a client that hangs up does not cancel the welcome
        log.info("web chat conversation started: conversation=%s", safe_id(conversation.id))
        return True

    def _start(self, conversation: Conversation, locale: str | None, service_url: str) -> asyncio.Future[None]:
        conversation.started = True  # at once: a concurrent start must not welcome twice
        conversation.locale = locale or conversation.locale
        members = [{"id": conversation.user_id, "role": "user"}, BOT_ACCOUNT]
        update = {"type": "conversationUpdate", "membersAdded": members, "from": {"id": conversation.user_id}}
        stamped = conversation.stamp(update, service_url)
        stamped["id"] = f"{conversation.id}|start"  # never shown: Web Chat does not get conversationUpdates
        return self.turns.enqueue(conversation, Activity().deserialize(stamped))

    async def post(self, conversation: Conversation, body: Any, service_url: str) -> str:
        """Echo the user's activity into the history and queue the bot's turn on it; returns the echo's id at once.

        Raises:
            DirectLineError: 400 for a body that is not an activity; 429 when the conversation already has
                `MAX_PENDING_TURNS` turns waiting; 503 while the app shuts down.
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
        if not conversation.started:  # a client that never called POST /conversations still gets a welcome
            self._start(conversation, None, service_url)
        conversation.append(echo, self.max_history_bytes)
        activity.id = echo["id"]
        self.turns.enqueue(conversation, activity)
        return str(echo["id"])

    async def idle(self) -> None:
        """Wait until every queued turn has run."""
        await self.turns.idle()

    async def close(self) -> None:
        """On shutdown: close the streams, refuse new turns, give running ones a moment, then cancel them."""
        self.streams.close_all()
        await self.turns.close()

    def deliver(self, activity: Activity) -> bool:
        """Keep a proactive bot activity (a support engineer's reply, say) in its web chat conversation's history, for
        the next poll; False when `activity` is not for a conversation of this endpoint (the adapter then sends it
        over HTTP as usual). The embedded conversations live in this process, so their proactive messages do too."""
        service_url = activity.service_url or ""
        conversation = self._conversations.get(activity.conversation.id if activity.conversation else "")
        if conversation is None or not service_url.rstrip("/").endswith(BASE):
            return False
        data = activity.serialize()
        data.update(channelId="webchat", conversation={"id": conversation.id}, serviceUrl=service_url)
        data["from"] = dict(BOT_ACCOUNT)
        data.pop("recipient", None)
        conversation.append(data, self.max_history_bytes)
        return True

    def activities(self, conversation: Conversation, watermark: str | None) -> dict[str, Any]:
        """Activities after `watermark` (all kept ones without it) and the new watermark."""
        since = _watermark(watermark) if watermark else 0
        found = [activity for seq, activity, _ in conversation.history if seq > since]
        return {"activities": found, "watermark": str(conversation.count)}

    def issue_stream(self, token: str, conversation: Conversation, watermark: str | None) -> str:
        """A stream token (for the stream URL's `t`) that opens one socket on `conversation` within
        `STREAM_URL_LIFETIME` seconds, while `token` lives. The socket replays from `watermark`; without one, from
        the start of a new conversation (`watermark="0"`) or, on reconnect, from now, as the service does."""
        since = _watermark(watermark) if watermark else conversation.count
        stream_token = secrets.token_urlsafe(32)
        if len(conversation.stream_tokens) == MAX_TOKENS:
            self._stream_grants.pop(conversation.stream_tokens[0], None)  # the deque drops it too
        conversation.stream_tokens.append(stream_token)
        expires_at = self.clock() + STREAM_URL_LIFETIME
        self._stream_grants[stream_token] = StreamGrant(
            conversation.id, token, min(since, conversation.count), expires_at
        )
        return stream_token

    def open_stream(self, stream_token: str | None, conversation_id: str) -> tuple[Conversation, int]:
        """Redeem a stream token (once): the conversation and the watermark its socket replays from.

        Raises:
            DirectLineError: 403 for an unknown, used or expired stream token, or one whose token has expired; 404
                for a conversation that is gone; 503 when the open streams are at the cap.
        """
        now = self.clock()
        grant = self._stream_grants.get(stream_token or "")
        if grant is None or grant.expires_at <= now or grant.conversation_id != conversation_id:
            raise DirectLineError(403, "TokenExpired", "the stream URL is unknown, used or expired: reconnect")
        token = self._grants.get(grant.token)
        if token is None or token.expires_at <= now:
            raise DirectLineError(403, "TokenExpired", "the token is unknown or expired")
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            raise DirectLineError(404, "BadArgument", "conversation not found")
        self.streams.admit()
        del self._stream_grants[stream_token or ""]
        conversation.touched = now
        return conversation, grant.since

    def alive(self, conversation: Conversation) -> bool:
        """True while some token of `conversation` can still reach it."""
        now = self.clock()
        if self._conversations.get(conversation.id) is not conversation:
            return False
        grants = (self._grants.get(token) for token in conversation.tokens)
        return any(grant is not None and grant.expires_at > now for grant in grants)

    def _issue(self, conversation: Conversation) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        if len(conversation.tokens) == MAX_TOKENS:
            self._grants.pop(conversation.tokens[0], None)  # the deque drops it too
        conversation.tokens.append(token)
        self._grants[token] = Grant(conversation.id, conversation.user_id, self.clock() + self.token_lifetime)
        return {"conversationId": conversation.id, "token": token, "expires_in": self.token_lifetime}

    def _sweep(self) -> None:
        """Forget conversations idle longer than a token lives: no token can reach them. Live ones are kept (a
        flood of new conversations is refused instead, see `_admit`)."""
        now = self.clock()
        idle = [c for c in self._conversations.values() if now - c.touched > self.token_lifetime]
        for conversation in idle:
            del self._conversations[conversation.id]
            self.streams.end(conversation.id)
            for token in conversation.tokens:
                self._grants.pop(token, None)
            for token in conversation.stream_tokens:
                self._stream_grants.pop(token, None)
        for token in [t for t, grant in self._grants.items() if grant.expires_at <= now]:
            del self._grants[token]
        for token in [t for t, stream in self._stream_grants.items() if stream.expires_at <= now]:
            del self._stream_grants[token]

    def _keep(self, conversation: Conversation, data: dict[str, Any]) -> None:
        if data.get("type") not in _DROPPED_TYPES:
            conversation.append(dict(data), self.max_history_bytes)  # a copy: append stamps the id and time


def _watermark(value: str) -> int:
    try:
        return max(0, int(value))
    except ValueError as exc:
        raise DirectLineError(400, "BadArgument", "watermark must be an integer") from exc
