"""Everything the assistant shows, as markdown: answers, checklist items and summaries, live findings, fix previews
and outcomes. Text channels show it as is; card channels use it as the card's plain-text summary."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant import messages
from assistant.presenters.marks import labelled
from knowledge.loader import KnowledgeBase
from knowledge.models import Area, Entry, Lang, Link
from knowledge.neighbours import Neighbour
from tenant.base import CheckResult
from tenant.remediation import MAX_RESUBMITS, RemediationOutcome, RemediationPlan, RemediationStep


def entry_markdown(entry: Entry, lang: Lang, *, heading: bool = True) -> str:
    """The entry as a user wants to read it: short lead, numbered steps, note, where it comes from, more links.
    An entry beyond the troubleshooting page says so, and from which doc, before its answer."""
    c = entry.content(lang)
    parts = [f"**{c.title}**"] if heading else []
    if entry.beyond_page:
        parts.append(f"_{beyond_page_line(entry, lang)}_")
    parts.append(c.lead)
    if c.steps:
        lines = []
        for n, step in enumerate(c.steps, 1):
            lines.append(f"{n}. {step.text}")
            lines.extend(f"    - {sub}" for sub in step.substeps)
        parts.append("\n".join(lines))
    if c.note:
        parts.append(f"_{c.note}_")
    source, *more = entry_links(entry, lang)
    parts.append(f"{messages.text('source', lang)}: [{source.title}]({source.url})")
    if more:
        links = ", ".join(f"[{link.title}]({link.url})" for link in more)
        parts.append(f"{messages.text('more_info', lang)}: {links}")
    return "\n\n".join(parts)


def entry_links(entry: Entry, lang: Lang) -> list[Link]:
    """Where the entry comes from first, then the docs it cites and the links it keeps, each address once."""
    seen: set[str] = set()
    out = []
    for link in (*entry.sources.of(lang), *entry.content(lang).links):
        if str(link.url) not in seen:
            seen.add(str(link.url))
            out.append(link)
    return out


def beyond_page_line(entry: Entry, lang: Lang) -> str:
    """ "Not from the troubleshooting page — from <doc>." for an entry beyond that page."""
    return messages.text("beyond_page", lang, doc=entry.sources.of(lang)[0].title)


def neighbour_markdown(neighbour: Neighbour, lang: Lang) -> str:
    """The polite pointer for a neighbouring topic this assistant does not cover, with Microsoft's page for it."""
    link = neighbour.link[lang]
    return messages.text("neighbour", lang, pointer=neighbour.pointer[lang], title=link.title, url=link.url)


