"""Adaptive Cards (schema 1.5) built by pure functions from prompt specs, knowledge data and live findings.

Buttons are `Action.Execute` for Teams (Universal Actions: an `adaptiveCard/action` invoke that refreshes
the card in place) and `Action.Submit` elsewhere (Web Chat does not support `Action.Execute`). Every
button carries `{"choice": key, ...}` so a reply is recognised the same way whatever the channel. Every
card has `fallbackText`, and the activity carrying it has a plain-text summary for screen readers and
notifications.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from assistant import messages
from assistant.presenters.markdown import (
    beyond_page_line,
    entry_links,
    item_heading,
    step_markdown,
    verification_heading,
    verified_order,
)
from assistant.presenters.marks import labelled
from knowledge.models import Area, Entry, Lang
from tenant.base import CheckResult
from tenant.remediation import MAX_RESUBMITS, RemediationOutcome, RemediationPlan

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"

Card = dict[str, Any]


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def button(title: str, data: dict[str, Any], *, execute: bool, verb: str = "choose") -> dict[str, Any]:
    """A card button: Action.Execute (Teams) or Action.Submit, both carrying `data`."""
    if execute:
        return {"type": "Action.Execute", "title": title, "verb": verb, "data": data}
    return {"type": "Action.Submit", "title": title, "data": data}


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]], fallback: str, lang: Lang) -> Card:
    """Wrap a body and actions into a 1.5 card with its fallback text."""
    out: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "lang": lang,
        "fallbackText": fallback,
        "body": body,
    }
    if actions:
        out["actions"] = actions
    return out


def entry_blocks(entry: Entry, lang: Lang, *, heading: bool = True) -> list[dict[str, Any]]:
    """An entry as card blocks: title, lead, numbered steps (sub-steps indented), note, links."""
    c = entry.content(lang)
    blocks = [_text(c.title, weight="Bolder", size="Medium", style="heading")] if heading else []
    if entry.beyond_page:
        blocks.append(_text(beyond_page_line(entry, lang), isSubtle=True, size="Small", spacing="None"))
    blocks.append(_text(c.lead))
    blocks.extend(step_row(n, step.text, step.substeps) for n, step in enumerate(c.steps, 1))
    if c.note:
        blocks.append(_text(c.note, isSubtle=True, size="Small"))
    return blocks


def step_row(number: int, text: str, substeps: Sequence[str] = ()) -> dict[str, Any]:
    """One numbered step as a row: its number in a narrow column, its text and sub-steps (bulleted, indented under
    the text) beside it.

    Not a markdown list: each TextBlock is rendered as markdown on its own, so "2. …" in a block of its own became a
    one-item list that Teams and Web Chat number "1." again, and a "- sub" block between two steps broke the list.
    The number is bold text, which no renderer reads as a list marker.
    """
    column = [_text(text, spacing="None"), *(_text(f"•\u00a0{sub}", spacing="None") for sub in substeps)]
    return {
        "type": "ColumnSet",
        "spacing": "Small",
        "columns": [
            {"type": "Column", "width": "auto", "items": [_text(f"**{number}.**", spacing="None")]},
            {"type": "Column", "width": "stretch", "items": column},
        ],
    }


def link_actions(entry: Entry, lang: Lang) -> list[dict[str, Any]]:
    """Where the entry comes from and the docs it cites, as Action.OpenUrl buttons (each address once)."""
    return [{"type": "Action.OpenUrl", "title": link.title, "url": str(link.url)} for link in entry_links(entry, lang)]


def choice_actions(choices: list[tuple[str, str]], *, execute: bool, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """One button per (key, title); data = {"choice": key, **extra}."""
    return [button(title, {"choice": key, **extra}, execute=execute) for key, title in choices]


def answer_card(entry: Entry, lang: Lang, choices: list[tuple[str, str]], *, execute: bool) -> Card:
    """An answer with its steps and the "did this help?" buttons."""
    body = [*entry_blocks(entry, lang), _text(messages.text("helped_q", lang), weight="Bolder", spacing="Medium")]
    actions = choice_actions(choices, execute=execute, extra={"card": "answer", "entry": entry.id})
    return card(body, actions + link_actions(entry, lang), entry.content(lang).title, lang)


def item_card(
    entries: tuple[Entry, ...], area: Area, index: int, lang: Lang, choices: list[tuple[str, str]], *, execute: bool
) -> Card:
    """One checklist item: progress, the check line, the fix, and done / fixed / not yet / skip."""
    entry = entries[index]
    head = item_heading(entries, area, index, lang)
    body = [_text(head.replace("**", ""), weight="Bolder", style="heading"), *entry_blocks(entry, lang, heading=False)]
    body.append(_text(messages.text("item_q", lang), weight="Bolder", spacing="Medium"))
    extra = {"card": "item", "area": area.value, "index": index}
    return card(body, choice_actions(choices, execute=execute, extra=extra), head.replace("**", ""), lang)


def clarify_card(titles: list[tuple[str, str]], lang: Lang, none_title: str, *, execute: bool) -> Card:
    """The candidates of a clarifying question, one button each, plus "none of these"."""
    heading = messages.clarify_heading(len(titles), lang)
    body = [_text(heading, weight="Bolder")]
    choices = [*titles, ("none", none_title)]
    actions = [
        {**button(title, {"choice": key, "card": "clarify"}, execute=execute), "style": "default"}
        for key, title in choices
    ]
    return card(body, actions, heading, lang)


def checklist_card(title: str, items: Sequence[tuple[str, str, str | None]], lang: Lang) -> Card:
    """A checklist with a status (mark and word) per item: (status, text, evidence or None)."""
    body: list[dict[str, Any]] = [_text(title, weight="Bolder", size="Medium", style="heading")]
    for status, text, evidence in items:
        column = [_text(text, spacing="None")]
        if evidence:
            column.append(_text(evidence, isSubtle=True, size="Small", spacing="None"))
        body.append(_status_row(status, column, lang))
    fallback = title + ": " + "; ".join(f"{labelled(s, lang)} — {t}" for s, t, _ in items)
    return card(body, [], fallback, lang)


#: the status column's colour per status (the word says it too: colour is never the only signal)
_COLOURS = {"pass": "Good", "ok": "Good", "done": "Good", "fixed": "Good", "warn": "Warning", "fail": "Attention"}
_COLOURS |= {"broken": "Attention", "open": "Attention", "error": "Warning"}


def _status_row(status: str, items: list[dict[str, Any]], lang: Lang) -> dict[str, Any]:
    """A row of a checklist: the status (mark and word) in a narrow column, `items` beside it."""
    word = _text(labelled(status, lang), spacing="None", color=_COLOURS.get(status, "Default"))
    return {
        "type": "ColumnSet",
        "columns": [
            {"type": "Column", "width": 1, "items": [word]},
            {"type": "Column", "width": 3, "items": items},
        ],
    }


def welcome_card(lang: Lang, *, execute: bool) -> Card:
    """The welcome with one button per area."""
    actions = [
        button(messages.area_name(area, lang), {"area": area.value}, execute=execute, verb="area") for area in Area
    ]
    return card([_text(messages.text("welcome", lang))], actions, messages.text("welcome", lang), lang)


def answered_card(original_title: str, picked_title: str, lang: Lang) -> Card:
    """What a card becomes after its button was used in Teams (refreshed in place, buttons gone)."""
    return card(
        [_text(original_title, weight="Bolder"), _text(f"✔ {picked_title}", isSubtle=True)],
        [],
        f"{original_title}: {picked_title}",
        lang,
    )


# --- live findings and fixes -------------------------------------------------------------------------------------


def _plain(markdown: str) -> str:
    return markdown.replace("**", "").replace("`", "")


def _evidence_value(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
    text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:299] + "…"


def _evidence(result: CheckResult, lang: Lang) -> dict[str, Any]:
    """The finding's evidence (ids, names, values; never secrets), behind a button that shows it under the row."""
    facts = [
        {"title": k.replace("_", " ").capitalize(), "value": _evidence_value(v)} for k, v in result.evidence.items()
    ]
    shown = {"type": "AdaptiveCard", "body": [{"type": "FactSet", "facts": facts}]}
    return {"type": "Action.ShowCard", "title": messages.text("findings_evidence", lang), "card": shown}


