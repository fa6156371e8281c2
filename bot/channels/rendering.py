"""One renderer per channel for everything a dialog shows: answers, checklist items and summaries, clarifying
questions, live findings, fix offers, previews and reports.

Teams, Web Chat and the Emulator get Adaptive Cards (`assistant.presenters.cards`): Teams with `Action.Execute`
buttons (refreshed in place through the `adaptiveCard/action` invoke), the others with `Action.Submit`. Every other
channel gets markdown (`assistant.presenters.markdown`) with its choices fitted by botbuilder's `ChoiceFactory`
(suggested actions, a hero card or inline text). A card activity's `summary` and its card's `fallbackText` carry the
whole of what the card shows as plain text — lead, numbered steps with their bullets, links, and the buttons as a
numbered list the dialogs accept as typed replies — for notifications, screen readers and clients without cards.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.dialogs.choices import Choice, ChoiceFactory, ChoiceFactoryOptions
from botbuilder.schema import Activity, CardAction

from assistant import messages
from assistant.case import PromptSpec
from assistant.presenters import cards
from assistant.presenters import markdown as md
from assistant.presenters.choices import prompt_choices
from assistant.presenters.handoff import HANDOFF_KINDS, handoff_card, handoff_choices, handoff_markdown
from assistant.presenters.views import Findings, FixReport, View
from dialogs.state import conversation_crm, turn_lang
from knowledge.crm import CRM_NAMES, Crm, crm_words
from knowledge.loader import KnowledgeBase
from knowledge.models import Lang

# generic Direct Line clients get text with suggested actions (botbuilder's ChoiceFactory), not cards
CARD_CHANNELS = frozenset({"msteams", "webchat", "emulator"})
_FIX_KEYS = {
    "fix_offer": (("fix", "fix_yes"), ("no", "fix_no")),
    "fix_confirm": (("confirm", "fix_confirm_yes"), ("no", "fix_confirm_no")),
}


def wants_cards(channel_id: str | None) -> bool:
    """True for channels that render Adaptive Cards."""
    return channel_id in CARD_CHANNELS


def _fallback(markdown: str, lang: Lang, choices: Sequence[tuple[str, str]] = ()) -> str:
    """What a card shows, as plain text, with its buttons as a numbered list."""
    text = md.plain_text(markdown)
    return f"{text}\n\n{md.numbered_choices(choices, lang)}" if choices else text


def _locale(activity: Activity, lang: Lang) -> Activity:
    activity.locale = "it-IT" if lang == "it" else "en-US"
    return activity


def _fix_choices(spec: PromptSpec, lang: Lang) -> list[tuple[str, str]]:
    """The buttons of a fix prompt; none on an offer to a user who may not run the fix (`fix_offered` False)."""
    if spec.kind == "fix_offer" and not spec.fix_offered:
        return []
    return [(key, messages.text(title, lang)) for key, title in _FIX_KEYS[spec.kind]]


class TextRenderer:
    """Markdown, with choices as botbuilder fits them to the channel (imBack: a button sends its title back as text,
    so every channel answers the same way)."""

    def __init__(self, kb: KnowledgeBase, channel_id: str | None) -> None:
        self._kb = kb
        self._channel = channel_id

    def render(self, view: View, lang: Lang) -> Activity:
        """The activity showing `view` in `lang`."""
        if isinstance(view, Findings):
            return _locale(MessageFactory.text(md.findings_markdown(list(view.results), lang)), lang)
        if isinstance(view, FixReport):
            return _locale(MessageFactory.text(md.report_markdown(view.outcome, view.plan, lang)), lang)
        if view.kind == "summary" and view.area:
            text = md.summary_markdown(self._kb, view.area, dict(view.results), lang)
            return _locale(Activity(type="message", text=text), lang)
        text, choices = self._prompt(view, lang)
        buttons = [Choice(value=k, action=CardAction(type="imBack", title=t, value=t)) for k, t in choices]
        word = messages.text("choices_or", lang)
        joined = ChoiceFactoryOptions(inline_or=f" {word} ", inline_or_more=f", {word} ")
        return _locale(ChoiceFactory.for_channel(self._channel, buttons, text, options=joined), lang)

    def _prompt(self, spec: PromptSpec, lang: Lang) -> tuple[str, list[tuple[str, str]]]:
        if spec.kind in HANDOFF_KINDS:
            return handoff_markdown(self._kb, spec, lang), handoff_choices(spec, lang)
        if spec.kind in _FIX_KEYS:
            return _fix_text(spec, lang), _fix_choices(spec, lang)
        if spec.kind == "crm_ask":
            return messages.text("crm_ask", lang), prompt_choices(self._kb, spec, lang)
        if spec.kind == "answer" and spec.entry_id:
            body = md.entry_markdown(self._kb.get(spec.entry_id), lang)
            question = messages.text("helped_q", lang)
        elif spec.kind == "item" and spec.area:
            body = md.item_markdown(self._kb, spec.area, spec.index, lang)
            question = messages.text("item_q", lang)
        else:
            body = messages.clarify_heading(len(spec.alternatives), lang)  # the choices list the titles
            question = ""
        return f"{body}\n\n{question}".strip(), prompt_choices(self._kb, spec, lang)


def _fix_text(spec: PromptSpec, lang: Lang) -> str:
    if spec.kind == "fix_confirm" and spec.plan is not None:
        return md.plan_markdown(spec.plan, lang)
    return md.fix_offer_markdown(spec.action or "", spec.finding, lang, offered=spec.fix_offered)


class CardRenderer:
    """Adaptive Cards, with `Action.Execute` buttons on Teams and `Action.Submit` elsewhere."""

    def __init__(self, kb: KnowledgeBase, *, execute: bool) -> None:
        self._kb = kb
        self._execute = execute

    def render(self, view: View, lang: Lang) -> Activity:
        """The activity showing `view` in `lang`: one card, or one line of text when there is nothing to tabulate."""
        if isinstance(view, Findings):
            results = list(view.results)
            text = md.findings_markdown(results, lang)
            if not any(r.status.value in ("pass", "warn", "fail") for r in results):
                return _locale(MessageFactory.text(text), lang)  # nothing could be checked: one honest line
            heading, plain = messages.text("live_heading", lang), md.plain_text(text)
            card = cards.findings_card(results, heading, plain, lang, offers=view.offers, execute=self._execute)
            return card_activity(card, plain, lang)
        if isinstance(view, FixReport):
            text = md.plain_text(md.report_markdown(view.outcome, view.plan, lang))
            return card_activity(cards.fix_report_card(view.outcome, view.plan, text, lang), text, lang)
        card, summary = self.build(view, lang)
        return card_activity(card, summary, lang)

    def build(self, spec: PromptSpec, lang: Lang) -> tuple[cards.Card, str]:
        """The card for a prompt spec and its plain-text fallback (the whole card, buttons numbered)."""
        kb, execute = self._kb, self._execute
        if spec.kind in HANDOFF_KINDS:
            fallback = _fallback(handoff_markdown(kb, spec, lang), lang, handoff_choices(spec, lang))
            return handoff_card(kb, spec, lang, execute=execute), fallback
        if spec.kind in _FIX_KEYS:
            choices = _fix_choices(spec, lang)
            fallback = _fallback(_fix_text(spec, lang), lang, choices)
            if spec.kind == "fix_confirm" and spec.plan is not None:
                return cards.fix_confirm_card(spec.plan, choices, fallback, lang, execute=execute), fallback
            return cards.fix_offer_card(
                _fix_text(spec, lang), choices, spec.action or "", lang, execute=execute
            ), fallback
        choices = prompt_choices(kb, spec, lang)
        if spec.kind == "crm_ask":
            text = messages.text("crm_ask", lang)
            actions = cards.choice_actions(choices, execute=execute, extra={"card": "crm_ask"})
            fallback = _fallback(text, lang, choices)
            return cards.card([cards._text(text)], actions, fallback, lang), fallback
        if spec.kind == "answer" and spec.entry_id:
            entry = kb.get(spec.entry_id)
            text = md.entry_markdown(entry, lang) + "\n\n" + messages.text("helped_q", lang)
            return cards.answer_card(entry, lang, choices, execute=execute), _fallback(text, lang, choices)
        if spec.kind == "item" and spec.area:
            card = cards.item_card(kb.area(spec.area), spec.area, spec.index, lang, choices, execute=execute)
            text = md.item_markdown(kb, spec.area, spec.index, lang) + "\n\n" + messages.text("item_q", lang)
            return card, _fallback(text, lang, choices)
        if spec.kind == "summary" and spec.area:
            items = [(spec.results.get(e.id, "skipped"), e.content(lang).check, None) for e in kb.area(spec.area)]
            title = messages.text("summary", lang, area=messages.area_name(spec.area, lang)).replace("**", "")
            card = cards.checklist_card(title, items, lang)
            tail = "summary_next" if any(s == "open" for s, _, _ in items) else "summary_all_ok"
            card["body"].append(cards._text(messages.text(tail, lang).replace("**", "")))
            return card, _fallback(md.summary_markdown(kb, spec.area, dict(spec.results), lang), lang)
        *titles, (_, none_title) = choices
        heading = messages.clarify_heading(len(titles), lang)
        return cards.clarify_card(titles, lang, none_title, execute=execute), _fallback(heading, lang, choices)


Renderer = TextRenderer | CardRenderer


def renderer_for(kb: KnowledgeBase, channel_id: str | None) -> Renderer:
    """The renderer of a channel: cards where they render, text elsewhere."""
    if wants_cards(channel_id):
        return CardRenderer(kb, execute=channel_id == "msteams")
    return TextRenderer(kb, channel_id)


def card_activity(card: cards.Card, summary: str, lang: Lang) -> Activity:
    """A message carrying one Adaptive Card, with the summary for notifications and screen readers; the card's
    `fallbackText` is the same text, so a client that cannot render the card shows all of it.

    Not `text`: Web Chat and Teams show an activity's text beside its card, so the answer would read twice."""
    card["fallbackText"] = summary
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = summary
    return _locale(activity, lang)


