"""RemediationDialog: offer to fix failed live findings, then (admins only) preview, confirm, execute, journal, and
show the affected checks as re-run right after the change (fixed, or honestly still failing)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, Dialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import Activity, ActivityTypes

from assistant import effects, messages
from assistant.case import DialogEnd, PromptSpec, RemediationOptions, RemediationResult
from assistant.ports import Journal, Remediation
from assistant.presenters.choices import CONFIRM_CHOICES, FIX_CHOICES, recognize
from assistant.presenters.views import FixReport
from dialogs.access import turn_access
from dialogs.base import Renderer, SpecPrompt, spec_options
from dialogs.runtime import Waterfall
from dialogs.stale_cards import redirect_text
from dialogs.state import conversation_crm, turn_lang
from knowledge.crm import crm_words
from knowledge.models import Lang
from tenant.base import CheckResult, LiveCheckError
from tenant.remediation import RemediationOutcome, RemediationPlan

_FOUND = ("pass", "warn", "fail")  # statuses of a check that could look at the tenant


def fixable(results: list[CheckResult]) -> list[CheckResult]:
    """Failed findings that carry a remediation action, one per action (the first finding naming it)."""
    seen: dict[str, CheckResult] = {}
    for result in results:
        if result.status.value == "fail" and result.fix is not None and result.fix.action:
            seen.setdefault(result.fix.action, result)
    return list(seen.values())


def remediation_options(results: list[CheckResult]) -> dict[str, object] | None:
    """Options to begin this dialog with for a sweep's results, or None when nothing is fixable."""
    found = fixable(results)
    if not found:
        return None
    return RemediationOptions(findings=found).model_dump(mode="json")


def fix_offer_dialogs(remediation: Remediation | None, journal: Journal, render: Renderer) -> list[Dialog]:
    """The dialogs to add beside a dialog that offers fixes: a `RemediationDialog`, or none without remediation."""
    return [RemediationDialog(remediation, journal, render)] if remediation is not None else []


def _fixed(plan: RemediationPlan, outcome: RemediationOutcome) -> bool:
    """Whether the plan's entries count as fixed: its finding's check, re-run, no longer fails; when that check was
    not re-run or could not look, whether every step succeeded."""
    own = next((r for r in outcome.verified if r.id == plan.check_id), None)
    if own is None or own.status.value not in _FOUND:
        return outcome.ok
    return own.status.value != "fail"


def _offer(finding: CheckResult, lang: Lang, *, offered: bool) -> PromptSpec:
    """The fix offer for `finding`: with the button when `offered`, else who can run the fix and how by hand."""
    title, summary = finding.text(lang)
    action = finding.fix.action if finding.fix else None
    return PromptSpec(kind="fix_offer", action=action, finding=f"{title}: {summary}", fix_offered=offered)


def _user(ctx: TurnContext) -> tuple[str | None, str | None]:
    sender = ctx.activity.from_property
    if sender is None:
        return None, None
    return sender.id, getattr(sender, "aad_object_id", None)


