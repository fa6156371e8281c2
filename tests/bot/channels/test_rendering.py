"""The channel renderers: Adaptive Cards (version 1.5, fallback text, Execute in Teams / Submit elsewhere) for
answers, checklists, clarifying questions, findings and fixes; markdown with buttons on the other channels."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.case import PromptSpec
from assistant.presenters import cards
from assistant.presenters.choices import CONFIRM_CHOICES, FIX_CHOICES, recognize
from assistant.presenters.views import Findings, FixReport
from bot.channels.rendering import CardRenderer, refreshed_card, renderer_for
from knowledge.models import Area
from tenant.base import CheckResult, Fix, Status, System
from tenant.remediation import RemediationOutcome, RemediationPlan, RemediationStep, StepResult


def build_card(kb, spec, lang, *, execute):  # type: ignore[no-untyped-def]
    return CardRenderer(kb, execute=execute).build(spec, lang)


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
    assert "**1.**" in text and "Partner Center Webhook Registration (Insider Preview)" in text
    titles = [a["title"] for a in _actions(card)]
    assert titles[:2] == ["Yes, it helped", "No"]
    assert _actions(card)[0]["data"] == {"choice": "yes", "card": "answer", "entry": "cfg-flows-wont-turn-on"}


_LIST_MARKER = re.compile(r"^\s*(\d+[.)]|[-*+])\s")


def test_every_entrys_steps_read_as_one_numbered_list_with_their_sub_steps(knowledge) -> None:  # type: ignore[no-untyped-def]
    """Each TextBlock is markdown on its own: a "2. …" block is a one-item list Teams and Web Chat number "1." again,
    and a "- sub" block between steps breaks the list. Steps are rows: a bold number, the text, bulleted sub-steps."""
    for entry in knowledge.kb.entries:
        for lang in ("en", "it"):
            card, _ = build_card(knowledge.kb, PromptSpec(kind="answer", entry_id=entry.id), lang, execute=True)
            rows = [b for b in card["body"] if b.get("type") == "ColumnSet"]
            steps = entry.content(lang).steps
            assert [r["columns"][0]["items"][0]["text"] for r in rows] == [
                f"**{n}.**" for n in range(1, len(steps) + 1)
            ]
            for row, step in zip(rows, steps, strict=True):
                texts = [item["text"] for item in row["columns"][1]["items"]]
                assert texts[0] == step.text and texts[1:] == [f"•\u00a0{sub}" for sub in step.substeps]
            assert not [t for t in _texts(card).splitlines() if _LIST_MARKER.match(t)], entry.id


def test_checklist_card_marks_each_item(knowledge) -> None:
    card, summary = build_card(knowledge.kb, SPECS[3], "en", execute=False)
    text = _texts(card)
    assert "✅" in text and "❌" in text and "⏭️" in text
    assert knowledge.kb.get("pre-crm-role").en.check in text and "Still open" in summary


def test_checklist_card_shows_live_statuses_and_evidence() -> None:
    card = cards.checklist_card("Live checks", [("pass", "Webhook", None), ("fail", "Flows on", "2 of 7 off")], "en")
    text = _texts(card)
    assert "✅ OK" in text and "❌ Problem" in text and "2 of 7 off" in text
    assert "❌ Problem — Flows on" in card["fallbackText"]


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


# --- live findings and fixes: cards where cards render, markdown elsewhere ----------------------------------------

FINDINGS = (
    CheckResult(
        id="child-flows-on", title="Child flows are on", title_it="I flussi figlio sono attivi",
        system=System.power_automate, status=Status.fail, summary="2 child flows are off.",
        summary_it="2 flussi figlio sono spenti.",
        fix=Fix(entry="cfg-flows-wont-turn-on", action="start-flows-in-order"),
    ),
    CheckResult(
        id="dataverse-capacity", title="Dataverse capacity", system=System.dataverse, status=Status.passed,
        summary="Plenty of room: 12 GB free.",
    ),
)  # fmt: skip
STEP = RemediationStep(kind="start-flow", flow="Partner Center to CRM - Helper (Insider Preview)", flow_id="f-1")
PLAN = RemediationPlan(action="start-flows-in-order", check_id="child-flows-on", steps=(STEP,), skipped=2)


def _render(knowledge, channel: str, view, lang: str = "en"):  # type: ignore[no-untyped-def]
    return renderer_for(knowledge.kb, channel).render(view, lang)


def _card(activity) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert activity.attachments and activity.attachments[0].content_type == cards.CONTENT_TYPE
    return activity.attachments[0].content


@pytest.mark.parametrize("lang", ["en", "it"])
def test_findings_are_a_card_with_a_status_column_where_cards_render(knowledge, lang) -> None:
    card = _card(activity := _render(knowledge, "webchat", Findings(FINDINGS), lang))
    rows = [b["items"][0] for b in card["body"] if b["type"] == "Container"]
    words = ["❌ Problem", "✅ OK"] if lang == "en" else ["❌ Problema", "✅ OK"]
    assert len(rows) == 2 and [r["columns"][0]["items"][0]["text"] for r in rows] == words
    text = _texts(card)
    assert FINDINGS[0].text(lang)[0] in text and FINDINGS[0].text(lang)[1] in text and "12 GB" in text
    assert "❌" in activity.summary and "**" not in activity.summary and card["fallbackText"] == activity.summary


def test_findings_are_markdown_on_text_channels(knowledge) -> None:
    activity = _render(knowledge, "directline", Findings(FINDINGS))
    assert not activity.attachments and "- ❌ Problem — **Child flows are on**: 2 child flows are off." in activity.text


def test_nothing_checked_is_one_honest_line_on_every_channel(knowledge) -> None:
    skipped = CheckResult(id="x", title="X", system=System.dataverse, status=Status.skipped, summary="No client.")
    for channel in ("webchat", "msteams", "directline"):
        activity = _render(knowledge, channel, Findings((skipped,)))
        assert not activity.attachments and "No client." in activity.text


@pytest.mark.parametrize(("channel", "kind"), [("msteams", "Action.Execute"), ("webchat", "Action.Submit")])
def test_the_fix_offer_is_a_card_whose_buttons_say_what_they_do(knowledge, channel, kind) -> None:
    spec = PromptSpec(kind="fix_offer", action="start-flows-in-order", finding="Child flows are on: 2 are off")
    card = _card(_render(knowledge, channel, spec))
    assert {a["type"] for a in _actions(card)} == {kind}
    assert [a["data"] for a in _actions(card)] == [
        {"choice": "fix", "card": "fix_offer", "action": "start-flows-in-order"},
        {"choice": "no", "card": "fix_offer", "action": "start-flows-in-order"},
    ]
    assert "2 are off" in _texts(card)
    assert recognize(None, _actions(card)[0]["data"], FIX_CHOICES) == "fix"


def test_the_fix_offer_is_text_with_buttons_on_text_channels(knowledge) -> None:
    spec = PromptSpec(kind="fix_offer", action="start-flows-in-order", finding="Child flows are on: 2 are off")
    activity = _render(knowledge, "directline", spec)
    assert "2 are off" in activity.text and len(activity.suggested_actions.actions) == 2


@pytest.mark.parametrize("lang", ["en", "it"])
def test_the_fix_preview_card_numbers_the_changes_and_asks_to_confirm(knowledge, lang) -> None:
    spec = PromptSpec(kind="fix_confirm", action=PLAN.action, plan=PLAN)
    card = _card(activity := _render(knowledge, "webchat", spec, lang))
    text = _texts(card)
    assert "1. " in text and STEP.flow in text and "(2 " in text
    assert [a["data"]["choice"] for a in _actions(card)] == ["confirm", "no"]
    assert STEP.flow in activity.summary and recognize(None, _actions(card)[0]["data"], CONFIRM_CHOICES) == "confirm"


def test_the_fix_report_card_marks_each_step_and_shows_the_checks_again(knowledge) -> None:
    verified = (FINDINGS[0].model_copy(update={"status": Status.passed, "summary": "All child flows are on."}),)
    failed = StepResult(step=STEP.model_copy(update={"flow": "Other flow"}), ok=False, detail="403 from the API")
    outcome = RemediationOutcome(
        action=PLAN.action, results=(StepResult(step=STEP, ok=True), failed), verified=verified
    )
    card = _card(activity := _render(knowledge, "msteams", FixReport(outcome, PLAN)))
    text = _texts(card)
    assert "✅" in text and "❌" in text and "403 from the API" in text and "All child flows are on." in text
    assert "All child flows are on." in activity.summary and not _actions(card)


def test_a_used_fix_card_in_teams_is_refreshed_with_the_choice(knowledge) -> None:
    data = {"choice": "fix", "card": "fix_offer", "action": "start-flows-in-order"}
    card = refreshed_card(knowledge.kb, data, "en")
    text = _texts(card)
    assert "Turn on the connector flows in the right order" in text and "Fix it for me" in text and not _actions(card)
