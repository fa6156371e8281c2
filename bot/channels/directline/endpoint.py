"""`DirectLine`: the embedded Direct Line 3.0 endpoint's state and logic, in memory. It issues tokens bound to one
conversation and one server-chosen user, admits new conversations up to a cap, and runs each turn in process with
deliveryMode expectReplies."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from assistant.trust import VOUCHED_PREFIX
from bot.channels.directline.conversation import BOT_ACCOUNT, MAX_TOKENS, Conversation, Grant
from bot.channels.directline.protocol import BASE, DirectLineError
from bot.channels.gate import LogThrottle
from bot.identity import EMBEDDED_CLAIM, VOUCHED_CLAIM
from bot.log_setup import safe_id
from bot.wiring import Assistant

log = logging.getLogger(__name__)

_THROTTLE = LogThrottle()  # refusals are logged at most once a minute per kind
_FULL_RETRY_AFTER = 60  # seconds a client is told to wait when no new conversation can be opened
_DROPPED_TYPES = frozenset({"trace", "invokeResponse"})


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
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        assistant: Assistant,
        *,
        token_lifetime: int,
        max_conversations: int = 1000,
        max_history_bytes: int = 512 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._assistant = assistant
        self.token_lifetime = token_lifetime
        self.max_conversations = max_conversations
        self.max_history_bytes = max_history_bytes
        self.clock = clock
        self._conversations: dict[str, Conversation] = {}
        self._grants: dict[str, Grant] = {}
        self._anonymous = channel_auth(assistant)

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
        """Send the conversationUpdate (user and bot added) once; True if this call started the conversation."""
        if conversation.started:
            return False
        conversation.started = True  # before the await: a concurrent start must not welcome twice
        conversation.locale = locale or conversation.locale
        members = [{"id": conversation.user_id, "role": "user"}, BOT_ACCOUNT]
        update = {"type": "conversationUpdate", "membersAdded": members, "from": {"id": conversation.user_id}}
        stamped = conversation.stamp(update, service_url)
        stamped["id"] = f"{conversation.id}|start"  # never shown: Web Chat does not get conversationUpdates
        await self._turn(conversation, stamped)
        log.info("web chat conversation started: conversation=%s", safe_id(conversation.id))
        return True

    async def post(self, conversation: Conversation, body: Any, service_url: str) -> str:
        """Echo the user's activity into the history, run the bot's turn on it; returns the echo's id."""
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            raise DirectLineError(400, "BadArgument", "the body must be an activity with a type")
        if not isinstance(body.get("text"), str | None):
            raise DirectLineError(400, "BadArgument", "activity text must be a string")
        if not conversation.started:  # a client that never called POST /conversations still gets a welcome
            await self.start(conversation, None, service_url)
        echo = conversation.stamp(body, service_url)
        try:
            activity = Activity().deserialize(echo)
        except ValueError as exc:  # msrest's DeserializationError
            raise DirectLineError(400, "BadArgument", "the activity does not match the Bot Framework schema") from exc
        conversation.append(echo, self.max_history_bytes)
        activity.id = echo["id"]
        await self._turn(conversation, activity)
        return str(echo["id"])

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
        try:
            since = int(watermark) if watermark else 0
        except ValueError as exc:
            raise DirectLineError(400, "BadArgument", "watermark must be an integer") from exc
        found = [activity for seq, activity, _ in conversation.history if seq > since]
        return {"activities": found, "watermark": str(conversation.count)}

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
            for token in conversation.tokens:
                self._grants.pop(token, None)
        for token in [t for t, grant in self._grants.items() if grant.expires_at <= now]:
            del self._grants[token]

    async def _turn(self, conversation: Conversation, incoming: dict[str, Any] | Activity) -> None:
        activity = incoming if isinstance(incoming, Activity) else Activity().deserialize(incoming)
        activity.delivery_mode = "expectReplies"
        activity.timestamp = activity.timestamp or datetime.now(UTC)
        assistant = self._assistant
        try:
            response = await assistant.adapter.process_activity(conversation.auth, activity, assistant.bot.on_turn)
        except Exception as exc:  # on_turn_error already ran; this is the adapter itself failing
            log.exception(
                "web chat turn failed: conversation=%s activity=%s", safe_id(conversation.id), safe_id(activity.id)
            )
            raise DirectLineError(502, "BotError", "the bot could not process the activity") from exc
        body = response.body if response is not None else None
        for reply in body.get("activities", []) if isinstance(body, dict) else []:
            data = reply.serialize() if isinstance(reply, Activity) else dict(reply)
            if data.get("type") not in _DROPPED_TYPES:
                conversation.append(data, self.max_history_bytes)
