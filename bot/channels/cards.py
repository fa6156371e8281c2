"""Adaptive Cards (schema 1.5) built by pure functions from prompt specs and knowledge data.

Buttons are `Action.Execute` for Teams (Universal Actions: an `adaptiveCard/action` invoke that refreshes
the card in place) and `Action.Submit` elsewhere (Web Chat does not support `Action.Execute`). Every
button carries `{"choice": key, ...}` so a reply is recognised the same way whatever the channel. Every
card has `fallbackText`, and the activity carrying it has a plain-text summary for screen readers and
notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dialogs import messages
from dialogs.render import item_heading
from knowledge.models import Area, Entry, Lang

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"

#: status mark per checklist item: dialog outcomes and (later) live-check results
MARKS = {
    "done": "✅",
    "fixed": "🔧",
    "open": "❌",
    "skipped": "⏭️",
    "pass": "✅",
    "warn": "⚠️",
    "fail": "❌",
    "error": "❗",
    "pending": "⬜",
}

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
    blocks.append(_text(c.lead))
    for n, step in enumerate(c.steps, 1):
        blocks.append(_text(f"{n}. {step.text}", spacing="Small"))
        blocks.extend(_text(f"- {sub}", spacing="None") for sub in step.substeps)
    if c.note:
        blocks.append(_text(c.note, isSubtle=True, size="Small"))
    return blocks


def link_actions(entry: Entry, lang: Lang) -> list[dict[str, Any]]:
    """The entry's links as Action.OpenUrl buttons."""
    return [{"type": "Action.OpenUrl", "title": link.title, "url": str(link.url)} for link in entry.content(lang).links]


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
    """A checklist with a status mark per item: (status, text, evidence or None)."""
    body: list[dict[str, Any]] = [_text(title, weight="Bolder", size="Medium", style="heading")]
    for status, text, evidence in items:
        column = [_text(text, spacing="None")]
        if evidence:
            column.append(_text(evidence, isSubtle=True, size="Small", spacing="None"))
        body.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {"type": "Column", "width": "auto", "items": [_text(MARKS.get(status, "•"))]},
                    {"type": "Column", "width": "stretch", "items": column},
                ],
            }
        )
    fallback = title + ": " + "; ".join(f"{MARKS.get(s, '•')} {t}" for s, t, _ in items)
    return card(body, [], fallback, lang)


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