_LINK = re.compile(r"\[([^\]\n]+)\]\((\S+?)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC = re.compile(r"(?<![\w/])_(?=\S)(.+?)(?<=\S)_(?!\w)", re.S)


def plain_text(markdown: str) -> str:
    """The markdown this module writes as plain text for clients that show no markdown: "[title](url)" becomes
    "title (url)", emphasis marks go, the numbered lines and indented bullets stay as they are."""
    text = _LINK.sub(r"\1 (\2)", markdown)
    return _ITALIC.sub(r"\1", _BOLD.sub(r"\1", text)).replace("`", "")


def numbered_choices(choices: Sequence[tuple[str, str]], lang: Lang) -> str:
    """A prompt's buttons as the numbered list a user can answer by typing (the dialogs accept the number)."""
    lines = [f"{n}. {title}" for n, (_, title) in enumerate(choices, 1)]
    return "\n".join([messages.text("choices_reply", lang), *lines])


def item_heading(entries: tuple[Entry, ...], area: Area, index: int, lang: Lang) -> str:
    """ "Area — step n of N: check line" for one checklist item (markdown bold on the prefix)."""
    check = entries[index].content(lang).check
    return messages.text(
        "item", lang, area=messages.area_name(area, lang), n=index + 1, total=len(entries), check=check
    )


def item_markdown(kb: KnowledgeBase, area: Area, index: int, lang: Lang) -> str:
    """One checklist item: its check line and the steps that fix it."""
    entries = kb.area(area)
    return f"{item_heading(entries, area, index, lang)}\n\n{entry_markdown(entries[index], lang, heading=False)}"


SUMMARY_GROUPS = {"done": "summary_ok", "fixed": "summary_ok", "open": "summary_open", "skipped": "summary_skipped"}


def summary_markdown(kb: KnowledgeBase, area: Area, results: dict[str, str], lang: Lang) -> str:
    """A checklist summary: what was confirmed, what is still open, what was skipped."""
    groups: dict[str, list[str]] = {"summary_ok": [], "summary_open": [], "summary_skipped": []}
    for entry in kb.area(area):
        status = results.get(entry.id, "skipped")
        line = f"- {labelled(status, lang)} — {entry.content(lang).check}"
        groups[SUMMARY_GROUPS.get(status, "summary_skipped")].append(line)
    lines = [messages.text("summary", lang, area=messages.area_name(area, lang))]
    for key, items in groups.items():
        if items:
            lines.append(f"**{messages.text(key, lang)}**\n" + "\n".join(items))
    lines.append(messages.text("summary_next" if groups["summary_open"] else "summary_all_ok", lang))
    return "\n\n".join(lines)


def findings_markdown(results: list[CheckResult], lang: Lang, *, heading: str | None = None) -> str:
    """Live-check findings as a short list in the turn's language, under `heading` (default: the live-checks
    heading); without a heading, when nothing could be checked, one honest line instead."""
    checked = [r for r in results if r.status.value in ("pass", "warn", "fail")]
    if not checked and heading is None:
        return messages.text("live_unavailable", lang, reason=_reasons(results, lang))
    lines = [_finding_line(r, lang) for r in results]
    return (heading or messages.text("live_heading", lang)) + "\n\n" + "\n".join(lines)


def _reasons(results: list[CheckResult], lang: Lang) -> str:
    return "; ".join(dict.fromkeys(r.text(lang)[1] for r in results)) or "-"


def _finding_line(result: CheckResult, lang: Lang) -> str:
    title, summary = result.text(lang)
    return f"- {labelled(result.status.value, lang)} — **{title}**: {summary}"


# --- remediation -------------------------------------------------------------------------------------------------


def step_markdown(step: RemediationStep, lang: Lang) -> str:
    """One remediation step, naming exactly what it touches (the URL by host only)."""
    events = ", ".join(f"`{e}`" for e in step.events)
    return messages.text(
        f"fix_step_{step.kind}", lang, flow=step.flow, run_id=step.run_id, host=step.host, events=events
    )


def plan_markdown(plan: RemediationPlan, lang: Lang) -> str:
    """The preview: a numbered list of the exact changes, then how to confirm."""
    steps = "\n".join(f"{n}. {step_markdown(step, lang)}" for n, step in enumerate(plan.steps, 1))
    if plan.skipped:
        steps += "\n\n" + messages.text("fix_skipped", lang, n=plan.skipped, limit=MAX_RESUBMITS)
    return messages.text("fix_preview", lang, steps=steps)


def outcome_markdown(outcome: RemediationOutcome, lang: Lang) -> str:
    """What execution did: "✅ OK" per applied step, "❌ Failed" with the reason for the one that failed."""
    head = messages.text("fix_done" if outcome.ok else "fix_failed", lang, not_run=outcome.not_run)
    lines = []
    for result in outcome.results:
        line = f"- {labelled('ok' if result.ok else 'broken', lang)} — {step_markdown(result.step, lang)}"
        lines.append(line if result.ok else f"{line}: {result.detail}")
    return "\n\n".join([head, "\n".join(lines), messages.text("fix_journaled", lang)])


def verification_heading(plan: RemediationPlan, verified: list[CheckResult], lang: Lang) -> str:
    """The heading over the checks re-run after a fix: the fixed finding is gone, still failing, or unverified."""
    own = next((r for r in verified if r.id == plan.check_id), None)
    status = own.status.value if own is not None else "error"
    if status in ("pass", "warn"):
        return messages.text("fix_verified", lang)
    if status == "fail":
        return messages.text("fix_still_failing", lang)
    return messages.text("fix_unverified", lang, reason=_reasons([own] if own else verified, lang))


def verified_order(plan: RemediationPlan, verified: list[CheckResult]) -> list[CheckResult]:
    """The re-run checks with the fixed finding's check first (stable: the rest keep declaration order)."""
    return sorted(verified, key=lambda r: r.id != plan.check_id)


def verification_markdown(plan: RemediationPlan, verified: list[CheckResult], lang: Lang) -> str:
    """After a fix, the checks it affects as found again, under a heading saying whether the fixed finding is gone,
    still failing, or could not be checked; the fixed finding's check first."""
    heading = verification_heading(plan, verified, lang)
    return findings_markdown(verified_order(plan, verified), lang, heading=heading)


def report_markdown(outcome: RemediationOutcome, plan: RemediationPlan, lang: Lang) -> str:
    """What a fix did and, when it changed something, what the affected checks find now, in one reply."""
    report = outcome_markdown(outcome, lang)
    if outcome.verified:
        report += "\n\n" + verification_markdown(plan, list(outcome.verified), lang)
    return report


def fix_offer_markdown(action: str, finding: str | None, lang: Lang, *, offered: bool = True) -> str:
    """The offer to fix one finding: what the fix does, for which finding; to a user who may not run it
    (`offered` False), who can and how to do it by hand instead."""
    name = messages.fix_text(action, "name", lang)
    if not offered:
        manual = messages.fix_text(action, "manual", lang)
        return messages.text("fix_elsewhere", lang, action=name, finding=finding or name, manual=manual)
    return messages.text("fix_offer", lang, action=name, finding=finding or name)