def render_activity(kb: KnowledgeBase, view: View, ctx: TurnContext) -> Activity:
    """The activity for `view` on this turn's channel, in this turn's language (the dialogs' `Renderer`), with
    the data's `<CRM>` written as the conversation's CRM (or a neutral word)."""
    lang = turn_lang(ctx)
    return _crm_named(renderer_for(kb, ctx.activity.channel_id).render(view, lang), conversation_crm(ctx), lang)


class ChannelRenderer:
    """`render_activity` for one knowledge base, with each answer rendered once per entry, language, CRM and channel.

    An FAQ turn shows one entry's answer, and rendering it (the markdown, the card and its plain-text fallback, the
    `<CRM>` words written into every string of them) took 0.03 ms as text and 0.13 ms as a card, the same work for
    every user who asks: the result depends only on the cache key, the knowledge base being loaded once per
    process. Each call gets its own top-level copy (sending assigns the addressing fields on a copy of its own
    too); the nested parts (card, buttons) are shared and never changed once built: what a channel or the
    transcript gets is the JSON snapshot taken when the reply goes out (`bot/sdk/turn_context.py`). Bounded: a
    channel id is whatever the client says.
    """

    def __init__(self, kb: KnowledgeBase, *, maxsize: int = 512) -> None:
        self._kb = kb
        self._answer = functools.lru_cache(maxsize=maxsize)(self._render_answer)

    def __call__(self, view: View, ctx: TurnContext) -> Activity:
        """The activity for `view` on this turn's channel, in this turn's language, with the conversation's CRM."""
        lang, crm = turn_lang(ctx), conversation_crm(ctx)
        if isinstance(view, PromptSpec) and view.kind == "answer" and view.entry_id:
            # an answer reads nothing of its spec but the entry id (`TextRenderer._prompt`, `CardRenderer.build`)
            return _fresh(self._answer(view.entry_id, lang, crm, ctx.activity.channel_id))
        return _crm_named(renderer_for(self._kb, ctx.activity.channel_id).render(view, lang), crm, lang)

    def _render_answer(self, entry_id: str, lang: Lang, crm: Crm | None, channel_id: str | None) -> Activity:
        spec = PromptSpec(kind="answer", entry_id=entry_id)
        return _crm_named(renderer_for(self._kb, channel_id).render(spec, lang), crm, lang)


