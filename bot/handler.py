"""TroubleshootBot: normalises input once, picks the reply language, runs the root dialog, saves state.

Turns of one conversation are serialised in-process (a per-conversation lock), and the SQLite storage's
e-tags catch the cross-process case, so two racing turns never silently overwrite each other's state.

Every activity gets a defined answer, whatever its shape (the adapter refuses with a 400 what cannot be a turn at
all, see `bot.inbound._shape_problem`):

- a message without `recipient` or `from` (or with null ones) is answered: no @mention to strip, no user state
  (the bot keeps none); a malformed mention entity leaves the text as sent;
- `adaptiveCard/action` is checked before it runs (`card_action_problem`); a value that is not an Action.Execute
  of this bot's cards gets HTTP 200 with Teams' Universal Actions error body, statusCode 400 / BadRequest;
- an invoke whose value or channelData does not match the schema botbuilder's Teams dispatch reads it into
  gets the same 400 error body; other activities with such data are ignored (logged, no traceback);
- an activity without channelId (the state is keyed by channel) is ignored the same way; the adapter cannot
  refuse it with a 400, which would answer an unauthenticated caller before the 401;
- an invoke nothing handles (unknown or no name, signin/verifyState, healthCheck, ...) gets 200 with no body
  (`bot.adapter.invoke_answer`: Teams and Direct Line read that as "handled, nothing to show", whereas a 5xx
  makes Teams show an error and retry);
- a turn that fails anyway is `bot.errors.on_turn_error`'s: an invoke then gets 200 with a statusCode 500 error
  body, never an HTTP 500;
- typing, event, messageReaction, endOfConversation, installationUpdate and unknown types are no-op turns.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from botbuilder.core import ActivityHandler, ConversationState, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import ComponentDialog, Dialog, DialogInstance, DialogSet, DialogState, DialogTurnStatus
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    InvokeResponse,
)
from msrest.exceptions import DeserializationError

from assistant import effects
from assistant.case import ConversationData
from assistant.handoff.card import VERBS as CASE_VERBS
from assistant.ports import StateConflict
from assistant.presenters.cards import CONTENT_TYPE
from assistant.trust import Access, TrustPolicy
from bot.adapter import invoke_error
from bot.channels.rendering import refreshed_card, welcome_activity
from bot.identity import turn_access
from bot.log_setup import safe_id
from bot.sdk.state import forget, save_all
from bot.sdk.turn_context import HeldReplies
from bot.support.staff import StaffSide
from bot.telemetry import turn_span
from dialogs.access import ACCESS_KEY
from dialogs.state import LANG_CHANGED_KEY, LANG_KEY, set_conversation_data
from knowledge.loader import KnowledgeBase
from knowledge.models import Lang

log = logging.getLogger(__name__)

#: how often a turn runs when another instance keeps saving the conversation's state first (`_turn_saved`)
TURN_ATTEMPTS = 3

LanguageGuess = Callable[[str, Lang | None], Lang]
# deny by default: a bot built without a policy shows no live findings and runs no fixes
DENY_ALL = TrustPolicy(auth_enabled=True, loopback_only=False)

CARD_ACTION = "adaptiveCard/action"
# the verbs the assistant's cards put on their Action.Execute buttons: the user's cards, and the support case card
CARD_VERBS = frozenset({"choose", "area"}) | CASE_VERBS


def card_action_problem(value: object) -> str | None:
    """Why an `adaptiveCard/action` invoke's `value` is not an Action.Execute from this bot's cards; None if it is."""
    if not isinstance(value, dict):
        return "value must be an object"
    action = value.get("action")
    if not isinstance(action, dict):
        return "value.action must be an object"
    if action.get("type") != "Action.Execute":
        return "value.action.type must be Action.Execute"
    verb = action.get("verb")
    if not isinstance(verb, str) or verb not in CARD_VERBS:
        return "value.action.verb is missing or unknown"
    if not isinstance(action.get("data"), dict):
        return "value.action.data must be an object"
    return None


def bad_request(message: str) -> InvokeResponse:
    """An invoke answer refusing the invoke: HTTP 200, Universal Actions error body with statusCode 400."""
    return InvokeResponse(status=int(HTTPStatus.OK), body=invoke_error(HTTPStatus.BAD_REQUEST, "BadRequest", message))


def strip_recipient_mention(activity: Activity) -> None:
    """Remove the bot's @mention from the text, as `TurnContext.remove_recipient_mention` does.

    botbuilder's raises on a message without `recipient` and on a mention entity without `mentioned` (or with
    a non-string text): such a message is answered with its text as sent rather than failing the turn.
    """
    if activity.recipient is None or not activity.recipient.id or not activity.entities:
        return
    try:
        TurnContext.remove_recipient_mention(activity)
    except (AttributeError, KeyError, TypeError):
        log.info("ignored a malformed mention entity: conversation=%s", safe_id(_conversation_id(activity)))


def _conversation_id(activity: Activity) -> str | None:
    return activity.conversation.id if activity.conversation else None


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


# invoke names botbuilder's TeamsActivityHandler dispatches to handlers that read the value as an object
_TEAMS_INVOKE_PREFIXES = ("composeExtension/", "fileConsent/", "task/", "tab/", "message/", "actionableMessage/")


def _teams_dispatched(name: object) -> bool:
    return isinstance(name, str) and name.startswith(_TEAMS_INVOKE_PREFIXES)


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
        trust: TrustPolicy = DENY_ALL,
        staff: StaffSide | None = None,
    ) -> None:
        self._kb = kb
        self._staff = staff
        self._trust = trust
        self._conversation_state = conversation_state
        self._user_state = user_state
        self._dialog = dialog
        self._dialog_state = conversation_state.create_property("DialogState")
        self._data = conversation_state.create_property("ConversationData")
        self._guess = guess_language
        self._default_lang = default_lang
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _access(self, ctx: TurnContext) -> Access:
        return turn_access(ctx, self._trust)

    def _lock(self, ctx: TurnContext) -> asyncio.Lock:
        key = f"{ctx.activity.channel_id}/{ctx.activity.conversation.id if ctx.activity.conversation else ''}"
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def on_turn(self, turn_context: TurnContext) -> None:
        if not turn_context.activity.channel_id:  # the state is keyed by channel: without one there is no turn
            await self._refuse(turn_context, "activity channelId is missing")
            return
        lock = self._lock(turn_context)  # keep a strong reference for the whole turn
        # what this turn's user may see and do, from what the channel proved (assistant/trust.py): decided when a
        # dialog first asks (a FAQ turn without live checks never does); a bound method, so no cycle through the turn
        turn_context.turn_state[ACCESS_KEY] = self._access
        async with lock:
            await self._turn_saved(turn_context)

    async def _turn_saved(self, turn_context: TurnContext) -> None:
        """Run the turn and save its state in one write; when another instance saved this conversation's state
        first (`StateConflict`), run it again from what is stored, its first answers never sent (`HeldReplies`):
        the Bot Framework's scale-out guidance (e-tags, a retry loop around the turn, replies held until the save).
        A turn that did something lasting (`assistant.effects`: a case, a journal row, a fix) is not run twice: its
        answers go out and the conflict reaches the error handler, as does the last attempt's. The whole loop is the
        turn's telemetry span (`bot.telemetry.turn_span`: attempts, outcome)."""
        held = HeldReplies.hold(turn_context)
        with turn_span(turn_context.activity) as record:
            for attempt in range(1, TURN_ATTEMPTS + 1):
                record.attempts = attempt
                with effects.watch() as done:
                    try:
                        await self._turn_once(turn_context)
                    except StateConflict:
                        if attempt < TURN_ATTEMPTS and not done:
                            log.info("state changed under the turn (another instance): running it again (%d)", attempt)
                            held.discard()
                            forget(turn_context, self._conversation_state, self._user_state)
                            continue
                        await held.release(turn_context)
                        raise
                    except BaseException:
                        await held.release(turn_context)  # what was said before a failure is said, as without holding
                        raise
                await held.release(turn_context)
                return

    async def _turn_once(self, turn_context: TurnContext) -> None:
        try:
            await super().on_turn(turn_context)
        except DeserializationError:
            # Only botbuilder's Teams dispatch deserialises in a turn (channelData, invoke values), and it does
            # so before any handler runs: the caller's data is at fault, and nothing was done yet.
            await self._refuse(turn_context, "the activity's value or channelData does not match its schema")
        await save_all(turn_context, self._conversation_state, self._user_state)

    async def _refuse(self, ctx: TurnContext, reason: str) -> None:
        """Log why the activity is ignored; an invoke is answered with a Universal Actions bad request."""
        activity = ctx.activity
        log.info(
            "ignored a %s activity: %s: conversation=%s name=%s",
            safe_id(activity.type),
            reason,
            safe_id(_conversation_id(activity)),
            safe_id(activity.name),
        )
        if activity.type == ActivityTypes.invoke:
            await ctx.send_activity(Activity(type=ActivityTypes.invoke_response, value=bad_request(reason)))

    async def _load_data(self, ctx: TurnContext) -> ConversationData:
        raw = await self._data.get(ctx, dict)
        data = ConversationData.model_validate(raw or {})
        set_conversation_data(ctx, data)
        return data

    def _turn_lang(self, ctx: TurnContext, data: ConversationData) -> Lang:
        hint = data.lang or locale_lang(ctx.activity.locale) or self._default_lang
        if data.lang_locked or not ctx.activity.text:
            return data.lang or hint
        return self._guess(ctx.activity.text, hint)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        strip_recipient_mention(activity)
        if activity.text is not None:
            activity.text = activity.text.strip()
        if not activity.text and activity.value is None:
            return  # nothing to react to (an empty message)
        if self._staff is not None and await self._staff.thread_message(turn_context):
            return  # support staff answering a case in its thread
        data = await self._load_data(turn_context)
        lang = self._turn_lang(turn_context, data)
        turn_context.turn_state[LANG_KEY] = lang
        await self._run(turn_context, {"route": activity.text or ""})
        data.lang = turn_context.turn_state.get(LANG_KEY, lang)
        data.lang_locked = data.lang_locked or bool(turn_context.turn_state.get(LANG_CHANGED_KEY))
        data.turns += 1
        await self._data.set(turn_context, data.model_dump(mode="json", exclude_defaults=True))  # smaller state

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

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        """`handoff.status` from an agent hub updates the conversation's case; other events are botbuilder's."""
        if self._staff is not None and await self._staff.hub_status(turn_context):
            return
        await super().on_event_activity(turn_context)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if not any(m.id != bot_id for m in members_added):
            return
        data = await self._load_data(turn_context)
        lang = data.lang or locale_lang(turn_context.activity.locale) or self._default_lang
        await turn_context.send_activity(welcome_activity(turn_context.activity.channel_id, lang))
        data.lang = lang
        await self._data.set(turn_context, data.model_dump(mode="json", exclude_defaults=True))  # smaller state

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        # Teams' handler dereferences channelData; without a usable one, fall back to the generic members-added path
        # (a channelData that is an object but does not deserialise is `on_turn`'s to refuse)
        if not isinstance(turn_context.activity.channel_data, dict):
            await ActivityHandler.on_conversation_update_activity(self, turn_context)
            return
        await super().on_conversation_update_activity(turn_context)

    async def on_teams_members_added_dispatch(self, members_added, team_info, turn_context):
        # The base class looks every member up over HTTP first (and fails when the lookup is unavailable);
        # the welcome needs only the ids.
        await self.on_members_added_activity(list(members_added), turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> Any:
        """Invokes: `adaptiveCard/action` is checked and run here, the rest is botbuilder's Teams dispatch.

        botbuilder's own check answers a malformed adaptiveCard/action with a body it cannot serialise (or fails on
        a non-object action), and takes any verb and data. Invokes it has no handler for answer 501, which the
        adapter turns into 200 with no body (`bot.adapter.invoke_answer`).
        """
        activity = turn_context.activity
        if activity.name != CARD_ACTION:
            if _teams_dispatched(activity.name) and not isinstance(activity.value, dict):
                # botbuilder's Teams handlers read fields of the value unchecked (AttributeError on null)
                log.info("refused invoke without an object value: conversation=%s", safe_id(_conversation_id(activity)))
                return bad_request("the invoke value must be an object")
            return await super().on_invoke_activity(turn_context)
        problem = card_action_problem(activity.value)
        if problem is not None:
            log.info("refused %s: %s: conversation=%s", CARD_ACTION, problem, safe_id(_conversation_id(activity)))
            return bad_request(problem)
        value = activity.value
        if value["action"]["verb"] in CASE_VERBS:
            return await self._case_action(turn_context, value["action"]["verb"], value["action"]["data"])
        invoke_value = AdaptiveCardInvokeValue(
            action=value["action"], authentication=value.get("authentication"), state=value.get("state")
        )
        return self._create_invoke_response(await self.on_adaptive_card_invoke(turn_context, invoke_value))

    async def _case_action(self, ctx: TurnContext, verb: str, data: dict[str, Any]) -> InvokeResponse:
        """A support case card's button (Take / Reply / Resolve): answered with the card refreshed in place."""
        if self._staff is None:
            return bad_request("support cases are not handled by this assistant")
        card = await self._staff.card_action(ctx, verb, data)
        if isinstance(card, str):
            return bad_request(card)
        body = {"statusCode": 200, "type": CONTENT_TYPE, "value": card}
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """Teams `Action.Execute`: run the button's data through the dialogs as a card submit, then answer the
        invoke with the card refreshed in place (its buttons replaced by the choice made). Over HTTP,
        `on_invoke_activity` has checked the value first (`card_action_problem`)."""
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
