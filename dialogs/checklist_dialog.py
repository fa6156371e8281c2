"""Checklist dialogs: one per area, walking that area's entries one step at a time, then a summary."""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext

from assistant import messages
from assistant.case import ChecklistOptions, DialogEnd, ItemStatus, PromptSpec
from assistant.ports import Journal, LiveFindings, Remediation
from assistant.presenters.choices import ITEM_CHOICES, recognize
from assistant.presenters.views import Findings
from dialogs.access import may_show_live
from dialogs.base import Renderer, SpecPrompt, spec_options
from dialogs.handoff_dialog import offer_handoff
from dialogs.progress import announce_checks
from dialogs.remediation_dialog import RemediationDialog, fix_offer_dialogs, remediation_options
from dialogs.runtime import Waterfall
from dialogs.stale_cards import card_submit, handle_stale, item_marked_text, item_of
from dialogs.state import conversation_data, record_findings, turn_lang
from knowledge.loader import KnowledgeBase
from knowledge.models import Area

_STATUS: dict[str, ItemStatus] = {"done": "done", "fixed": "fixed", "open": "open", "skip": "skipped"}


class ChecklistDialog(ComponentDialog):
    """Shows each item of `area` with its fix, asks done / fixed / not yet / skip, and ends with a summary.

    Free text instead of an answer ends the walk and is routed as a new question by the main dialog.
    Subclasses only choose the area; the content comes from the knowledge base.
    """

    area: Area

    def __init__(
        self,
        kb: KnowledgeBase,
        journal: Journal,
        render: Renderer,
        live: LiveFindings | None = None,
        remediation: Remediation | None = None,
    ) -> None:
        super().__init__(type(self).__name__)
        self._kb = kb
        self._journal = journal
        self._live = live
        self._remediation = remediation
        self._render = render
        self.add_dialog(SpecPrompt(SpecPrompt.__name__, render))
        for dialog in fix_offer_dialogs(remediation, journal, render):
            self.add_dialog(dialog)
        steps = [self._sweep_step, self._item_step, self._record_step]
        self.add_dialog(Waterfall(WaterfallDialog.__name__, steps))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def _sweep_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = ChecklistOptions.model_validate(step.options or {"area": self.area})
        if not opts.swept:
            opts, fixes = await self._sweep(step, opts)
            step.values["options"] = opts.model_dump(mode="json")
            if fixes is not None:
                return await step.begin_dialog(RemediationDialog.__name__, fixes)
        step.values["options"] = opts.model_dump(mode="json")
        return await step.next(None)

    async def _item_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = ChecklistOptions.model_validate(step.values["options"])
        ended = DialogEnd.model_validate(step.result) if isinstance(step.result, dict) else DialogEnd()
        if ended.redirect:  # free text during the fix offer: a new question
            return await step.end_dialog(ended.model_dump())
        entries = self._kb.area(opts.area)
        for entry_id in ended.fixed:  # fixed from the chat just now
            opts.results[entry_id] = "fixed"
        while opts.index < len(entries) and entries[opts.index].id in opts.results:
            opts.index += 1
        if opts.index >= len(entries):
            return await self._finish(step, opts)
        step.values["options"] = opts.model_dump(mode="json")
        spec = PromptSpec(kind="item", area=opts.area, index=opts.index)
        return await step.prompt(SpecPrompt.__name__, spec_options(spec))

    async def _record_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = ChecklistOptions.model_validate(step.values["options"])
        activity = step.context.activity
        card = card_submit(activity.value)
        here = (opts.area.value, opts.index)
        if card is not None and (card.get("card") != "item" or (card.get("area"), card.get("index")) != here):
            return await self._older_card(step, opts, card)
        picked = recognize(activity.text, activity.value, ITEM_CHOICES)
        if picked is None:
            return await step.end_dialog(DialogEnd(redirect=activity.text).model_dump())
        entries = self._kb.area(opts.area)
        opts.results[entries[opts.index].id] = _STATUS[picked]
        opts.index += 1
        while opts.index < len(entries) and entries[opts.index].id in opts.results:  # confirmed by live checks
            opts.index += 1
        if opts.index < len(entries):
            return await step.replace_dialog(WaterfallDialog.__name__, opts.model_dump(mode="json"))
        return await self._finish(step, opts)

    async def _older_card(
        self, step: WaterfallStepContext, opts: ChecklistOptions, card: dict[str, Any]
    ) -> DialogTurnResult:
        """A button of an earlier card while this walk is on: mark that item (this walk's, or another area's) and
        show the current step again; another card's action in its context, or "out of date"; never step 1 again."""
        ctx = step.context
        item = item_of(self._kb, card) if card.get("card") == "item" else None
        if item is None:
            entry = await handle_stale(ctx, self._kb, self._journal, card)
            if entry is not None:  # an earlier clarify option: its answer, as a new question
                title = self._kb.get(entry).content(turn_lang(ctx)).title
                return await step.end_dialog(DialogEnd(redirect=title).model_dump())
        else:
            area, index, status = item
            if area == opts.area:
                opts.results[self._kb.area(area)[index].id] = status  # type: ignore[assignment]
            elif (data := conversation_data(ctx)) is not None:
                data.checklists.setdefault(area.value, {})[self._kb.area(area)[index].id] = status  # type: ignore[assignment]
            current = messages.text("card_item_current", turn_lang(ctx))
            await ctx.send_activity(f"{item_marked_text(self._kb, area, index, status, ctx)} {current}")
        return await step.replace_dialog(WaterfallDialog.__name__, opts.model_dump(mode="json"))

    async def _finish(self, step: WaterfallStepContext, opts: ChecklistOptions) -> DialogTurnResult:
        await self._journal.record_checklist(step.context.activity.conversation.id, opts.area, opts.results)
        summary = PromptSpec(kind="summary", area=opts.area, results=opts.results)
        await step.context.send_activity(self._render(summary, step.context))
        data = conversation_data(step.context)
        if data is not None:
            data.checklists[opts.area.value] = dict(opts.results)
        if any(status == "open" for status in opts.results.values()):  # items the user could not fix
            await offer_handoff(step.context, self._render, "open_items")
        return await step.end_dialog(DialogEnd().model_dump())

    async def _sweep(
        self, step: WaterfallStepContext, opts: ChecklistOptions
    ) -> tuple[ChecklistOptions, dict[str, object] | None]:
        """With credentials, run the area's checks first: show them, mark entries whose checks all passed as
        done (the walk skips them); also return the options of a fix offer when a finding can be fixed."""
        opts.swept = True
        if self._live is None or not self._live.configured or not await may_show_live(step.context):
            return opts, None
        await announce_checks(step.context)
        sweep = await self._live.sweep(area=opts.area.value)
        record_findings(step.context, sweep.results)
        await step.context.send_activity(self._render(Findings(tuple(sweep.results)), step.context))
        for entry in self._kb.area(opts.area):
            related = [r for r in sweep.results if entry.id in r.entries]
            if related and all(r.status.value == "pass" for r in related):
                opts.results[entry.id] = "done"
        fixes = remediation_options(list(sweep.results)) if self._remediation is not None else None
        return opts, fixes


class PrerequisitesDialog(ChecklistDialog):
    """Walks the prerequisites checklist."""

    area = Area.prerequisites


class ConfigurationDialog(ChecklistDialog):
    """Walks the configuration checklist."""

    area = Area.configuration


class MaintenanceDialog(ChecklistDialog):
    """Walks the run/maintenance checklist."""

    area = Area.maintenance


AREA_DIALOGS: dict[Area, type[ChecklistDialog]] = {
    Area.prerequisites: PrerequisitesDialog,
    Area.configuration: ConfigurationDialog,
    Area.maintenance: MaintenanceDialog,
}
