"""Turn knowledge entries and prompt specs into chat activities, in the turn's language.

The same spec renders again on a re-prompt, so after "italiano" the pending question (and the
answer it belongs to) is shown again in Italian. Choices render per channel through botbuilder's
`ChoiceFactory` (suggested actions on Web Chat, a hero card on Teams, inline text elsewhere).
"""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.dialogs.choices import Choice, ChoiceFactory
from botbuilder.schema import Activity, CardAction

from assistant.case import PromptSpec
from dialogs import messages
from dialogs.state import turn_lang
from knowledge.loader import KnowledgeBase
from knowledge.models import Area, Entry, Lang
from tenant.base import CheckResult
from tenant.remediation import MAX_RESUBMITS, RemediationOutcome, RemediationPlan, RemediationStep

#: reply words accepted for each choice key (casefolded, accents as typed or stripped)
CHOICE_WORDS: dict[str, frozenset[str]] = {
    "yes": frozenset(
        {
            "yes",
            "y",
            "yeah",
            "yep",
            "sì",
            "si",
            "ok",
            "helped",
            "it helped",
            "yes, it helped",
            "sì, utile",
            "si, utile",
            "utile",
            "certo",
            "👍",
        }
    ),
    "no": frozenset(
        {"no", "n", "nope", "not really", "non proprio", "per niente", "👎", "no, cancel", "no, annulla", "no thanks"}
    ),
    "done": frozenset(
        {
            "done",
            "yes",
            "y",
            "yes, done",
            "ok",
            "in place",
            "fatto",
            "sì",
            "si",
            "sì, fatto",
            "si, fatto",
            "confirmed",
            "confermato",
            "a posto",
        }
    ),
    "fixed": frozenset(
        {
            "fixed",
            "fixed it",
            "fixed it now",
            "fixed now",
            "sistemato",
            "sistemato ora",
            "risolto",
            "corretto",
        }
    ),
    "open": frozenset({"not yet", "no", "n", "open", "not sure", "non ancora", "non so", "aperto", "ancora no"}),
    "skip": frozenset({"skip", "next", "salta", "avanti", "dopo", "later"}),
    "none": frozenset({"none", "none of these", "neither", "nessuna", "nessuna di queste", "nessuno", "altro"}),
    "fix": frozenset(
        {"fix it for me", "fix it", "fix", "yes", "y", "ok", "sì", "si", "sistemalo tu", "sistemalo", "correggi"}
    ),
    "confirm": frozenset(
        {
            "confirm",
            "yes, confirm",
            "yes",
            "y",
            "do it",
            "go ahead",
            "conferma",
            "confermo",
            "sì, conferma",
            "si, conferma",
            "sì",
            "si",
            "procedi",
        }
    ),
}

ITEM_CHOICES = ("done", "fixed", "open", "skip")
FEEDBACK_CHOICES = ("yes", "no")
FIX_CHOICES = ("fix", "no")
CONFIRM_CHOICES = ("confirm", "no")


def _choice_title(key: str, lang: Lang) -> str:
    return {
        "yes": messages.text("helped_yes", lang),
        "no": messages.text("helped_no", lang),
        "done": messages.text("choice_done", lang),
        "fixed": messages.text("choice_fixed", lang),
        "open": messages.text("choice_open", lang),
        "skip": messages.text("choice_skip", lang),
        "none": messages.text("clarify_none", lang),
    }[key]


def choice(value: str, title: str) -> Choice:
    """A choice whose button sends `title` back as the user's reply."""
    return Choice(value=value, action=CardAction(type="imBack", title=title, value=title))


def entry_markdown(entry: Entry, lang: Lang, *, heading: bool = True) -> str:
    """The entry as a user wants to read it: short lead, numbered steps, note, links."""
    c = entry.content(lang)
    parts = [f"**{c.title}**"] if heading else []
    parts.append(c.lead)
    if c.steps:
        lines = []
        for n, step in enumerate(c.steps, 1):
            lines.append(f"{n}. {step.text}")
            lines.extend(f"    - {sub}" for sub in step.substeps)
        parts.append("\n".join(lines))
    if c.note:
        parts.append(f"_{c.note}_")
    if c.links:
        links = ", ".join(f"[{link.title}]({link.url})" for link in c.links)
        parts.append(f"{messages.text('more_info', lang)}: {links}")
    return "\n\n".join(parts)


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
        mark = {"done": "✅", "fixed": "🔧", "open": "❌"}.get(status, "⏭️")
        groups[SUMMARY_GROUPS.get(status, "summary_skipped")].append(f"- {mark} {entry.content(lang).check}")
    lines = [messages.text("summary", lang, area=messages.area_name(area, lang))]
    for key, items in groups.items():
        if items:
            lines.append(f"**{messages.text(key, lang)}**\n" + "\n".join(items))
    lines.append(messages.text("summary_next" if groups["summary_open"] else "summary_all_ok", lang))
    return "\n\n".join(lines)


