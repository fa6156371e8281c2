"""MainDialog: the root. Welcome, global commands at every step, free text routed to an answer, a clarifying
question, an area checklist, small talk or an honest "I don't know"; then wait for the next message.

Inside the component, a `Router` dialog sits at the bottom of the stack: it routes each message it receives and
each redirect a child hands back (free text typed where the child expected a vote or a choice), then waits. It
replaces a waterfall that re-started itself every turn behind a catch-all text prompt: same conversation, two
dialogs fewer on the stack and no restart per turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, Dialog, DialogContext, DialogReason, DialogTurnResult, DialogTurnStatus
from botbuilder.schema import ActivityTypes

from assistant import messages
from assistant.case import AnswerOptions, ClarifyOptions, DialogEnd, HandoffOptions
from assistant.handoff.intake import Escalation
from assistant.ports import Journal, LiveFindings, Remediation
from assistant.presenters.markdown import neighbour_markdown
from assistant.presenters.views import Findings
from dialogs.access import may_show_live
from dialogs.answer_dialog import AnswerDialog
from dialogs.base import (
    AGENT,
    CANCEL,
    DIAGNOSE,
    HELP,
    MENU,
    TO_ENGLISH,
    TO_ITALIAN,
    Renderer,
    area_command,
    command_word,
    reprompt,
    submitted,
)
from dialogs.checklist_dialog import AREA_DIALOGS
from dialogs.clarify_dialog import ClarifyDialog
from dialogs.handoff_dialog import HANDOFF_READY, HandoffDialog, offer_handoff
from dialogs.progress import announce_checks
from dialogs.runtime import patch_dialog_context
from dialogs.stale_cards import card_submit, declined, handle_stale
from dialogs.state import (
    LANG_CHANGED_KEY,
    LANG_KEY,
    conversation_data,
    record_findings,
    remember_crm,
    set_match,
    turn_lang,
)
from dialogs.support_mode import SupportMode
from knowledge.crm import crm_in_text
from knowledge.loader import KnowledgeBase
from knowledge.models import Area, Lang, Match
from knowledge.neighbours import Neighbours
from tenant.trace import inputs_in

Matcher = Callable[[str, Lang], Match]
RouteFn = Callable[[DialogContext, str | None], Awaitable[DialogTurnResult]]


class Router(Dialog):
    """The bottom of MainDialog's stack: routes what the user says, waits, and routes again.

    Begun with `{"route": text}` it routes that text at once; with `{"menu": True}` it shows the welcome first.
    """

    def __init__(self, route: RouteFn, welcome: Callable[[TurnContext], Awaitable[None]]) -> None:
        super().__init__(Router.__name__)
        self._route = route
        self._welcome = welcome

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None) -> DialogTurnResult:
        opts = options if isinstance(options, dict) else {}
        if opts.get("menu"):
            await self._welcome(dialog_context.context)
        if "route" in opts:
            return await self._route(dialog_context, opts["route"])
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        if dialog_context.context.activity.type != ActivityTypes.message:
            return Dialog.end_of_turn
        return await self._route(dialog_context, dialog_context.context.activity.text)

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: object = None
    ) -> DialogTurnResult:
        """A child ended: route the free text it handed back, or wait for the next message."""
        ended = DialogEnd.model_validate(result) if isinstance(result, dict) else DialogEnd()
        if ended.redirect and ended.redirect.strip():
            return await self._route(dialog_context, ended.redirect)
        if declined(dialog_context.context):  # an older card's button the open prompt did not take
            return await self._route(dialog_context, None)
        return Dialog.end_of_turn


class MainDialog(ComponentDialog):
    """Routes every message; child dialogs hand free text back here through `DialogEnd.redirect`."""

    def __init__(
        self,
        kb: KnowledgeBase,
        match: Matcher,
        journal: Journal,
        render: Renderer,
        live: LiveFindings | None = None,
        remediation: Remediation | None = None,
        escalation: Escalation | None = None,
        wants_person: Callable[[str], bool] | None = None,
        neighbours: Neighbours | None = None,
    ) -> None:
        patch_dialog_context()  # contexts build their DialogStateManager on demand (dialogs/runtime.py)
        super().__init__(MainDialog.__name__)
        self._kb = kb
        self._neighbours = neighbours
        self._match = match
        self._journal = journal
        self._live = live
        self._render = render
        self._wants_person = wants_person or (lambda text: False)
        self._support = SupportMode(escalation, self._wants_person) if escalation is not None else None
        if escalation is not None:
            self.add_dialog(HandoffDialog(escalation, render))
        self.add_dialog(Router(self._route, self._welcome))
        answer = AnswerDialog(kb, journal, render, live, remediation)
        for dialog in (answer, *answer.companions(), ClarifyDialog(kb, answer, render)):
            self.add_dialog(dialog)
        for dialog_cls in AREA_DIALOGS.values():
            self.add_dialog(dialog_cls(kb, journal, render, live, remediation))
        self.initial_dialog_id = Router.__name__

    # --- global commands, at every step -------------------------------------------------------------

    async def on_begin_dialog(self, inner_dc: DialogContext, options: object) -> DialogTurnResult:
        inner_dc.context.turn_state[HANDOFF_READY] = self._support is not None  # offers only where hand-over exists
        remember_crm(inner_dc.context, crm_in_text(inner_dc.context.activity.text))  # "we use Salesforce"
        return await super().on_begin_dialog(inner_dc, options)

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        inner_dc.context.turn_state[HANDOFF_READY] = self._support is not None
        remember_crm(inner_dc.context, crm_in_text(inner_dc.context.activity.text))
        if inner_dc.active_dialog is not None and inner_dc.active_dialog.id != Router.__name__:
            handled = await self._command(inner_dc.context, inner_dc)
            if handled is not None:
                return handled
        return await super().on_continue_dialog(inner_dc)

    async def _command(self, ctx: TurnContext, inner_dc: DialogContext) -> DialogTurnResult | None:
        """Handle help / cancel / menu / language / agent; None when the message is not a command."""
        word = command_word(ctx)
        if word is None:
            return None
        lang = turn_lang(ctx)
        if word in HELP:
            await ctx.send_activity(messages.text("help", lang))
            await reprompt(inner_dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if word in CANCEL or word in MENU:
            if word in CANCEL:
                await ctx.send_activity(messages.text("cancelled", lang))
            await inner_dc.cancel_all_dialogs()
            return await inner_dc.begin_dialog(Router.__name__, {"menu": True})
        if word in TO_ENGLISH or word in TO_ITALIAN:
            new: Lang = "en" if word in TO_ENGLISH else "it"
            ctx.turn_state[LANG_KEY] = new
            ctx.turn_state[LANG_CHANGED_KEY] = True
            await ctx.send_activity(messages.text("language_set", new))
            await reprompt(inner_dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if word in AGENT:
            return await self._begin_handoff(inner_dc, ctx.activity.text or "")
        return None

    async def _begin_handoff(self, dc: DialogContext, request: str, reason: str | None = None) -> DialogTurnResult:
        """Start the hand-over (or, with a case open, say so and send the user's messages to support again)."""
        ctx = dc.context
        if self._support is None:
            await ctx.send_activity(messages.text("handoff_unavailable", turn_lang(ctx)))
            return Dialog.end_of_turn
        if await self._support.already_open(ctx):
            return Dialog.end_of_turn
        await dc.cancel_all_dialogs()
        await dc.begin_dialog(Router.__name__)  # at the bottom again, to route what the hand-over hands back
        return await dc.begin_dialog(
            HandoffDialog.__name__, HandoffOptions(request=request, reason=reason).model_dump()
        )

    # --- routing -------------------------------------------------------------------------------------

    @staticmethod
    async def _welcome(ctx: TurnContext) -> None:
        await ctx.send_activity(messages.text("welcome", turn_lang(ctx)))

    async def _route(self, dc: DialogContext, text: str | None) -> DialogTurnResult:
        """Handle one message (or a child's redirect, `text`): a command, an area, a question; or nothing."""
        ctx = dc.context
        if self._support is not None and await self._support.handle(ctx):
            return Dialog.end_of_turn  # sent to support, or the case's status / "back to the assistant"
        routed = await self._command(ctx, dc)
        if routed is not None:  # help / language / agent wait for the next message; cancel / menu restarted
            return routed
        offer = submitted(ctx.activity.value, "handoff_offer")
        if offer is not None:
            if offer == "handoff":
                return await self._begin_handoff(dc, "", reason="offered")
            await ctx.send_activity(messages.text("handoff_declined", turn_lang(ctx)))
            return Dialog.end_of_turn
        if text and self._support is not None and self._wants_person(text):
            return await self._begin_handoff(dc, text)
        if command_word(ctx) in DIAGNOSE:
            await self._diagnose(ctx)
            return Dialog.end_of_turn
        if (card := card_submit(ctx.activity.value)) is not None:  # an older card's button: no prompt waits for it
            return await self._stale_card(dc, card)
        area = area_command(command_word(ctx)) or _submitted_area(ctx.activity.value)
        if area is not None:
            return await dc.begin_dialog(AREA_DIALOGS[Area(area)].__name__)
        if not text or not text.strip():
            return Dialog.end_of_turn  # an empty message or an unknown card submit: nothing to answer
        return await self._answer_text(dc, text)

    async def _stale_card(self, dc: DialogContext, card: dict[str, Any]) -> DialogTurnResult:
        """An older card's button: its action in that card's context, or a clear "out of date"."""
        entry = await handle_stale(dc.context, self._kb, self._journal, card)
        if entry is None:
            return Dialog.end_of_turn
        return await dc.begin_dialog(AnswerDialog.__name__, AnswerOptions(entry_id=entry, via="clarify").model_dump())

    async def _answer_text(self, dc: DialogContext, text: str) -> DialogTurnResult:
        ctx = dc.context
        lang = turn_lang(ctx)
        verdict = self._match(text, lang)
        set_match(ctx, verdict)
        data = conversation_data(ctx)
        if data is not None and verdict.kind in ("answer", "clarify"):
            data.misses = 0
        if verdict.kind == "answer" and verdict.entry:
            if data is not None:
                data.last_entry = verdict.entry
            opts = AnswerOptions(entry_id=verdict.entry, confidence=verdict.confidence, via=verdict.via)
            return await dc.begin_dialog(AnswerDialog.__name__, opts.model_dump())
        if verdict.kind == "clarify":
            opts_c = ClarifyOptions(alternatives=list(verdict.alternatives))
            return await dc.begin_dialog(ClarifyDialog.__name__, opts_c.model_dump())
        if verdict.neighbour and self._neighbours is not None:
            if data is not None:
                data.misses = 0  # understood, and pointed elsewhere: no miss towards the hand-over offer
            await ctx.send_activity(neighbour_markdown(self._neighbours.get(verdict.neighbour), lang))
            return Dialog.end_of_turn
        key = verdict.smalltalk if verdict.kind == "smalltalk" and verdict.smalltalk else "unknown"
        data = conversation_data(ctx)
        if data is not None:
            data.misses = data.misses + 1 if key == "unknown" else 0
        if data is not None and data.misses >= 2 and await offer_handoff(ctx, self._render, "misses"):
            return Dialog.end_of_turn  # the offer says it did not understand, and what else there is
        await ctx.send_activity(messages.text(key, lang))
        return Dialog.end_of_turn

    async def _diagnose(self, ctx: TurnContext) -> None:
        """ "Diagnose everything": the full sweep when live checks are configured, else say how to enable them."""
        lang = turn_lang(ctx)
        if self._live is None or not self._live.configured:
            await ctx.send_activity(messages.text("live_not_configured", lang))
            return
        if not await may_show_live(ctx, always_explain=True):
            return
        await announce_checks(ctx)
        sweep = await self._live.sweep(inputs=inputs_in(ctx.activity.text))  # "diagnose referral <id>"
        record_findings(ctx, sweep.results)
        await ctx.send_activity(self._render(Findings(tuple(sweep.results)), ctx))
        if any(r.status.value == "fail" and r.fix is None for r in sweep.results):
            await offer_handoff(ctx, self._render, "no_fix")


def _submitted_area(value: object) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("area"), str) and value["area"] in Area.__members__:
        return str(value["area"])
    return None
