"""The support staff's side of a case in Teams: the case card's buttons, replies in the case's thread, and
`handoff.status` events from an agent hub.

Only activities from the case's own support thread may act on it: an invoke naming a case from any other
conversation is refused, so a user cannot take, answer or resolve cases from their own chat. Staff are who the
channel says they are (Teams, under Bot Framework auth); their display name is what the user is told.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext

from assistant.handoff.bundle import CaseBundle
from assistant.handoff.card import REPLY_INPUT, VERBS, case_card
from assistant.handoff.desk import CaseNotFound, SupportDesk
from assistant.handoff.model import HANDOFF_EVENT, SupportCase
from bot.support.links import CaseLinks

log = logging.getLogger(__name__)


def _thread_id(conversation_id: str | None) -> str:
    return (conversation_id or "").split(";messageid=")[0]


def _in_thread(case: SupportCase, ctx: TurnContext) -> bool:
    thread = (case.support_thread or {}).get("conversation") or {}
    conversation = ctx.activity.conversation
    return bool(thread.get("id")) and _thread_id(thread.get("id")) == _thread_id(
        conversation.id if conversation else ""
    )


class StaffSide:
    """Handles what support staff do in the support channel (see the module docstring)."""

    def __init__(self, desk: SupportDesk, links: CaseLinks) -> None:
        self._desk = desk
        self._links = links
        # handoff.status is heeded only where an agent hub was handed the case (the handoff_event target is on):
        # elsewhere the only sender of an event in a user's conversation is the user's own client
        self._hub = HANDOFF_EVENT in desk.targets

    async def card_action(self, ctx: TurnContext, verb: str, data: dict[str, Any]) -> dict[str, Any] | str:
        """Run a case card's button; the refreshed card, or the reason it was refused."""
        if verb not in VERBS:
            return "unknown case action"
        case = await self._desk.store.get(str(data.get("case", "")))
        if case is None or not _in_thread(case, ctx):
            log.info("refused a case action from outside the case's support thread")
            return "this card's case is not handled in this conversation"
        who = ctx.activity.from_property.name if ctx.activity.from_property else None
        who = who or "Support"
        text = str(data.get(REPLY_INPUT) or "").strip()
        if verb == "case_take":
            case = await self._desk.take(case.ref, who)
        elif verb == "case_reply" and text:
            case = await self._desk.staff_reply(case.ref, who, text)
        elif verb == "case_resolve":
            case = await self._desk.resolve(case.ref, who, text or None)
        raw = await self._desk.store.bundle(case.ref)
        bundle = CaseBundle.model_validate(raw) if raw else None
        return case_card(case, bundle, link=self._links.link(case.ref))

    async def thread_message(self, ctx: TurnContext) -> bool:
        """A message in a case's support thread is a staff reply to the user; True when it was one."""
        conversation = ctx.activity.conversation
        if ctx.activity.channel_id != "msteams" or conversation is None or ";messageid=" not in (conversation.id or ""):
            return False
        case = await self._desk.store.by_thread(conversation.id)
        if case is None:
            return False
        text = (ctx.activity.text or "").strip()
        if not text:
            return True
        if not case.active:
            await ctx.send_activity(f"Case {case.ref} is resolved; the user was not sent this message.")
            return True
        who = (ctx.activity.from_property.name if ctx.activity.from_property else None) or "Support"
        await self._desk.staff_reply(case.ref, who, text)
        await ctx.send_activity(f"Sent to {case.user_name or 'the user'} (case {case.ref}).")
        return True

    async def hub_status(self, ctx: TurnContext) -> bool:
        """A `handoff.status` event in a user's conversation updates its open case; True when it was one."""
        activity = ctx.activity
        if activity.name != "handoff.status" or not isinstance(activity.value, dict):
            return False
        if not self._hub:
            log.info("ignored handoff.status: no agent hub is configured (COSELL_SUPPORT_HANDOFF_EVENT)")
            return True
        state = activity.value.get("state")
        if state not in ("accepted", "failed", "completed"):
            return True
        case = await self._desk.active_case(activity.channel_id, activity.conversation.id)
        if case is None:
            return True
        try:
            await self._desk.hub_status(case.ref, str(state), activity.value.get("message"))
        except CaseNotFound:
            pass
        return True
