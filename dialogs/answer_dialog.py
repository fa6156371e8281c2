"""AnswerDialog: live findings first (with an offer to fix what can be fixed), then one entry's answer; ask whether
it helped, record the vote.

A plain `Dialog` rather than a component holding a waterfall and a prompt: it has one question to ask, and every
FAQ turn ends the previous answer and begins the next one, so the three extra dialogs on the stack (their
contexts, step bookkeeping and persisted state) were most of a turn's dialog cost. The fix offer, when there is
one, is a `RemediationDialog` pushed on the same stack; the dialog set this one is added to must also hold that.
"""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogReason, DialogTurnResult
from botbuilder.schema import ActivityTypes

from assistant import messages
from assistant.case import AnswerOptions, DialogEnd, PromptSpec
from assistant.ports import Journal, LiveFindings, Remediation
from assistant.presenters.choices import CRM_CHOICES, FEEDBACK_CHOICES, recognize
from assistant.presenters.views import Findings
from dialogs.access import may_show_live
from dialogs.base import Renderer
from dialogs.handoff_dialog import offer_handoff
from dialogs.progress import announce_checks
from dialogs.remediation_dialog import RemediationDialog, fix_offer_dialogs, remediation_options
from dialogs.stale_cards import card_submit, redirect_text
from dialogs.state import (
    ANSWER_KEY,
    conversation_data,
    record_answer,
    record_findings,
    remember_crm,
    turn_lang,
)
from knowledge.crm import crm_in_text, needs_crm
from knowledge.loader import KnowledgeBase
from tenant.base import CheckResult
from tenant.trace import inputs_in

_ENTRY = "entry_id"  # persisted in the dialog instance's state: the entry shown
_ASKED = "asked"  # persisted: True once the answer and its "did this help?" are out
_CRM_ASKED = "crm_asked"  # persisted: True while "Dynamics 365 or Salesforce?" (after the answer) is open


