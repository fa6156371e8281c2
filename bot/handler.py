"""TroubleshootBot: normalises input once, picks the reply language, runs the root dialog, saves state.

Turns of one conversation are serialised in-process (a per-conversation lock), and the SQLite storage's
e-tags catch the cross-process case, so two racing turns never silently overwrite each other's state.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable

from botbuilder.core import ActivityHandler, ConversationState, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import ComponentDialog, Dialog, DialogInstance, DialogSet, DialogState, DialogTurnStatus
from botbuilder.schema import ActivityTypes, AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, ChannelAccount

from bot.channels.cards import CONTENT_TYPE
from bot.channels.rendering import refreshed_card, welcome_activity
from dialogs.state import LANG_CHANGED_KEY, LANG_KEY, ConversationData
from knowledge.loader import KnowledgeBase
from knowledge.models import Lang

log = logging.getLogger(__name__)

LanguageGuess = Callable[[str, Lang | None], Lang]


def locale_lang(locale: str | None) -> Lang | None:
    """'it-IT' → 'it', 'en-US' → 'en', anything else → None."""
    if not locale:
        return None
    head = locale.split("-")[0].casefold()
    return "it" if head == "it" else "en" if head == "en" else None


def stack_is_known(stack: list[DialogInstance], sets: list[DialogSet]) -> bool:
    """True when every dialog on `stack`, and on the inner stacks of its components, can be found as botbuilder
    would look it up (in the component's own set, then in the sets around it). A component keeps its set in
    `_dialogs`; botbuilder 4.17 offers no public accessor but the async `find_dialog`."""
    for instance in stack:
        dialog = next((found for s in reversed(sets) if (found := s.find_dialog(instance.id)) is not None), None)
        if dialog is None:
            return False
        if isinstance(dialog, ComponentDialog):
            inner = instance.state.get(ComponentDialog.persisted_dialog_state)
            if not isinstance(inner, DialogState) or not stack_is_known(inner.dialog_stack, [*sets, dialog._dialogs]):
                return False
    return True


class TroubleshootBot(TeamsActivityHandler):
    """The activity handler; all conversation logic lives in the root dialog."""

    def __init__(
        self,
        conversation_state: ConversationState,
        user_state: UserState,
        dialog: Dialog,
        guess_language: LanguageGuess,
        default_lang: Lang = "en",
        kb: KnowledgeBase | None = None,
    ) -> None:
        self._kb = kb
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
        if not stack_is_known(dc.stack, [dialogs]):
            # stored by a build whose dialogs were laid out differently: start over rather than fail every turn
            log.info("dialog stack names dialogs this build lacks; starting the conversation's dialogs afresh")
            dc.stack.clear()
        result = await dc.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dc.begin_dialog(self._dialog.id, begin_options)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if not any(m.id != bot_id for m in members_added):
            return
        data = await self._load_data(turn_context)
        lang = data.lang or locale_lang(turn_context.activity.locale) or self._default_lang
        await turn_context.send_activity(welcome_activity(turn_context.activity.channel_id, lang))
        data.lang = lang
        await self._data.set(turn_context, data.model_dump(mode="json"))

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        # Teams' handler dereferences channelData; without it, fall back to the generic members-added path
        if turn_context.activity.channel_data is None:
            await ActivityHandler.on_conversation_update_activity(self, turn_context)
            return
        await super().on_conversation_update_activity(turn_context)

    async def on_teams_members_added_dispatch(self, members_added, team_info, turn_context):
        # The base class looks every member up over HTTP first (and fails when the lookup is unavailable);
        # the welcome needs only the ids.
        await self.on_members_added_activity(list(members_added), turn_context)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """Teams `Action.Execute`: run the button's data through the dialogs as a card submit, then answer the
        invoke with the card refreshed in place (its buttons replaced by the choice made)."""
        action = invoke_value.action if isinstance(invoke_value.action, dict) else {}
        raw = action.get("data")
        data: dict[str, object] = raw if isinstance(raw, dict) else {}
        activity = turn_context.activity
        invoke_type = activity.type
        activity.type, activity.value, activity.text = ActivityTypes.message, data, None
        try:
            await self.on_message_activity(turn_context)  # prompts only listen to message activities
        finally:
            activity.type = invoke_type
        lang: Lang = turn_context.turn_state.get(LANG_KEY, self._default_lang)
        if self._kb is None:
            return AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.activity.message", value="OK"
            )
        card = refreshed_card(self._kb, data, lang)
        return AdaptiveCardInvokeResponse(status_code=200, type=CONTENT_TYPE, value=card)