def prompt_choices(kb: KnowledgeBase, spec: PromptSpec, lang: Lang) -> list[tuple[str, str]]:
    """The (key, button title) pairs a prompt offers."""
    if spec.kind == "answer":
        return [(k, _choice_title(k, lang)) for k in FEEDBACK_CHOICES]
    if spec.kind == "item":
        return [(k, _choice_title(k, lang)) for k in ITEM_CHOICES]
    if spec.kind == "clarify":
        titles = [(e, _short(kb.get(e).content(lang).title)) for e in spec.alternatives]
        return [*titles, ("none", _choice_title("none", lang))]
    return []


def render_prompt(kb: KnowledgeBase, spec: PromptSpec, ctx: TurnContext) -> Activity:
    """The plain-text activity for a prompt spec in the turn's language, choices fitted by botbuilder's
    ChoiceFactory (inline text, suggested actions or a hero card, per channel)."""
    lang = turn_lang(ctx)
    if spec.kind == "summary" and spec.area:
        activity = Activity(type="message", text=summary_markdown(kb, spec.area, dict(spec.results), lang))
        activity.locale = "it-IT" if lang == "it" else "en-US"
        return activity
    choices = [choice(k, t) for k, t in prompt_choices(kb, spec, lang)]
    if spec.kind == "answer" and spec.entry_id:
        body = entry_markdown(kb.get(spec.entry_id), lang)
        question = messages.text("helped_q", lang)
    elif spec.kind == "item" and spec.area:
        body = item_markdown(kb, spec.area, spec.index, lang)
        question = messages.text("item_q", lang)
    else:
        body = messages.clarify_heading(len(spec.alternatives), lang)  # the choices list the titles
        question = ""
    text = f"{body}\n\n{question}".strip()
    activity = ChoiceFactory.for_channel(ctx.activity.channel_id, choices, text)
    activity.locale = "it-IT" if lang == "it" else "en-US"
    return activity


def _short(title: str, limit: int = 60) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def recognize(reply: str | None, value: object, keys: tuple[str, ...] | list[str]) -> str | None:
    """Which choice key a reply picks: a card submit value, a number, a button title or a known word."""
    if isinstance(value, dict):
        picked = value.get("choice")
        if isinstance(picked, str) and picked in keys:
            return picked
    if not reply:
        return None
    said = reply.strip().casefold().rstrip(".!")
    if said.isdigit() and 1 <= int(said) <= len(keys):
        return keys[int(said) - 1]
    for key in keys:
        if said == key or said in CHOICE_WORDS.get(key, frozenset()):
            return key
    return None


_MARKS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "skipped": "⏭️", "error": "❗"}


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
    return f"- {_MARKS[result.status.value]} **{title}**: {summary}"


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
    """What execution did: ✅ per applied step, ❌ with the reason for the one that failed."""
    head = messages.text("fix_done" if outcome.ok else "fix_failed", lang, not_run=outcome.not_run)
    lines = []
    for result in outcome.results:
        line = f"- {'✅' if result.ok else '❌'} {step_markdown(result.step, lang)}"
        lines.append(line if result.ok else f"{line}: {result.detail}")
    return "\n\n".join([head, "\n".join(lines), messages.text("fix_journaled", lang)])


def verification_markdown(plan: RemediationPlan, verified: list[CheckResult], lang: Lang) -> str:
    """After a fix, the checks it affects as found again, under a heading saying whether the fixed finding is gone,
    still failing, or could not be checked; the fixed finding's check first."""
    own = next((r for r in verified if r.id == plan.check_id), None)
    status = own.status.value if own is not None else "error"
    if status in ("pass", "warn"):
        heading = messages.text("fix_verified", lang)
    elif status == "fail":
        heading = messages.text("fix_still_failing", lang)
    else:
        heading = messages.text("fix_unverified", lang, reason=_reasons([own] if own else verified, lang))
    ordered = sorted(verified, key=lambda r: r.id != plan.check_id)  # stable: the rest keep declaration order
    return findings_markdown(ordered, lang, heading=heading)


def render_remediation(spec: PromptSpec, ctx: TurnContext) -> Activity:
    """The fix offer or the confirmation question, with buttons fitted per channel by botbuilder's ChoiceFactory
    (imBack: a button sends its title back as text, so every channel answers the same way)."""
    lang = turn_lang(ctx)
    action = spec.action or ""
    if spec.kind == "fix_confirm" and spec.plan is not None:
        text = plan_markdown(RemediationPlan.model_validate(spec.plan), lang)
        keys = [("confirm", "fix_confirm_yes"), ("no", "fix_confirm_no")]
    else:
        name = messages.fix_text(action, "name", lang)
        text = messages.text("fix_offer", lang, action=name, finding=spec.finding or action)
        keys = [("fix", "fix_yes"), ("no", "fix_no")]
    choices = [choice(key, messages.text(title, lang)) for key, title in keys]
    activity = ChoiceFactory.for_channel(ctx.activity.channel_id, choices, text)
    activity.locale = "it-IT" if lang == "it" else "en-US"
    return activity
