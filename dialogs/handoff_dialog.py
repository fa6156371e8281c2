"""HandoffDialog: hand the conversation to support staff. One short question for a description when the conversation
does not already say what is wrong, a preview of exactly what will be shared with **Send** / **Cancel**, then the
case reference and what happens next at once. Free text instead of an answer is handed back as a new question, so
the user is never stuck in it; a store failure is said, and the user can try again.

Also here: `offer_handoff`, which the other dialogs call at the moments a person would help (each reason offered once
per conversation, never while a case is open), and `requester`, the user as the channel described them.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext

from assistant import messages
from assistant.case import DialogEnd, HandoffOptions, PromptSpec
from assistant.handoff.intake import Escalation, Requester
from assistant.presenters.choices import recognize
from dialogs.access import turn_access
from dialogs.base import Renderer, SpecPrompt, spec_options
from dialogs.runtime import Waterfall
from dialogs.state import conversation_data, turn_lang

log = logging.getLogger(__name__)

HANDOFF_READY = "cosell.handoff"  # turn_state: True when this assistant can hand over (set by the main dialog)
_DESCRIPTION = "description"
_ASKED = "asked"
_MIN_WORDS = 12  # a request this long says what is wrong by itself ("agent please, the flow fails with 401 …")


def requester(ctx: TurnContext) -> Requester:
    """The user of this turn, as support will see them: the AAD object id only when the channel proved it."""
    activity = ctx.activity
    sender = activity.from_property
    lang = turn_lang(ctx)
    proven = turn_access(ctx).reason == "verified"
    conversation = activity.conversation
    return Requester(
        channel_id=activity.channel_id,
        conversation_id=conversation.id,
        lang=lang,
        locale=activity.locale or ("it-IT" if lang == "it" else "en-US"),
        user_id=sender.id if sender else None,
        user_name=sender.name if sender else None,
        aad_object_id=sender.aad_object_id if sender is not None and proven else None,
        tenant_id=getattr(conversation, "tenant_id", None),
        reference=TurnContext.get_conversation_reference(activity).serialize(),
    )


async def offer_handoff(ctx: TurnContext, render: Renderer, reason: str) -> bool:
    """Offer to hand over, for `reason` (unhelpful, open_items, no_fix, misses): once per reason and conversation,
    never while a case is open. True when the offer was shown."""
    data = conversation_data(ctx)
    if not ctx.turn_state.get(HANDOFF_READY) or data is None or data.case_ref or reason in data.offered:
        return False
    data.offered.append(reason)
    await ctx.send_activity(render(PromptSpec(kind="handoff_offer", finding=reason), ctx))
    return True


class HandoffDialog(ComponentDialog):
    """Describe (when needed) → preview with Send / Cancel → the case reference."""

    def __init__(self, escalation: Escalation, render: Renderer) -> None:
        super().__init__(HandoffDialog.__name__)
        self._escalation = escalation
        self.add_dialog(SpecPrompt(SpecPrompt.__name__, render))
        self.add_dialog(Waterfall(WaterfallDialog.__name__, [self._describe, self._preview, self._send]))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def _describe(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = HandoffOptions.model_validate(step.options or {})
        data = conversation_data(step.context)
        said_enough = len(opts.request.split()) >= _MIN_WORDS
        if said_enough or (data is not None and (data.matches or data.findings or data.checklists)):
            return await step.next(opts.request)
        step.values[_ASKED] = True
        return await step.prompt(SpecPrompt.__name__, spec_options(PromptSpec(kind="handoff_describe")))

    async def _preview(self, step: WaterfallStepContext) -> DialogTurnResult:
        ctx = step.context
        if step.values.get(_ASKED):  # the answer to the description question
            if recognize(ctx.activity.text, ctx.activity.value, ("cancel",)) == "cancel":
                return await self._cancelled(step)
            description = ctx.activity.text or ""
        else:
            description = step.result or ""
        step.values[_DESCRIPTION] = description
        data = conversation_data(ctx)
        if data is None:
            return await step.end_dialog(DialogEnd().model_dump())
        preview = await self._escalation.preview(requester(ctx), data, description)
        spec = PromptSpec(kind="handoff_preview", preview=preview)
        return await step.prompt(SpecPrompt.__name__, spec_options(spec))

    async def _send(self, step: WaterfallStepContext) -> DialogTurnResult:
        ctx = step.context
        choice = recognize(ctx.activity.text, ctx.activity.value, ("send", "cancel"))
        if choice == "cancel":
            return await self._cancelled(step)
        if choice != "send":  # something else typed at the preview: a new question, nothing sent
            return await step.end_dialog(DialogEnd(redirect=ctx.activity.text).model_dump())
        data = conversation_data(ctx)
        lang = turn_lang(ctx)
        if data is None:
            return await step.end_dialog(DialogEnd().model_dump())
        try:
            case = await self._escalation.submit(requester(ctx), data, str(step.values.get(_DESCRIPTION, "")))
        except Exception as exc:  # the store is down: say so; nothing was sent, the user can try again
            log.error("could not open a support case: %s", type(exc).__name__)
            await ctx.send_activity(messages.text("handoff_failed", lang))
            return await step.end_dialog(DialogEnd().model_dump())
        data.case_ref = case.ref
        key = "handoff_sent" if self._escalation.desk.targets else "handoff_sent_no_target"
        await ctx.send_activity(messages.text(key, lang, ref=case.ref))
        return await step.end_dialog(DialogEnd().model_dump())

    @staticmethod
    async def _cancelled(step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(messages.text("handoff_cancelled", turn_lang(step.context)))
        return await step.end_dialog(DialogEnd().model_dump())
