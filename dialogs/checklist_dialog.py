"""Checklist dialogs: one per area, walking that area's entries one step at a time, then a summary."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import Activity, ActivityTypes

from dialogs.base import Renderer, SpecPrompt, spec_options
from dialogs.render import ITEM_CHOICES, findings_markdown, recognize
from dialogs.state import ChecklistOptions, DialogEnd, ItemStatus, Journal, LiveFindings, PromptSpec, turn_lang
from knowledge.loader import KnowledgeBase
from knowledge.models import Area

_STATUS: dict[str, ItemStatus] = {"done": "done", "fixed": "fixed", "open": "open", "skip": "skipped"}


class ChecklistDialog(ComponentDialog):
    """Shows each item of `area` with its fix, asks done / fixed / not yet / skip, and ends with a summary.

    Free text instead of an answer ends the walk and is routed as a new question by the main dialog.
    Subclasses only choose the area; the content comes from the knowledge base.
    """

    area: Area

    def __init__(self, kb: KnowledgeBase, journal: Journal, render: Renderer, live: LiveFindings | None = None) -> None:
        super().__init__(type(self).__name__)
        self._kb = kb
        self._journal = journal
        self._live = live
        self._render = render
        self.add_dialog(SpecPrompt(SpecPrompt.__name__, render))
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self._item_step, self._record_step]))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def _item_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = ChecklistOptions.model_validate(step.options or {"area": self.area})
        if not opts.swept:
            opts = await self._sweep(step, opts)
            if opts.index >= len(self._kb.area(opts.area)):
                return await self._finish(step, opts)
        step.values["options"] = opts.model_dump(mode="json")
        spec = PromptSpec(kind="item", area=opts.area, index=opts.index)
        return await step.prompt(SpecPrompt.__name__, spec_options(spec))

    async def _record_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = ChecklistOptions.model_validate(step.values["options"])
        activity = step.context.activity
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

    async def _finish(self, step: WaterfallStepContext, opts: ChecklistOptions) -> DialogTurnResult:
        await self._journal.record_checklist(step.context.activity.conversation.id, opts.area, opts.results)
        summary = PromptSpec(kind="summary", area=opts.area, results=opts.results)
        await step.context.send_activity(self._render(summary, step.context))
        return await step.end_dialog(DialogEnd().model_dump())

    async def _sweep(self, step: WaterfallStepContext, opts: ChecklistOptions) -> ChecklistOptions:
        """With credentials, run the area's checks first: show them, mark entries whose checks all passed as
        done, and walk only through the rest."""
        opts.swept = True
        if self._live is None or not self._live.configured:
            return opts
        await step.context.send_activity(Activity(type=ActivityTypes.typing))
        sweep = await self._live.sweep(area=opts.area.value)
        await step.context.send_activity(findings_markdown(sweep.results, turn_lang(step.context)))
        entries = self._kb.area(opts.area)
        for entry in entries:
            related = [r for r in sweep.results if entry.id in r.entries]
            if related and all(r.status.value == "pass" for r in related):
                opts.results[entry.id] = "done"
        while opts.index < len(entries) and entries[opts.index].id in opts.results:
            opts.index += 1
        return opts


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
