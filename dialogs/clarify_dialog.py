"""ClarifyDialog: when two entries fit, ask which one the user means, then show it."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext

from assistant import messages
from assistant.case import AnswerOptions, ClarifyOptions, DialogEnd, PromptSpec
from assistant.presenters.choices import recognize
from dialogs.answer_dialog import AnswerDialog
from dialogs.base import Renderer, SpecPrompt, spec_options
from dialogs.runtime import Waterfall
from dialogs.stale_cards import redirect_text
from dialogs.state import turn_lang
from knowledge.loader import KnowledgeBase
from knowledge.models import LANGS


class ClarifyDialog(ComponentDialog):
    """Offers the candidate entries plus "none of these"; a choice opens the AnswerDialog."""

    def __init__(self, kb: KnowledgeBase, answer: AnswerDialog, render: Renderer) -> None:
        super().__init__(ClarifyDialog.__name__)
        self._kb = kb
        self.add_dialog(SpecPrompt(SpecPrompt.__name__, render))
        for dialog in (answer, *answer.companions()):
            self.add_dialog(dialog)
        self.add_dialog(Waterfall(WaterfallDialog.__name__, [self._ask_step, self._choose_step, self._done_step]))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def _ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = ClarifyOptions.model_validate(step.options)
        step.values["alternatives"] = opts.alternatives
        return await step.prompt(
            SpecPrompt.__name__, spec_options(PromptSpec(kind="clarify", alternatives=opts.alternatives))
        )

    def _pick(self, text: str | None, value: object, alternatives: list[str]) -> str | None:
        keys = [*alternatives, "none"]
        picked = recognize(text, value, keys)
        if picked is None and text:
            said = text.strip().casefold()
            for entry_id in alternatives:
                contents = [self._kb.get(entry_id).content(lang) for lang in LANGS]
                # a text channel's button sends its label back; some users type the whole question
                if said in {n.casefold() for c in contents for n in (c.label, c.title)}:
                    return entry_id
        return picked

    async def _choose_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        activity = step.context.activity
        picked = self._pick(activity.text, activity.value, step.values["alternatives"])
        if picked is None:
            return await step.end_dialog(DialogEnd(redirect=redirect_text(step.context)).model_dump())
        if picked == "none":
            await step.context.send_activity(messages.text("clarify_rephrase", turn_lang(step.context)))
            return await step.end_dialog(DialogEnd().model_dump())
        return await step.begin_dialog(AnswerDialog.__name__, AnswerOptions(entry_id=picked).model_dump())

    async def _done_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.end_dialog(step.result)
