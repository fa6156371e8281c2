"""Run turns in process through the real adapter (expectReplies delivery): the terminal chat, `ask`, bench.

Each turn is a Bot Framework activity handed to `FixedCloudAdapter.process_activity`, so the CLI exercises
the same adapter, middleware, bot and dialogs as `/api/messages`; replies come back in the response.
"""

from __future__ import annotations

import itertools
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, DeliveryModes

from bot.identity import TERMINAL_CLAIM
from bot.sdk.activity_json import deserialize
from bot.wiring import Assistant
from dialogs.state import ANSWER_KEY, FINDINGS_KEY, MATCH_KEY
from knowledge.models import Match
from tenant.base import CheckResult

_CAPTURE: ContextVar[dict[str, Any] | None] = ContextVar("cosell_capture", default=None)


class CaptureMiddleware(Middleware):
    """Copies this turn's match verdict into the caller's capture dict (when one is set)."""

    async def on_turn(self, context: TurnContext, logic):
        await logic()
        sink = _CAPTURE.get()
        if sink is not None:
            sink["match"] = context.turn_state.get(MATCH_KEY)
            sink["answered"] = context.turn_state.get(ANSWER_KEY) is not None
            sink["findings"] = list(context.turn_state.get(FINDINGS_KEY, ()))


@dataclass
class TurnOutcome:
    """The replies of one turn and what the matcher decided."""

    replies: list[Activity]
    match: Match | None = None
    findings: list[CheckResult] = field(default_factory=list)  # the live findings shown this turn

    @property
    def text(self) -> str:
        """All reply texts as the user would read them."""
        return "\n\n".join(a.text for a in self.replies if a.type == ActivityTypes.message and a.text)


@dataclass
class LocalConversation:
    """One in-process conversation with the assistant on the `channel_id` channel."""

    assistant: Assistant
    locale: str = "en-US"
    channel_id: str = "test"  # plain-text rendering: what `ask` and `chat` print
    conversation_id: str = field(default_factory=lambda: f"local-{uuid.uuid4().hex[:12]}")
    user_id: str = "local-user"
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        # the terminal's turns run with the bot's own credentials, marked as the operator's (bot/identity.py); built
        # once: a connector factory per turn would leave cyclic garbage
        self._auth = getattr(self.assistant, "_terminal_auth", None)
        if self._auth is None:  # one per assistant: every conversation of the terminal shares it
            self._auth = self.assistant.adapter.in_process_auth(self.assistant.settings.app_id, {TERMINAL_CLAIM: True})
            self.assistant._terminal_auth = self._auth  # type: ignore[attr-defined]
        if not getattr(self.assistant, "_capture_installed", False):
            self.assistant.adapter.use(CaptureMiddleware())
            self.assistant._capture_installed = True  # type: ignore[attr-defined]

    def _activity(self, **kw: Any) -> Activity:
        return Activity(
            id=f"{self.conversation_id}-{next(self._ids)}",
            channel_id=self.channel_id,
            service_url="http://127.0.0.1:0/local",
            conversation=ConversationAccount(id=self.conversation_id),
            from_property=ChannelAccount(id=self.user_id, name="You", role="user"),
            recipient=ChannelAccount(id="cosell-bot", name="Co-sell Connectors Assistant", role="bot"),
            locale=self.locale,
            timestamp=datetime.now(UTC),
            delivery_mode=DeliveryModes.expect_replies,
            **kw,
        )

    async def _turn(self, activity: Activity) -> TurnOutcome:
        sink: dict[str, Any] = {}
        token = _CAPTURE.set(sink)
        try:
            response = await self.assistant.adapter.process_activity(self._auth, activity, self.assistant.bot.on_turn)
        finally:
            _CAPTURE.reset(token)
        body = response.body if response is not None else None
        raw = body.get("activities", []) if isinstance(body, dict) else []
        replies = [deserialize(Activity, a) if isinstance(a, dict) else a for a in raw]
        replies = [a for a in replies if a.type != ActivityTypes.trace]
        return TurnOutcome(replies=replies, match=sink.get("match"), findings=sink.get("findings", []))

    async def start(self) -> TurnOutcome:
        """Open the conversation (the channel's conversationUpdate); returns the welcome."""
        members = [ChannelAccount(id=self.user_id, name="You")]
        return await self._turn(self._activity(type=ActivityTypes.conversation_update, members_added=members))

    async def say(self, text: str | None, value: Any = None) -> TurnOutcome:
        """Send a message (or a card submit with `value` and no text)."""
        return await self._turn(self._activity(type=ActivityTypes.message, text=text, value=value))
