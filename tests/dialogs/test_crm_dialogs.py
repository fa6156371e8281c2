"""CRM-aware instructions: the flows are named after the partner's CRM when it is known (the live checks found its
flows, or the user said it); otherwise the answer names "your CRM" and "Dynamics 365 or Salesforce?" follows it,
once per conversation, with buttons; the pick is remembered and the answer shown again in its words."""

from __future__ import annotations

import json

from botbuilder.schema import Activity, ActivityTypes

from tenant.base import CheckResult, Status, System
from tests.fakes import FakeLiveFindings
from tests.harness import DialogHarness

FLOWS_OFF = "the flows of the co-sell solution don't turn on"
NOT_SYNCED = "co-sell opportunities created in partner center are not synchronized to the crm, no flow errors"
SF_FLOW = "Partner Center to Salesforce (Insider Preview)"
D365_FLOW = "Partner Center to Dynamics 365 (Insider Preview)"


async def test_unknown_crm_is_asked_once_with_buttons_and_remembered(knowledge) -> None:
    h = DialogHarness(knowledge)
    neutral, asked = await h.send(FLOWS_OFF)
    assert "Partner Center to your CRM (Insider Preview)" in neutral and "<CRM>" not in neutral
    assert "which one do you use" in asked and "(1) Dynamics 365 or (2) Salesforce" in asked
    [answer] = await h.send("Salesforce")
    assert SF_FLOW in answer and "Dynamics 365 to Partner Center" not in answer and "Did this help?" in answer
    [thanks] = await h.send("yes")  # the answer's "did this help?" is still the open question
    assert thanks
    [again] = await h.send(NOT_SYNCED)  # another CRM-named answer: never asked again
    assert "Partner Center to Salesforce flow" in again and "which one do you use" not in again


async def test_a_card_button_picks_the_crm(knowledge) -> None:
    h = DialogHarness(knowledge, channel_id="webchat")
    _neutral, asked = await h.send_activity(Activity(type=ActivityTypes.message, text=FLOWS_OFF, locale="en-US"))
    card = asked.attachments[0].content
    assert [(a["title"], a["data"]) for a in card["actions"]] == [
        ("Dynamics 365", {"choice": "dynamics", "card": "crm_ask"}),
        ("Salesforce", {"choice": "salesforce", "card": "crm_ask"}),
    ]
    [answer] = await h.send_activity(
        Activity(type=ActivityTypes.message, value={"choice": "dynamics", "card": "crm_ask"}, locale="en-US")
    )
    dumped = json.dumps(answer.attachments[0].content, ensure_ascii=False)
    assert D365_FLOW in dumped and "Salesforce to Partner Center" not in dumped and "<CRM>" not in dumped


async def test_the_crm_the_user_names_is_used_without_asking(knowledge) -> None:
    h = DialogHarness(knowledge, locale="it-IT")
    await h.send("usiamo Dynamics 365")  # said in passing: remembered
    [answer] = await h.send("i flussi della soluzione di co-selling non si attivano")
    assert D365_FLOW in answer and "Quale usi" not in answer and "quale usi" not in answer


async def test_the_crm_the_live_checks_found_is_used_without_asking(knowledge) -> None:
    found = CheckResult(
        id="connector-flows", title="Connector flows are on", system=System.power_automate, status=Status.passed,
        summary="All on.", evidence={"found": ["Partner Center to Dynamics 365 (Insider Preview)"]},
        entries=("cfg-flows-wont-turn-on",),
    )  # fmt: skip
    live = FakeLiveFindings(results={found.id: found}, by_entry={"cfg-flows-wont-turn-on": [found.id]})
    findings, answer = await DialogHarness(knowledge, live=live).send(FLOWS_OFF)
    assert "✅" in findings and D365_FLOW in answer and "which one do you use" not in answer


async def test_italian_question_and_a_new_question_instead_of_a_reply(knowledge) -> None:
    h = DialogHarness(knowledge, locale="it-IT")
    neutral, asked = await h.send("i flussi della soluzione di co-selling non si attivano")
    assert "Partner Center to il tuo CRM" in neutral and "quale usi, **Dynamics 365** o **Salesforce**?" in asked
    replies = await h.send("come si aggiunge il codice paese all'account cliente?")  # not a CRM: a new question
    assert any("codice paese" in r for r in replies)
    [answer] = await h.send("i flussi della soluzione di co-selling non si attivano")
    assert "il tuo CRM" in answer and "<CRM>" not in answer  # asked once: unknown stays neutral, not asked again
