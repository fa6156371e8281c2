"""TroubleshootBot: normalises input once, picks the reply language, runs the root dialog, saves state.

Turns of one conversation are serialised in-process (a per-conversation lock), and the SQLite storage's
e-tags catch the cross-process case, so two racing turns never silently overwrite each other's state.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable

from botbuilder.core import ConversationState, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import Dialog, DialogSet, DialogTurnStatus
from botbuilder.schema import ChannelAccount

from dialogs import messages
from dialogs.state import LANG_CHANGED_KEY, LANG_KEY, ConversationData
from knowledge.models import Lang

log = logging.getLogger(__name__)

LanguageGuess = Callable[[str, Lang | None], Lang]


def locale_lang(locale: str | None) -> Lang | None:
    """'it-IT' → 'it', 'en-US' → 'en', anything else → None."""
    if not locale:
        return None
    head = locale.split("-")[0].casefold()
    return "it" if head == "it" else "en" if head == "en" else None


class TroubleshootBot(TeamsActivityHandler):
    """The activity handler; all conversation logic lives in the root dialog."""

    def __init__(
        self,
        conversation_state: ConversationState,
        user_state: UserState,
        dialog: Dialog,
        guess_language: LanguageGuess,
        default_lang: Lang = "en",
    ) -> None:
        self._conversation_state = conversation_state
        self._user_state = user_state
        self._dialog = dialog
        self._dialog_state = conversation_state.create_property("DialogState")
        self._data = conversation_state.create_property("ConversationData")
        self._guess = guess_language
        self._default_lang = default_lang
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, ctx: TurnContext) -> asyncio.Lock:
        key = f"{ctx.activity.channel_id}/{ctx.activity.conversation.id if ctx.activity.conversation else ''}"
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def on_turn(self, turn_context: TurnContext) -> None:
        lock = self._lock(turn_context)  # keep a strong reference for the whole turn
        async with lock:
            await super().on_turn(turn_context)
            await self._conversation_state.save_changes(turn_context)
            await self._user_state.save_changes(turn_context)

    async def _load_data(self, ctx: TurnContext) -> ConversationData:
        raw = await self._data.get(ctx, dict)
        data = ConversationData.model_validate(raw or {})
        ctx.turn_state["cosell.data"] = data
        return data

    def _turn_lang(self, ctx: TurnContext, data: ConversationData) -> Lang:
        hint = data.lang or locale_lang(ctx.activity.locale) or self._default_lang
        if data.lang_locked or not ctx.activity.text:
            return data.lang or hint
        return self._guess(ctx.activity.text, hint)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        TurnContext.remove_recipient_mention(activity)
        if activity.text is not None:
            activity.text = activity.text.strip()
        if not activity.text and activity.value is None:
            return  # nothing to react to (an empty message)
        data = await self._load_data(turn_context)
        lang = self._turn_lang(turn_context, data)
        turn_context.turn_state[LANG_KEY] = lang
        await self._run(turn_context, {"route": activity.text or ""})
        data.lang = turn_context.turn_state.get(LANG_KEY, lang)
        data.lang_locked = data.lang_locked or bool(turn_context.turn_state.get(LANG_CHANGED_KEY))
        data.turns += 1
        await self._data.set(turn_context, data.model_dump(mode="json"))

    async def _run(self, ctx: TurnContext, begin_options: dict[str, object]) -> None:
        dialogs = DialogSet(self._dialog_state)
        dialogs.add(self._dialog)
        dc = await dialogs.create_context(ctx)
        result = await dc.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dc.begin_dialog(self._dialog.id, begin_options)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if not any(m.id != bot_id for m in members_added):
            return
        data = await self._load_data(turn_context)
        lang = data.lang or locale_lang(turn_context.activity.locale) or self._default_lang
        await turn_context.send_activity(messages.text("welcome", lang))
        data.lang = lang
        await self._data.set(turn_context, data.model_dump(mode="json"))

    async def on_teams_members_added_dispatch(self, members_added, team_info, turn_context):
        # The base class looks every member up over HTTP first (and fails when the lookup is unavailable);
        # the welcome needs only the ids.
        await self.on_members_added_activity(list(members_added), turn_context)