def _fresh(activity: Activity) -> Activity:
    """A top-level copy of `activity` (its fields' objects shared), without msrest's or `copy`'s machinery."""
    clone: Activity = activity.__class__.__new__(activity.__class__)
    clone.__dict__.update(activity.__dict__)
    return clone


def _crm_named(activity: Activity, crm: Crm | None, lang: Lang) -> Activity:
    """`activity` with `<CRM>` replaced in its text, summary and cards (no text reaches a user with it)."""
    activity.text = _named(activity.text, crm, lang)
    activity.summary = _named(activity.summary, crm, lang)
    for attachment in activity.attachments or ():
        attachment.content = _named(attachment.content, crm, lang)
    return activity


def _named(value: Any, crm: Crm | None, lang: Lang) -> Any:
    """`value` (a string, or a card's JSON) with `<CRM>` replaced; a module function: a recursive closure would be
    a reference cycle every turn."""
    if isinstance(value, str):
        return crm_words(value, crm, lang)
    if isinstance(value, dict):
        return {key: _named(item, crm, lang) for key, item in value.items()}
    if isinstance(value, list):
        return [_named(item, crm, lang) for item in value]
    return value


def welcome_activity(channel_id: str | None, lang: Lang) -> Activity:
    """The welcome: a card with one button per area where cards render, else text."""
    if not wants_cards(channel_id):
        return MessageFactory.text(messages.text("welcome", lang))
    welcome = md.plain_text(messages.text("welcome", lang))
    return card_activity(cards.welcome_card(lang, execute=channel_id == "msteams"), welcome, lang)


def refreshed_card(kb: KnowledgeBase, data: dict[str, object], lang: Lang) -> cards.Card:
    """What a Teams card becomes once one of its buttons was used: its title and the choice, no buttons."""
    area = data.get("area")
    if isinstance(area, str) and data.get("card") is None:
        return cards.answered_card(messages.text("welcome", lang).split(".")[0], area, lang)
    kind, key = data.get("card"), str(data.get("choice", ""))
    if kind in HANDOFF_KINDS:
        spec = PromptSpec.model_validate({"kind": kind})
        picked = dict(handoff_choices(spec, lang)).get(key, key)
        return cards.answered_card(messages.text("handoff_offer_yes", lang), picked, lang)
    if kind == "crm_ask":
        return cards.answered_card(messages.text("crm_ask", lang), CRM_NAMES.get(key, key), lang)  # type: ignore[call-overload]
    if kind in _FIX_KEYS:
        picked = dict(_fix_choices(PromptSpec.model_validate({"kind": kind}), lang)).get(key, key)
        name = messages.fix_text(str(data.get("action", "")), "name", lang)
        return cards.answered_card(name[:1].upper() + name[1:], picked, lang)
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