def finding_rows(
    results: Sequence[CheckResult], lang: Lang, *, offers: Sequence[str] = (), execute: bool = False
) -> list[dict[str, Any]]:
    """One row per check: its status (mark and word) in a narrow column, the title in bold and the summary beside
    it, then its evidence on demand and, for a failed finding whose fix is in `offers`, the fix as a button."""
    rows = []
    for result in results:
        title, summary = result.text(lang)
        actions = [_evidence(result, lang)] if result.evidence else []
        action = result.fix.action if result.fix else None
        if action and action in offers and result.status.value == "fail":
            data = {"choice": "fix", "card": "fix_offer", "action": action}
            actions.append(button(messages.text("fix_yes", lang), data, execute=execute))
        text = [_text(title, weight="Bolder", spacing="None"), _text(summary, spacing="None")]
        items: list[dict[str, Any]] = [_status_row(result.status.value, text, lang)]
        if actions:
            items.append({"type": "ActionSet", "actions": actions})
        rows.append({"type": "Container", "separator": True, "items": items})
    return rows


def findings_card(
    results: Sequence[CheckResult],
    heading: str,
    fallback: str,
    lang: Lang,
    *,
    offers: Sequence[str] = (),
    execute: bool = False,
) -> Card:
    """Live-check findings as a checklist: a Status column, each check's title and what it found, its evidence on
    demand, and the fix as a button where it is offered."""
    header = [messages.text("findings_status", lang), messages.text("findings_check", lang)]
    columns = [
        {"type": "Column", "width": w, "items": [_text(h, weight="Bolder", isSubtle=True)]}
        for w, h in zip((1, 3), header, strict=True)
    ]
    body = [
        _text(_plain(heading), weight="Bolder", style="heading"),
        {"type": "ColumnSet", "columns": columns},
        *finding_rows(results, lang, offers=offers, execute=execute),
    ]
    return card(body, [], fallback, lang)