class RemediationDialog(ComponentDialog):
    """Offers "Fix it for me" for each fixable finding in turn; free text instead of an answer ends the dialog and
    is routed as a new question. Only allow-listed users get a preview; nothing changes without "confirm"."""

    def __init__(self, remediation: Remediation, journal: Journal, render: Renderer) -> None:
        super().__init__(RemediationDialog.__name__)
        self._remediation = remediation
        self._journal = journal
        self._render = render
        self.add_dialog(SpecPrompt(SpecPrompt.__name__, render))
        self.add_dialog(Waterfall(WaterfallDialog.__name__, [self._offer_step, self._preview_step, self._execute_step]))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def _offer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = RemediationOptions.model_validate(step.options)
        step.values["options"] = opts.model_dump(mode="json")
        step.values["fixed"] = list((step.options or {}).get("fixed", []))
        lang = turn_lang(step.context)
        if self._refusal(step.context) is not None:  # no button for who may not press it: who can, and how
            for finding in opts.findings:
                await step.context.send_activity(self._render(_offer(finding, lang, offered=False), step.context))
            return await step.end_dialog(DialogEnd(fixed=step.values["fixed"]).model_dump())
        return await step.prompt(SpecPrompt.__name__, spec_options(_offer(opts.findings[0], lang, offered=True)))

    async def _preview_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        activity = step.context.activity
        picked = recognize(activity.text, activity.value, FIX_CHOICES)
        if picked is None:
            redirect = redirect_text(step.context)
            return await step.end_dialog(DialogEnd(redirect=redirect, fixed=step.values["fixed"]).model_dump())
        if picked == "no":
            return await self._next(step)
        self._bring_forward(step, activity.value)
        lang = turn_lang(step.context)
        finding = self._finding(step)
        action = finding.fix.action if finding.fix and finding.fix.action else ""
        refusal = self._refusal(step.context)
        if refusal is not None:
            key, detail = refusal
            await self._record(step, action, {}, {}, "refused", detail)
            manual = crm_words(messages.fix_text(action, "manual", lang), conversation_crm(step.context), lang)
            await step.context.send_activity(messages.text(key, lang, manual=manual))
            return await self._next(step)
        await step.context.send_activity(Activity(type=ActivityTypes.typing))  # fresh reads take a moment
        try:
            plan = await self._remediation.plan(action, finding)
        except LiveCheckError as exc:
            await step.context.send_activity(messages.text("fix_unavailable", lang, reason=str(exc)))
            return await self._next(step)
        if not plan.steps:
            await step.context.send_activity(messages.text("fix_nothing", lang))
            return await self._next(step)
        spec = PromptSpec(kind="fix_confirm", action=action, plan=plan)
        step.values["plan"] = plan.model_dump(mode="json")
        return await step.prompt(SpecPrompt.__name__, spec_options(spec))

    async def _execute_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        activity = step.context.activity
        lang = turn_lang(step.context)
        plan = RemediationPlan.model_validate(step.values["plan"])
        picked = recognize(activity.text, activity.value, CONFIRM_CHOICES)
        if picked != "confirm":
            await self._record(step, plan.action, plan.before, plan.before, "cancelled", None)
            await step.context.send_activity(messages.text("fix_cancelled", lang))
            if picked is None and activity.text and activity.text.strip():  # free text: a new question
                return await step.end_dialog(DialogEnd(redirect=activity.text, fixed=step.values["fixed"]).model_dump())
            return await self._next(step)
        await step.context.send_activity(Activity(type=ActivityTypes.typing))
        effects.record("fix")  # changes the tenant: this turn is never run twice (`assistant.effects`)
        outcome = await self._remediation.execute(plan)
        failure = outcome.failure
        detail = None if failure is None else f"{failure.step.describe()}: {failure.detail}"
        result: RemediationResult = "done" if outcome.ok else "failed"
        await self._record(step, plan.action, plan.before, outcome.after, result, detail)
        if outcome.verified:  # the affected checks, re-run after the change: what they find now, in the same reply
            self._refresh_offers(step, plan, list(outcome.verified))
        await step.context.send_activity(self._render(FixReport(outcome, plan), step.context))
        if _fixed(plan, outcome):
            step.values["fixed"] = [*step.values["fixed"], *plan.entries]
        return await self._next(step)

    # --- helpers -------------------------------------------------------------------------------------------

    def _refusal(self, ctx: TurnContext) -> tuple[str, str] | None:
        """(message key, journal detail) when this turn's user may not change the tenant; None when they may.
        Only ids the channel proved count (`dialogs.access`): a caller's own `from.id` is no credential."""
        ids = turn_access(ctx).fix_ids
        if not ids:
            return "fix_identity_unproven", "the channel did not prove the user's identity"
        if not self._remediation.allowed(*ids):
            return "fix_refused", "user not on the admin allow-list"
        return None

    @staticmethod
    def _finding(step: WaterfallStepContext) -> CheckResult:
        return RemediationOptions.model_validate(step.values["options"]).findings[0]

    @staticmethod
    def _bring_forward(step: WaterfallStepContext, value: object) -> None:
        """A findings card's fix button names its action: that finding is the one to fix now, the others follow."""
        action = value.get("action") if isinstance(value, dict) else None
        findings = RemediationOptions.model_validate(step.values["options"]).findings
        chosen = [f for f in findings if f.fix is not None and f.fix.action == action]
        if chosen and chosen[0] is not findings[0]:
            rest = [f for f in findings if f is not chosen[0]]
            step.values["options"] = RemediationOptions(findings=[chosen[0], *rest]).model_dump(mode="json")

    @staticmethod
    def _refresh_offers(step: WaterfallStepContext, plan: RemediationPlan, verified: list[CheckResult]) -> None:
        """The findings still to offer, as just re-run: none whose check no longer fails, none with the fix just
        made (it is not offered twice in this dialog, even when it did not take)."""
        fresh = {r.id: r for r in verified if r.status.value in _FOUND}
        opts = RemediationOptions.model_validate(step.values["options"])
        rest = opts.findings[1:]
        still = [f for f in fixable([fresh.get(f.id, f) for f in rest]) if f.fix and f.fix.action != plan.action]
        step.values["options"] = RemediationOptions(findings=[opts.findings[0], *still]).model_dump(mode="json")

    async def _next(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Offer the next fixable finding, or end with the entries fixed so far."""
        opts = RemediationOptions.model_validate(step.values["options"])
        fixed = list(dict.fromkeys(step.values["fixed"]))
        if len(opts.findings) > 1:
            rest = RemediationOptions(findings=opts.findings[1:]).model_dump(mode="json")
            return await step.replace_dialog(WaterfallDialog.__name__, {**rest, "fixed": fixed})
        return await step.end_dialog(DialogEnd(fixed=fixed).model_dump())

    async def _record(
        self,
        step: WaterfallStepContext,
        action: str,
        before: dict[str, Any],
        after: dict[str, Any],
        result: RemediationResult,
        detail: str | None,
    ) -> None:
        user_id, aad_id = _user(step.context)
        await self._journal.record_remediation(
            step.context.activity.conversation.id,
            aad_id or user_id or "unknown",
            action,
            before=before,
            after=after,
            result=result,
            detail=detail,
        )
