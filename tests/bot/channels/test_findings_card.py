"""Live findings as a checklist card: a Status column (mark and word), each finding's title and one-line summary,
its evidence on demand (Action.ShowCard), and the fix as a button only when the view offers it to this user."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.presenters.choices import FIX_CHOICES, recognize
from assistant.presenters.views import Findings
from bot.channels.rendering import renderer_for
from knowledge.models import LANGS
from tenant.base import CheckResult, Fix, Status, System

FAIL = CheckResult(
    id="webhook-url", title="Webhook points at the flow", title_it="Il webhook punta al flusso",
    system=System.partner_center, status=Status.fail, summary="The webhook calls another host.",
    summary_it="Il webhook chiama un altro host.",
    evidence={"hosts_seen": ["old.example", "other.example"], "environment": "Prod"},
    fix=Fix(entry="cfg-flows-wont-turn-on", action="register-webhook"),
)  # fmt: skip
PASS = CheckResult(
    id="licences", title="Licences", system=System.graph, status=Status.passed, summary="Every user has one.",
)  # fmt: skip


def _card(knowledge, view: Findings, lang: str = "en", channel: str = "webchat") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    activity = renderer_for(knowledge.kb, channel).render(view, lang)
    return activity.attachments[0].content


def _rows(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in card["body"] if b["type"] == "Container"]


def _walk(node: Any, kind: str) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] * (node.get("type") == kind) + [n for v in node.values() for n in _walk(v, kind)]
    if isinstance(node, list):
        return [n for v in node for n in _walk(v, kind)]
    return []


@pytest.mark.parametrize("lang", LANGS)
def test_findings_card_is_a_checklist_with_a_status_column(knowledge, lang) -> None:
    card = _card(knowledge, Findings((FAIL, PASS)), lang)
    header = next(b for b in card["body"] if b["type"] == "ColumnSet")
    assert [c["items"][0]["text"] for c in header["columns"]] == (
        ["Status", "Check"] if lang == "en" else ["Stato", "Verifica"]
    )
    rows = _rows(card)
    assert len(rows) == 2
    status = [r["items"][0]["columns"][0]["items"][0]["text"] for r in rows]
    assert status == (["❌ Problem", "✅ OK"] if lang == "en" else ["❌ Problema", "✅ OK"])
    detail = rows[0]["items"][0]["columns"][1]["items"]
    assert [detail[0]["text"], detail[1]["text"]] == list(FAIL.text(lang))


def test_evidence_is_shown_on_demand(knowledge) -> None:
    card = _card(knowledge, Findings((FAIL, PASS)), "it")
    fail_row, pass_row = _rows(card)
    [show] = [a for a in _walk(fail_row, "Action.ShowCard")]
    assert show["title"] == "Dettagli"
    [facts] = _walk(show["card"], "FactSet")
    values = {f["title"]: f["value"] for f in facts["facts"]}
    assert values["Environment"] == "Prod" and values["Hosts seen"] == "old.example, other.example"
    assert not _walk(pass_row, "Action.ShowCard")  # nothing to show: no button


def test_no_fix_button_unless_the_view_offers_it(knowledge) -> None:
    card = _card(knowledge, Findings((FAIL, PASS)))
    assert not [a for a in _walk(card, "Action.Submit") + _walk(card, "Action.Execute")]


@pytest.mark.parametrize(("channel", "kind"), [("webchat", "Action.Submit"), ("msteams", "Action.Execute")])
def test_an_offered_fix_is_a_button_carrying_its_action(knowledge, channel, kind) -> None:
    card = _card(knowledge, Findings((FAIL, PASS), offers=("register-webhook",)), "en", channel)
    fail_row, pass_row = _rows(card)
    [button] = _walk(fail_row, kind)
    assert button["title"] == "Fix it for me"
    assert button["data"] == {"choice": "fix", "card": "fix_offer", "action": "register-webhook"}
    assert recognize(None, button["data"], FIX_CHOICES) == "fix"
    assert not _walk(pass_row, kind)


def test_markdown_keeps_the_same_layout(knowledge) -> None:
    activity = renderer_for(knowledge.kb, "directline").render(Findings((FAIL, PASS)), "it")
    assert "- ❌ Problema — **Il webhook punta al flusso**: Il webhook chiama un altro host." in activity.text
    assert "- ✅ OK — **Licences**: Every user has one." in activity.text
