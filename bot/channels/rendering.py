"""Channel-aware rendering of the dialogs' prompt specs: Adaptive Cards where the channel shows them.

Teams gets `Action.Execute` buttons (refreshed in place through the `adaptiveCard/action` invoke), Web Chat
and Direct Line get `Action.Submit`, and every other channel gets botbuilder's plain-text rendering.
The activity's `summary` carries a plain-text version for notifications and screen readers.
"""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from assistant.case import PromptSpec
from bot.channels import cards
from dialogs import messages
from dialogs.render import entry_markdown, item_markdown, prompt_choices, render_prompt, summary_markdown
from dialogs.state import turn_lang
from knowledge.loader import KnowledgeBase
from knowledge.models import Lang

# generic Direct Line clients get text with suggested actions (botbuilder's ChoiceFactory), not cards
CARD_CHANNELS = frozenset({"msteams", "webchat", "emulator"})


def wants_cards(channel_id: str | None) -> bool:
    """True for channels that render Adaptive Cards."""
    return channel_id in CARD_CHANNELS


def _plain(markdown: str) -> str:
    return markdown.replace("**", "").replace("_", "")


def build_card(kb: KnowledgeBase, spec: PromptSpec, lang: Lang, *, execute: bool) -> tuple[cards.Card, str]:
    """The card for a spec and its plain-text summary."""
    choices = prompt_choices(kb, spec, lang)
    if spec.kind == "answer" and spec.entry_id:
        entry = kb.get(spec.entry_id)
        summary = entry_markdown(entry, lang) + "\n\n" + messages.text("helped_q", lang)
        return cards.answer_card(entry, lang, choices, execute=execute), _plain(summary)
    if spec.kind == "item" and spec.area:
        card = cards.item_card(kb.area(spec.area), spec.area, spec.index, lang, choices, execute=execute)
        return card, _plain(item_markdown(kb, spec.area, spec.index, lang))
    if spec.kind == "summary" and spec.area:
        items = [(spec.results.get(e.id, "skipped"), e.content(lang).check, None) for e in kb.area(spec.area)]
        title = messages.text("summary", lang, area=messages.area_name(spec.area, lang)).replace("**", "")
        card = cards.checklist_card(title, items, lang)
        tail = "summary_next" if any(s == "open" for s, _, _ in items) else "summary_all_ok"
        card["body"].append(cards._text(messages.text(tail, lang).replace("**", "")))
        return card, _plain(summary_markdown(kb, spec.area, dict(spec.results), lang))
    *titles, (_, none_title) = choices
    heading = messages.clarify_heading(len(titles), lang)
    return cards.clarify_card(titles, lang, none_title, execute=execute), _plain(heading)


def card_activity(card: cards.Card, summary: str, lang: Lang) -> Activity:
    """A message carrying one Adaptive Card, with the summary for notifications and screen readers."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = summary
    activity.locale = "it-IT" if lang == "it" else "en-US"
    return activity


def render_activity(kb: KnowledgeBase, spec: PromptSpec, ctx: TurnContext) -> Activity:
    """The activity for a prompt spec on this turn's channel, in this turn's language."""
    channel = ctx.activity.channel_id
    if not wants_cards(channel):
        return render_prompt(kb, spec, ctx)
    lang = turn_lang(ctx)
    card, summary = build_card(kb, spec, lang, execute=channel == "msteams")
    return card_activity(card, summary, lang)


def welcome_activity(channel_id: str | None, lang: Lang) -> Activity:
    """The welcome: a card with one button per area where cards render, else text."""
    if not wants_cards(channel_id):
        return MessageFactory.text(messages.text("welcome", lang))
    return card_activity(
        cards.welcome_card(lang, execute=channel_id == "msteams"), messages.text("welcome", lang), lang
    )


def refreshed_card(kb: KnowledgeBase, data: dict[str, object], lang: Lang) -> cards.Card:
    """What a Teams card becomes once one of its buttons was used: its title and the choice, no buttons."""
    area = data.get("area")
    if isinstance(area, str) and data.get("card") is None:
        return cards.answered_card(messages.text("welcome", lang).split(".")[0], area, lang)
    kind, key = data.get("card"), str(data.get("choice", ""))
    if kind == "answer" and isinstance(data.get("entry"), str) and str(data["entry"]) in kb.by_id:
        spec = PromptSpec(kind="answer", entry_id=str(data["entry"]))
        title = kb.get(str(data["entry"])).content(lang).title
    elif kind == "item" and isinstance(data.get("area"), str) and isinstance(data.get("index"), int):
        spec = PromptSpec(kind="item", area=data["area"], index=data["index"])
        title = kb.area(spec.area)[spec.index].content(lang).check if spec.area else ""
    else:
        spec = PromptSpec(kind="clarify", alternatives=[key] if key in kb.by_id else [])
        title = messages.text("clarify", lang)
    picked = dict(prompt_choices(kb, spec, lang)).get(key, key)
    return cards.answered_card(title, picked, lang)
