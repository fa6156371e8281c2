"""AnswerDialog: live findings first (with an offer to fix what can be fixed), then one entry's answer; ask whether
it helped, record the vote."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import Activity, ActivityTypes

from dialogs import messages
from dialogs.base import Renderer, SpecPrompt, spec_options
from dialogs.remediation_dialog import RemediationDialog, remediation_options
from dialogs.render import FEEDBACK_CHOICES, findings_markdown, recognize
from dialogs.runtime import Waterfall
from dialogs.state import (
    ANSWER_KEY,
    AnswerOptions,
    DialogEnd,
    Journal,
    LiveFindings,
    PromptSpec,
    Remediation,
    turn_lang,
)
from knowledge.live.base import CheckResult
from knowledge.loader import KnowledgeBase


class AnswerDialog(ComponentDialog):
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
        self._live = live
        self._remediation = remediation
        self.add_dialog(SpecPrompt(SpecPrompt.__name__, render))
        if remediation is not None:
            self.add_dialog(RemediationDialog(remediation, journal))
        self.add_dialog(
            Waterfall(WaterfallDialog.__name__, [self._findings_step, self._show_step, self._feedback_step])
        )
        self.initial_dialog_id = WaterfallDialog.__name__

    async def _findings_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = AnswerOptions.model_validate(step.options)
        step.values["entry_id"] = opts.entry_id
        results = await self._live_findings(step, opts.entry_id)
        fixes = remediation_options(results) if self._remediation is not None else None
        if fixes is not None:
            return await step.begin_dialog(RemediationDialog.__name__, fixes)
        return await step.next(None)

    async def _show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        ended = DialogEnd.model_validate(step.result) if isinstance(step.result, dict) else DialogEnd()
        if ended.redirect:  # free text during the fix offer: a new question
            return await step.end_dialog(ended.model_dump())
        spec = PromptSpec(kind="answer", entry_id=step.values["entry_id"])
        step.context.turn_state[ANSWER_KEY] = spec
        return await step.prompt(SpecPrompt.__name__, spec_options(spec))

    async def _live_findings(self, step: WaterfallStepContext, entry_id: str) -> list[CheckResult]:
        """With credentials, run the checks that diagnose this entry and show what they found first."""
        if self._live is None or not self._live.configured or not (ids := self._live.ids_for(entry_id)):
            return []
        await step.context.send_activity(Activity(type=ActivityTypes.typing))  # checks take a moment
        sweep = await self._live.sweep(ids=ids)
        await step.context.send_activity(findings_markdown(sweep.results, turn_lang(step.context)))
        return list(sweep.results)

    async def _feedback_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        activity = step.context.activity
        vote = recognize(activity.text, activity.value, FEEDBACK_CHOICES)
        if vote is None:
            return await step.end_dialog(DialogEnd(redirect=activity.text).model_dump())
        lang = turn_lang(step.context)
        entry = self._kb.get(step.values["entry_id"])
        await self._journal.record_feedback(activity.conversation.id, entry.id, vote == "yes", lang)
        if vote == "yes":
            await step.context.send_activity(messages.text("helped_thanks", lang))
        else:
            area = messages.area_name(entry.area, lang)
            await step.context.send_activity(messages.text("helped_sorry", lang, area=area))
        return await step.end_dialog(DialogEnd().model_dump())
