"""The hand-over prompts as markdown and as Adaptive Cards: the escalation offer, the description question, the
preview of what support will receive (Send / Cancel) and the rating after a resolved case. Every card button carries
`{"choice": key, "card": kind}` (and the case reference where one exists), like the other prompts' buttons."""

from __future__ import annotations

from assistant import messages
from assistant.case import HandoffPreview, PromptSpec
from assistant.presenters import cards
from assistant.presenters.marks import labelled
from knowledge.loader import KnowledgeBase
from knowledge.models import Lang

HANDOFF_KINDS = frozenset({"handoff_offer", "handoff_describe", "handoff_preview", "handoff_rate"})
RATINGS = ("r1", "r2", "r3", "r4", "r5")


def handoff_choices(spec: PromptSpec, lang: Lang) -> list[tuple[str, str]]:
    """The (key, title) buttons of a hand-over prompt."""
    if spec.kind == "handoff_offer":
        return [("handoff", messages.text("handoff_offer_yes", lang)), ("no", messages.text("handoff_offer_no", lang))]
    if spec.kind == "handoff_describe":
        return [("cancel", messages.text("handoff_cancel", lang))]
    if spec.kind == "handoff_preview":
        return [("send", messages.text("handoff_send", lang)), ("cancel", messages.text("handoff_cancel", lang))]
    return [(key, "★" * n) for n, key in enumerate(RATINGS, 1)]


def handoff_markdown(kb: KnowledgeBase, spec: PromptSpec, lang: Lang) -> str:
    """The prompt's text (its buttons are `handoff_choices`)."""
    if spec.kind == "handoff_offer":
        return messages.text(f"handoff_offer_{spec.finding or 'unhelpful'}", lang)
    if spec.kind == "handoff_describe":
        return messages.text("handoff_describe", lang)
    if spec.kind == "handoff_preview" and spec.preview is not None:
        return preview_markdown(kb, spec.preview, lang)
    return spec.finding or ""  # handoff_rate: the resolution note, said by the proactive message


def preview_markdown(kb: KnowledgeBase, preview: HandoffPreview, lang: Lang) -> str:
    """Exactly what support will receive, in brief, then the question."""

    def label(key: str) -> str:
        return messages.text(f"handoff_preview_{key}", lang)

    lines = [messages.text("handoff_preview_heading", lang), ""]
    lines.append(f"- **{label('description')}:** {_quote(preview.description) or '-'}")
    lines.append(f"- **{label('summary')}:** {_quote(preview.summary)}")
    if preview.checks:
        checks = "; ".join(f"{labelled(status, lang)} — {_quote(title)}" for status, title in preview.checks[:8])
        lines.append(f"- **{label('checks')}:** {checks}")
    else:
        lines.append(f"- **{label('checks')}:** {label('no_checks')}")
    if preview.matched:
        titles = [kb.get(e).content(lang).label if e in kb.by_id else e for e in preview.matched[-5:]]
        lines.append(f"- **{label('matched')}:** " + "; ".join(_quote(t) for t in titles))
    if preview.fixes:
        lines.append(f"- **{label('fixes')}:** " + ", ".join(f"{a} ({r})" for a, r in preview.fixes))
    lines.append(f"- {messages.text('handoff_preview_transcript', lang, n=preview.messages)}")
    lines += ["", messages.text("handoff_preview_question", lang)]
    return "\n".join(lines)


def handoff_card(kb: KnowledgeBase, spec: PromptSpec, lang: Lang, *, execute: bool) -> cards.Card:
    """The prompt as one card: its text and its buttons."""
    text = handoff_markdown(kb, spec, lang)
    extra: dict[str, object] = {"card": spec.kind}
    if spec.case_ref:
        extra["case"] = spec.case_ref
    body = [cards._text(block) for block in text.split("\n\n") if block.strip()]
    actions = cards.choice_actions(handoff_choices(spec, lang), execute=execute, extra=extra)
    return cards.card(body, actions, text.replace("**", ""), lang)


def _quote(text: str) -> str:
    """User or finding text inside the preview: one line, no markdown emphasis of its own."""
    return " ".join(text.replace("*", "").replace("_", " ").split())[:300]