class AnswerDialog(Dialog):
    """Presents an entry with a "did this help?" question; free text instead of a vote is a new question."""

    def __init__(
        self,
        kb: KnowledgeBase,
        journal: Journal,
        render: Renderer,
        live: LiveFindings | None = None,
        remediation: Remediation | None = None,
    ) -> None:
        super().__init__(AnswerDialog.__name__)
        self._kb = kb
        self._journal = journal
        self._render = render
        self._live = live
        self._remediation = remediation
        # which answers name flows after the CRM, read once: `needs_crm` serialises the whole entry to find out
        self._names_crm = frozenset(entry.id for entry in kb.entries if needs_crm(entry))

    def companions(self) -> list[Dialog]:
        """The dialogs this one begins, to add to the same dialog set."""
        return fix_offer_dialogs(self._remediation, self._journal, self._render)

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None) -> DialogTurnResult:
        opts = AnswerOptions.model_validate(options)
        ctx = dialog_context.context
        state = dialog_context.active_dialog.state
        state[_ENTRY] = opts.entry_id
        record_answer(ctx, opts.entry_id, opts.confidence, opts.via)
        results = await self._live_findings(ctx, opts.entry_id)  # the connector's flows name the CRM too
        fixes = remediation_options(results) if self._remediation is not None else None
        if fixes is not None:
            return await dialog_context.begin_dialog(RemediationDialog.__name__, fixes)
        asked = await self._ask(dialog_context)
        if any(r.status.value == "fail" and r.fix is None for r in results):  # nothing the user can press
            await offer_handoff(ctx, self._render, "no_fix")
        return asked

    async def _crm_reply(self, dialog_context: DialogContext) -> bool:
        """A reply naming the CRM after "Dynamics 365 or Salesforce?" (a button, or its name: a number would be a
        vote): remember it and show the answer again with its flow names. False when the reply names none."""
        ctx = dialog_context.context
        activity = ctx.activity
        value = activity.value if isinstance(activity.value, dict) and activity.value.get("card") == "crm_ask" else None
        crm = recognize(None, value, CRM_CHOICES) or crm_in_text(activity.text)
        if crm is None:
            return False
        dialog_context.active_dialog.state[_CRM_ASKED] = False
        remember_crm(ctx, crm)
        await ctx.send_activity(self._render(self._spec(dialog_context.active_dialog.state), ctx))
        return True

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: object = None
    ) -> DialogTurnResult:
        """Back from the fix offer: free text there is a new question, otherwise show the answer."""
        ended = DialogEnd.model_validate(result) if isinstance(result, dict) else DialogEnd()
        if ended.redirect:
            return await dialog_context.end_dialog(ended.model_dump())
        return await self._ask(dialog_context)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """The reply to "did this help?": a vote is recorded, anything else goes back as a new question."""
        ctx = dialog_context.context
        activity = ctx.activity
        if activity.type != ActivityTypes.message:
            return Dialog.end_of_turn  # as a prompt does: only messages answer it
        state = dialog_context.active_dialog.state
        if state.get(_CRM_ASKED) and await self._crm_reply(dialog_context):
            return Dialog.end_of_turn  # the answer again, in the CRM's words; its "did this help?" still open
        card = card_submit(activity.value)
        mine = card is None or (card["card"] == "answer" and card.get("entry") == state.get(_ENTRY))
        vote = recognize(activity.text, activity.value, FEEDBACK_CHOICES) if state.get(_ASKED) and mine else None
        if vote is None:  # also a stack stored by an older build, whose state has another shape
            return await dialog_context.end_dialog(DialogEnd(redirect=redirect_text(ctx)).model_dump())
        lang = turn_lang(ctx)
        entry = self._kb.get(state[_ENTRY])
        await self._journal.record_feedback(activity.conversation.id, entry.id, vote == "yes", lang)
        if vote == "yes":
            await ctx.send_activity(messages.text("helped_thanks", lang))
            return await dialog_context.end_dialog(DialogEnd().model_dump())
        data = conversation_data(ctx)
        if data is not None:
            data.not_helpful += 1
        if data is None or data.not_helpful < 2 or not await offer_handoff(ctx, self._render, "unhelpful"):
            area = messages.area_name(entry.area, lang)
            await ctx.send_activity(messages.text("helped_sorry", lang, area=area))
        return await dialog_context.end_dialog(DialogEnd().model_dump())

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Show the answer again, in the turn's language (after help, or a language switch)."""
        if instance.state.get(_ASKED):
            await context.send_activity(self._render(self._spec(instance.state), context))

    async def _ask(self, dialog_context: DialogContext) -> DialogTurnResult:
        state = dialog_context.active_dialog.state
        spec = self._spec(state)
        dialog_context.context.turn_state[ANSWER_KEY] = spec
        ctx = dialog_context.context
        await ctx.send_activity(self._render(spec, ctx))
        state[_ASKED] = True
        data = conversation_data(ctx)
        if data is not None and data.crm is None and not data.crm_asked and spec.entry_id in self._names_crm:
            # the steps name flows after the CRM, shown with a neutral word: ask which one, once per conversation
            data.crm_asked = True
            state[_CRM_ASKED] = True
            await ctx.send_activity(self._render(PromptSpec(kind="crm_ask"), ctx))
        return Dialog.end_of_turn

    @staticmethod
    def _spec(state: dict[str, object]) -> PromptSpec:
        return PromptSpec(kind="answer", entry_id=str(state[_ENTRY]))

    async def _live_findings(self, ctx: TurnContext, entry_id: str) -> list[CheckResult]:
        """With credentials, run the checks that diagnose this entry and show what they found first."""
        if self._live is None or not self._live.configured or not (ids := self._live.ids_for(entry_id)):
            return []
        if not await may_show_live(ctx):  # the channel did not prove who the user is
            return []
        await announce_checks(ctx)  # checks take a moment
        sweep = await self._live.sweep(ids=ids, inputs=inputs_in(ctx.activity.text))
        record_findings(ctx, sweep.results)
        await ctx.send_activity(self._render(Findings(tuple(sweep.results)), ctx))
        return list(sweep.results)
