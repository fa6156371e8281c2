"""While a conversation has a case with support, its messages go to support, not to the FAQ.

`SupportMode.handle` runs before anything else routes a message: with an active case the user is *with support* —
each message is added to the case (delivered to the support thread by the outbox) and acknowledged; "status" shows
the case; "back to the assistant" (or cancel / menu) returns the user to the bot while the case stays open; help
and the language switch still work. A resolved case ends the mode by itself (read from the shared store, so a
case resolved on another instance or from the CLI counts at once), after taking the user's rating if that is what
they sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from botbuilder.core import TurnContext

from assistant import messages
from assistant.handoff.intake import Escalation
from assistant.handoff.model import SupportCase
from assistant.presenters.choices import recognize
from assistant.presenters.handoff import RATINGS
from dialogs.base import AGENT, BACK, CANCEL, MENU, STATUS, command_word, submitted
from dialogs.state import conversation_data, turn_lang
from knowledge.models import Lang

log = logging.getLogger(__name__)


def status_line(case: SupportCase, lang: Lang) -> str:
    """The case's state in words: waiting, who has it, or resolved."""
    if case.status == "taken":
        state = messages.text("case_taken", lang, who=case.taken_by or "?")
    else:
        state = messages.text(f"case_{case.status}", lang)
    created = case.created.strftime("%Y-%m-%d %H:%M UTC")
    return messages.text("handoff_status", lang, ref=case.ref, status=state, created=created)


class SupportMode:
    """Routes a conversation's messages to its open case (see the module docstring)."""

    def __init__(self, escalation: Escalation, wants_person: Callable[[str], bool]) -> None:
        self._desk = escalation.desk
        self._wants_person = wants_person

    async def _case(self, ctx: TurnContext) -> SupportCase | None:
        data = conversation_data(ctx)
        if data is None or not data.case_ref:
            return None
        return await self._desk.store.get(data.case_ref)

    async def already_open(self, ctx: TurnContext) -> bool:
        """Asked for a person with a case open: send messages to support again, say so, True."""
        case = await self._case(ctx)
        if case is None or not case.active:
            return False
        if not case.with_support:
            case = await self._desk.rejoin(case.ref)
        lang = turn_lang(ctx)
        state = status_line(case, lang)
        await ctx.send_activity(messages.text("handoff_already", lang, ref=case.ref, status=state))
        return True

    async def handle(self, ctx: TurnContext) -> bool:
        """True when this message was the case's (sent to support, a status, a rating, leaving support)."""
        data = conversation_data(ctx)
        word = command_word(ctx)
        if submitted(ctx.activity.value, "handoff_rate") is not None:
            return await self._rating(ctx, None, turn_lang(ctx))
        if data is None or not data.case_ref:
            if word in STATUS:
                await ctx.send_activity(messages.text("handoff_no_case", turn_lang(ctx)))
                return True
            return False
        case = await self._case(ctx)
        lang = turn_lang(ctx)
        if case is None or not case.active:
            data.case_ref = None
            return await self._rating(ctx, case, lang)
        if word in STATUS:
            await ctx.send_activity(status_line(case, lang))
            return True
        if not case.with_support:
            return False
        if word in BACK or word in CANCEL or word in MENU:
            await self._desk.leave(case.ref)
            await ctx.send_activity(messages.text("handoff_back", lang, ref=case.ref))
            return True
        text = ctx.activity.text
        if not text or word is None:
            return False  # a card submit (an older card's button): the assistant handles it
        if word in AGENT or self._wants_person(text):
            return await self.already_open(ctx)
        sender = ctx.activity.from_property
        await self._desk.user_message(case.ref, sender.name if sender else None, text)
        await ctx.send_activity(messages.text("handoff_forwarded", lang, ref=case.ref))
        return True

    async def _rating(self, ctx: TurnContext, case: SupportCase | None, lang: Lang) -> bool:
        """A resolved case's rating (the stars on the "resolved" message), if that is what the user sent."""
        value = ctx.activity.value
        if submitted(value, "handoff_rate") is not None and isinstance(value, dict):
            case = await self._desk.store.get(str(value.get("case", "")))
        picked = recognize(ctx.activity.text, value, RATINGS)
        mine = case is not None and case.conversation_id == ctx.activity.conversation.id  # never rate another's
        if picked is None or case is None or not mine:
            return submitted(value, "handoff_rate") is not None  # a stale or foreign rating button: ignored
        await self._desk.rate(case.ref, RATINGS.index(picked) + 1)
        await ctx.send_activity(messages.text("case_rated", lang))
        return True
