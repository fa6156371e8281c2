"""The case card support staff see in their Teams channel: the summary, the failing checks, the user's words, a link
to the full bundle, and **Take** / **Reply** / **Resolve** (`Action.Execute`). The same function draws it after each
change, so the card refreshed in place shows who has the case and whether it is resolved. English: the audience is
the support team.
"""

from __future__ import annotations

from typing import Any

from assistant.handoff.bundle import CaseBundle
from assistant.handoff.model import SupportCase
from assistant.handoff.render import bundle_markdown

VERBS = frozenset({"case_take", "case_reply", "case_resolve"})  # the card's Action.Execute verbs
REPLY_INPUT = "reply"  # the id of the card's reply box (Teams merges inputs into the action's data)


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _execute(title: str, verb: str, ref: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": {"case": ref, **extra}}


def case_state(case: SupportCase) -> str:
    """One line: who has the case, or that it waits or is resolved."""
    if case.status == "resolved":
        return f"✅ Resolved by {case.resolved_by or 'support'}" + (f": {case.resolution}" if case.resolution else "")
    if case.status == "taken":
        return f"🧑‍💻 Taken by {case.taken_by or 'support'}"
    return "⏳ Waiting for someone to take it"


def case_card(case: SupportCase, bundle: CaseBundle | None, *, link: str | None = None) -> dict[str, Any]:
    """The support card of `case` as it is now (buttons only while the case is not resolved)."""
    if bundle is not None:
        body_text = bundle_markdown(bundle.model_copy(update={"status": case.status}), link=link)
    else:
        body_text = f"**Case {case.ref}** · {case.status}\n\n**Summary:** {case.summary}"
    body: list[dict[str, Any]] = [
        _text(f"Co-sell connectors: case {case.ref}", weight="Bolder", size="Medium", style="heading"),
        *(_text(block) for block in body_text.split("\n\n")),
        _text(case_state(case), weight="Bolder", spacing="Medium"),
    ]
    actions: list[dict[str, Any]] = []
    if case.active:
        reply_card = {
            "type": "AdaptiveCard",
            "body": [{"type": "Input.Text", "id": REPLY_INPUT, "isMultiline": True, "placeholder": "Your answer"}],
            "actions": [_execute("Send to the user", "case_reply", case.ref)],
        }
        if case.status != "taken":
            actions.append(_execute("Take", "case_take", case.ref))
        actions.append({"type": "Action.ShowCard", "title": "Reply", "card": reply_card})
        actions.append(_execute("Resolve", "case_resolve", case.ref))
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "fallbackText": f"Case {case.ref}: {case.summary}",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card
