"""Adaptive Cards: pure builders, version 1.5, fallback text, Execute in Teams / Submit elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.case import PromptSpec
from bot.channels import cards
from bot.channels.rendering import build_card
from knowledge.models import Area


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return card.get("actions", [])


def _texts(card: dict[str, Any]) -> str:
    def walk(node: Any) -> list[str]:
        if isinstance(node, dict):
            return ([node["text"]] if node.get("type") == "TextBlock" else []) + [
                t for v in node.values() for t in walk(v)
            ]
        if isinstance(node, list):
            return [t for v in node for t in walk(v)]
        return []

    return "\n".join(walk(card["body"]))


SPECS = [
    PromptSpec(kind="answer", entry_id="cfg-flows-wont-turn-on"),
    PromptSpec(kind="item", area=Area.configuration, index=2),
    PromptSpec(kind="clarify", alternatives=["run-country-code", "run-not-synced"]),
    PromptSpec(kind="summary", area=Area.prerequisites, results={"pre-trial": "done", "pre-crm-role": "open"}),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
@pytest.mark.parametrize("execute", [True, False])
@pytest.mark.parametrize("lang", ["en", "it"])
def test_every_card_is_1_5_with_fallback_and_summary(knowledge, spec, execute, lang) -> None:
    card, summary = build_card(knowledge.kb, spec, lang, execute=execute)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5" and card["lang"] == lang
    assert card["fallbackText"] and summary and "**" not in summary
    kinds = {a["type"] for a in _actions(card)} - {"Action.OpenUrl"}
    if spec.kind != "summary":
        assert kinds == ({"Action.Execute"} if execute else {"Action.Submit"})
        assert all("choice" in a["data"] for a in _actions(card) if a["type"] != "Action.OpenUrl")


def test_answer_card_has_numbered_steps_exact_flow_names_and_links(knowledge) -> None:
    card, _ = build_card(knowledge.kb, SPECS[0], "en", execute=False)
    text = _texts(card)
    assert "1. " in text and "Partner Center Webhook Registration (Insider Preview)" in text
    titles = [a["title"] for a in _actions(card)]
    assert titles[:2] == ["Yes, it helped", "No"]
    assert _actions(card)[0]["data"] == {"choice": "yes", "card": "answer", "entry": "cfg-flows-wont-turn-on"}


def test_checklist_card_marks_each_item(knowledge) -> None:
    card, summary = build_card(knowledge.kb, SPECS[3], "en", execute=False)
    text = _texts(card)
    assert "✅" in text and "❌" in text and "⏭️" in text
    assert knowledge.kb.get("pre-crm-role").en.check in text and "Still open" in summary


def test_checklist_card_shows_live_statuses_and_evidence() -> None:
    card = cards.checklist_card("Live checks", [("pass", "Webhook", None), ("fail", "Flows on", "2 of 7 off")], "en")
    text = _texts(card)
    assert "✅" in text and "❌" in text and "2 of 7 off" in text and "❌ Flows on" in card["fallbackText"]


def test_welcome_card_offers_the_three_areas() -> None:
    card = cards.welcome_card("it", execute=True)
    assert [a["data"]["area"] for a in card["actions"]] == ["prerequisites", "configuration", "maintenance"]
    assert card["actions"][0]["title"] == "Prerequisiti" and card["actions"][0]["type"] == "Action.Execute"


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_single_candidate_is_asked_as_is_this_it(knowledge, lang) -> None:
    one = PromptSpec(kind="clarify", alternatives=["pre-trial"])
    card, summary = build_card(knowledge.kb, one, lang, execute=False)
    several, _ = build_card(knowledge.kb, SPECS[2], lang, execute=False)
    assert ("Is this what you mean?" if lang == "en" else "Intendi questo?") in _texts(card) and summary
    assert ("which of these" if lang == "en" else "quale di queste") in _texts(several)
