"""A status mark never stands alone: in markdown and in cards it is followed by its word in the turn's language
("✅ OK", "❌ Problema"), for screen readers and for machines without emoji fonts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.case import HandoffPreview, PromptSpec
from assistant.presenters import cards
from assistant.presenters import markdown as md
from assistant.presenters.handoff import preview_markdown
from assistant.presenters.marks import MARKS, WORDS, labelled
from assistant.presenters.views import Findings, FixReport
from bot.channels.rendering import renderer_for
from knowledge.models import LANGS, Area
from tenant.base import CheckResult, Fix, Status, System
from tenant.remediation import RemediationOutcome, RemediationPlan, RemediationStep, StepResult

FAIL = CheckResult(
    id="child-flows-on", title="Child flows are on", title_it="I flussi figlio sono attivi",
    system=System.power_automate, status=Status.fail, summary="2 child flows are off.",
    summary_it="2 flussi figlio sono spenti.", evidence={"flows_off": ["Helper", "Updates"]},
    fix=Fix(entry="cfg-flows-wont-turn-on", action="start-flows-in-order"),
)  # fmt: skip
PASS = CheckResult(
    id="dataverse-capacity", title="Dataverse capacity", system=System.dataverse, status=Status.passed,
    summary="Plenty of room: 12 GB free.",
)  # fmt: skip
ERROR = CheckResult(
    id="webhook", title="Webhook", system=System.partner_center, status=Status.error, summary="Timed out.",
)  # fmt: skip
STEP = RemediationStep(kind="start-flow", flow="Helper", flow_id="f-1")
PLAN = RemediationPlan(action="start-flows-in-order", check_id="child-flows-on", steps=(STEP,))
OUTCOME = RemediationOutcome(
    action=PLAN.action,
    results=(StepResult(step=STEP, ok=True), StepResult(step=STEP, ok=False, detail="403")),
    verified=(FAIL,),
)
_EMOJI = re.compile("|".join(re.escape(m) for m in sorted(set(MARKS.values()), key=len, reverse=True)))


def _bare_marks(text: str, lang: str) -> list[str]:
    """Every mark in `text` that is not followed by a status word of `lang`."""
    words = {w[lang] for w in WORDS.values()}
    return [
        text[m.start() : m.end() + 20]
        for m in _EMOJI.finditer(text)
        if not any(text[m.end() :].startswith(f" {w}") for w in words)
    ]


def _card_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node[k] for k in ("text", "fallbackText") if isinstance(node.get(k), str)]
        return own + [t for v in node.values() for t in _card_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _card_texts(v)]
    return []


def test_every_mark_has_a_word_in_both_languages() -> None:
    assert set(WORDS) == set(MARKS)
    assert all(WORDS[s]["en"] and WORDS[s]["it"] for s in WORDS)
    assert labelled("fail", "it") == "❌ Problema" and labelled("pass", "en") == "✅ OK"


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_marks_carry_their_word(knowledge, lang) -> None:
    texts = [
        md.findings_markdown([FAIL, PASS, ERROR], lang),
        md.summary_markdown(knowledge.kb, Area.prerequisites, {"pre-trial": "done", "pre-crm-role": "open"}, lang),
        md.report_markdown(OUTCOME, PLAN, lang),
        preview_markdown(knowledge.kb, HandoffPreview(description="d", summary="s", checks=[("fail", "X")]), lang),
    ]
    for text in texts:
        assert _EMOJI.search(text) and not _bare_marks(text, lang), text
    assert labelled("fail", lang) in texts[0] and labelled("open", lang) in texts[1]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("channel", ["webchat", "msteams"])
def test_card_marks_carry_their_word(knowledge, lang, channel) -> None:
    render = renderer_for(knowledge.kb, channel).render
    summary = PromptSpec(kind="summary", area=Area.prerequisites, results={"pre-trial": "done", "pre-crm-role": "open"})
    for view in (Findings((FAIL, PASS, ERROR)), FixReport(OUTCOME, PLAN), summary):
        activity = render(view, lang)
        card = activity.attachments[0].content
        text = "\n".join([*_card_texts(card), activity.summary])
        assert _EMOJI.search(text) and not _bare_marks(text, lang), text


def test_checklist_card_status_column_is_text(knowledge) -> None:
    card = cards.checklist_card("T", [("done", "A", None), ("open", "B", None)], "it")
    rows = [b for b in card["body"] if b["type"] == "ColumnSet"]
    assert [r["columns"][0]["items"][0]["text"] for r in rows] == ["✅ Fatto", "❌ Aperto"]