def fix_offer_card(text: str, choices: list[tuple[str, str]], action: str, lang: Lang, *, execute: bool) -> Card:
    """The offer to fix a finding, with "Fix it for me" / "No, thanks" buttons."""
    actions = choice_actions(choices, execute=execute, extra={"card": "fix_offer", "action": action})
    return card([_text(text)], actions, _plain(text), lang)


def fix_confirm_card(
    plan: RemediationPlan, choices: list[tuple[str, str]], fallback: str, lang: Lang, *, execute: bool
) -> Card:
    """The preview of exactly what a fix changes, one numbered step per line, and confirm / cancel buttons."""
    steps = "\n".join(f"{n}. {_plain(step_markdown(step, lang))}" for n, step in enumerate(plan.steps, 1))
    body = [_text(messages.text("fix_preview_title", lang), weight="Bolder", style="heading"), _text(steps)]
    if plan.skipped:
        body.append(_text(messages.text("fix_skipped", lang, n=plan.skipped, limit=MAX_RESUBMITS), isSubtle=True))
    body.append(_text(messages.text("fix_preview_confirm", lang), weight="Bolder", spacing="Medium"))
    actions = choice_actions(choices, execute=execute, extra={"card": "fix_confirm", "action": plan.action})
    return card(body, actions, fallback, lang)


def fix_report_card(outcome: RemediationOutcome, plan: RemediationPlan, fallback: str, lang: Lang) -> Card:
    """What a fix did, step by step, then the affected checks as re-run right after the change."""
    head = messages.text("fix_done" if outcome.ok else "fix_failed", lang, not_run=outcome.not_run)
    body: list[dict[str, Any]] = [_text(_plain(head), weight="Bolder", style="heading")]
    for result in outcome.results:
        line = f"{labelled('ok' if result.ok else 'broken', lang)} — {_plain(step_markdown(result.step, lang))}"
        body.append(_text(line if result.ok else f"{line}: {result.detail}"))
    if outcome.verified:
        verified = list(outcome.verified)
        heading = verification_heading(plan, verified, lang)
        body.append(_text(_plain(heading), weight="Bolder", spacing="Medium"))
        body.extend(finding_rows(verified_order(plan, verified), lang))
    body.append(_text(_plain(messages.text("fix_journaled", lang)), isSubtle=True, size="Small"))
    return card(body, [], fallback, lang)
