"""MainDialog: the root. Welcome, global commands at every step, free text routed to an answer, a clarifying
question, an area checklist, small talk or an honest "I don't know"; then wait for the next message."""

from __future__ import annotations

from collections.abc import Callable

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt
from botbuilder.schema import Activity, ActivityTypes

from dialogs import messages
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
)
from dialogs.checklist_dialog import AREA_DIALOGS
from dialogs.clarify_dialog import ClarifyDialog
from dialogs.render import findings_markdown
from dialogs.runtime import Waterfall, patch_dialog_context
from dialogs.state import (
    LANG_CHANGED_KEY,
    LANG_KEY,
    AnswerOptions,
    ClarifyOptions,
    DialogEnd,
    Journal,
    LiveFindings,
    Remediation,
    set_match,
    turn_lang,
)
from knowledge.loader import KnowledgeBase
from knowledge.models import Area, Lang, Match

Matcher = Callable[[str, Lang], Match]

_WAIT = "WaitPrompt"


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
    ) -> None:
        patch_dialog_context()  # contexts build their DialogStateManager on demand (dialogs/runtime.py)
        super().__init__(MainDialog.__name__)
        self._kb = kb
        self._match = match
        self._journal = journal
        self._live = live
        answer = AnswerDialog(kb, journal, render, live, remediation)
        self.add_dialog(answer)
        self.add_dialog(ClarifyDialog(kb, answer, render))
        for dialog_cls in AREA_DIALOGS.values():
            self.add_dialog(dialog_cls(kb, journal, render, live, remediation))
        self.add_dialog(TextPrompt(_WAIT, self._any_message))
        self.add_dialog(Waterfall(WaterfallDialog.__name__, [self._wait_step, self._route_step, self._loop_step]))
        self.initial_dialog_id = WaterfallDialog.__name__

    @staticmethod
    async def _any_message(prompt_context: object) -> bool:
        return True  # text or card submit: the route step decides

    # --- global commands, at every step -------------------------------------------------------------

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        if inner_dc.active_dialog is not None and inner_dc.active_dialog.id != _WAIT:
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
            return await inner_dc.begin_dialog(WaterfallDialog.__name__, {"menu": True})
        if word in TO_ENGLISH or word in TO_ITALIAN:
            new: Lang = "en" if word in TO_ENGLISH else "it"
            ctx.turn_state[LANG_KEY] = new
            ctx.turn_state[LANG_CHANGED_KEY] = True
            await ctx.send_activity(messages.text("language_set", new))
            await reprompt(inner_dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if word in AGENT:
            await self._handoff(ctx, lang)
            await reprompt(inner_dc)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        return None

    async def _handoff(self, ctx: TurnContext, lang: Lang) -> None:
        data = ctx.turn_state.get("cosell.data")
        summary = f"last entry: {getattr(data, 'last_entry', None)}"
        ref = await self._journal.record_handoff(ctx.activity.conversation.id, ctx.activity.channel_id, lang, summary)
        await ctx.send_activity(messages.text("handoff", lang, ref=ref))

    # --- the loop ------------------------------------------------------------------------------------

    async def _wait_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options or {}
        if options.get("menu"):
            await step.context.send_activity(messages.text("welcome", turn_lang(step.context)))
        if "route" in options:
            return await step.next(options["route"])
        return await step.prompt(_WAIT, PromptOptions())

    async def _route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        ctx = step.context
        routed = await self._command(ctx, step)
        if routed is not None and routed.status != DialogTurnStatus.Waiting:
            return routed
        if routed is not None:  # help / language / agent handled: wait for the next message
            return await step.next(None)
        text = step.result if isinstance(step.result, str) else ctx.activity.text
        if command_word(ctx) in DIAGNOSE:
            await self._diagnose(ctx)
            return await step.next(None)
        area = area_command(command_word(ctx)) or _submitted_area(ctx.activity.value)
        if area is not None:
            return await step.begin_dialog(AREA_DIALOGS[Area(area)].__name__)
        if not text or not text.strip():
            return await step.next(None)  # an empty message or an unknown card submit: nothing to answer
        return await self._answer_text(step, text)

    async def _answer_text(self, step: WaterfallStepContext, text: str) -> DialogTurnResult:
        ctx = step.context
        lang = turn_lang(ctx)
        verdict = self._match(text, lang)
        set_match(ctx, verdict)
        if verdict.kind == "answer" and verdict.entry:
            data = ctx.turn_state.get("cosell.data")
            if data is not None:
                data.last_entry = verdict.entry
            opts = AnswerOptions(entry_id=verdict.entry, confidence=verdict.confidence, via=verdict.via)
            return await step.begin_dialog(AnswerDialog.__name__, opts.model_dump())
        if verdict.kind == "clarify":
            opts_c = ClarifyOptions(alternatives=list(verdict.alternatives))
            return await step.begin_dialog(ClarifyDialog.__name__, opts_c.model_dump())
        key = verdict.smalltalk if verdict.kind == "smalltalk" and verdict.smalltalk else "unknown"
        await ctx.send_activity(messages.text(key, lang))
        return await step.next(None)

    async def _diagnose(self, ctx: TurnContext) -> None:
        """ "Diagnose everything": the full sweep when live checks are configured, else say how to enable them."""
        lang = turn_lang(ctx)
        if self._live is None or not self._live.configured:
            await ctx.send_activity(messages.text("live_not_configured", lang))
            return
        await ctx.send_activity(Activity(type=ActivityTypes.typing))
        sweep = await self._live.sweep()
        await ctx.send_activity(findings_markdown(sweep.results, lang))

    async def _loop_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        result = DialogEnd.model_validate(step.result) if isinstance(step.result, dict) else DialogEnd()
        options = {"route": result.redirect} if result.redirect and result.redirect.strip() else {}
        return await step.replace_dialog(WaterfallDialog.__name__, options)


def _submitted_area(value: object) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("area"), str) and value["area"] in Area.__members__:
        return str(value["area"])
    return None
