"""Buttons pressed on older cards that no open prompt is waiting for: do the action in that card's context when the
card carries enough of it (mark that checklist item, pick that clarify option, record that rating), otherwise say
clearly that the card is out of date and what is current — never restart a checklist, never stay silent."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext

from assistant import messages
from assistant.ports import Journal
from dialogs.state import conversation_data, turn_lang
from knowledge.loader import KnowledgeBase
from knowledge.models import Area

ITEM_STATUS = {"done": "done", "fixed": "fixed", "open": "open", "skip": "skipped"}
_STATUS_WORDS = {"done": "choice_done", "fixed": "choice_fixed", "open": "choice_open", "skipped": "choice_skip"}


def card_submit(value: object) -> dict[str, Any] | None:
    """The data of a card button (`{"card": kind, "choice": key, …}`), if this message is one."""
    if isinstance(value, dict) and isinstance(value.get("card"), str) and isinstance(value.get("choice"), str):
        return value
    return None


def item_of(kb: KnowledgeBase, data: dict[str, Any]) -> tuple[Area, int, str] | None:
    """(area, index, status) of a checklist item card's button, when the card names a real item and choice."""
    area, index, status = data.get("area"), data.get("index"), ITEM_STATUS.get(str(data.get("choice")))
    if not (isinstance(area, str) and area in Area.__members__ and isinstance(index, int) and status):
        return None
    if not 0 <= index < len(kb.area(Area(area))):
        return None
    return Area(area), index, status


def item_marked_text(kb: KnowledgeBase, area: Area, index: int, status: str, ctx: TurnContext) -> str:
    """ "Marked “check” as done (from an earlier card)", in the turn's language."""
    lang = turn_lang(ctx)
    check = kb.area(area)[index].content(lang).check
    return messages.text("card_item_marked", lang, check=check, status=messages.text(_STATUS_WORDS[status], lang))


async def handle_stale(ctx: TurnContext, kb: KnowledgeBase, journal: Journal, data: dict[str, Any]) -> str | None:
    """Handle an older card's button no prompt is waiting for; returns the entry id to answer for a clarify pick
    (the caller begins its answer), else None once the reply is sent."""
    lang = turn_lang(ctx)
    kind, choice = data["card"], data["choice"]
    if kind == "clarify" and choice in kb.by_id:
        return str(choice)  # that option, picked now: its answer
    if kind == "answer" and choice in ("yes", "no") and str(data.get("entry")) in kb.by_id:
        entry = kb.get(str(data["entry"]))
        await journal.record_feedback(ctx.activity.conversation.id, entry.id, choice == "yes", lang)
        title = messages.entry_name(entry, lang)
        await ctx.send_activity(messages.text("card_rated", lang, entry=title))
        return None
    if kind == "item" and (item := item_of(kb, data)) is not None:
        area, index, status = item
        conversation = conversation_data(ctx)
        if conversation is not None:
            conversation.checklists.setdefault(area.value, {})[kb.area(area)[index].id] = status  # type: ignore[assignment]
        text = item_marked_text(kb, area, index, status, ctx)
        await ctx.send_activity(
            f"{text} {messages.text('card_item_no_walk', lang, area=messages.area_name(area, lang))}"
        )
        return None
    await ctx.send_activity(messages.text("card_stale", lang))  # a fix, a confirmation, a case's rating: not now
    return None


_DECLINED = "cosell.card_declined"  # turn_state: an open prompt did not take this card's button


def redirect_text(ctx: TurnContext) -> str | None:
    """What a prompt that did not understand this message hands back to the router: its text; for an older card's
    button, nothing, marked so that the router still answers it (`declined`)."""
    if not ctx.activity.text and card_submit(ctx.activity.value) is not None:
        ctx.turn_state[_DECLINED] = True
    return ctx.activity.text


def declined(ctx: TurnContext) -> bool:
    """Whether an open prompt handed back an older card's button this turn."""
    return bool(ctx.turn_state.pop(_DECLINED, False))
