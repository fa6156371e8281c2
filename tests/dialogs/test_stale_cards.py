"""Buttons on older cards: the action in that card's context (mark that checklist item, pick that clarify option,
record that rating) or a clear "this card is out of date" — never a checklist restarted at step 1, never silence."""

from __future__ import annotations

import pytest

from tests.fakes import FakeRemediation
from tests.harness import DialogHarness


def _said(replies: list[str]) -> str:
    return "\n".join(replies)


async def test_an_earlier_clarify_option_is_answered(knowledge) -> None:
    h = DialogHarness(knowledge)
    verdict = knowledge.match("crm id")
    await h.send("crm id")
    await h.send("Solution ID is required")  # the conversation moved on
    picked = verdict.alternatives[0]
    replies = await h.send(value={"choice": picked, "card": "clarify"})
    lead = knowledge.kb.get(picked).en.lead[:30].replace("<CRM>", "your CRM")
    assert lead in _said(replies)


async def test_an_earlier_item_of_the_open_checklist_is_marked_and_the_walk_goes_on(knowledge) -> None:
    h = DialogHarness(knowledge)
    first = _said(await h.send("configuration"))
    assert "step 1 of" in first
    second = _said(await h.send("done"))
    assert "step 2 of" in second
    replies = _said(await h.send(value={"choice": "open", "card": "item", "area": "configuration", "index": 0}))
    check = knowledge.kb.area("configuration")[0].en.check
    assert f"“{check}” is marked **Not yet**" in replies.replace("Not yet, still open", "Not yet") or check in replies
    assert "step 2 of" in replies and "step 1 of" not in replies  # the current step again, never step 1
    rest = [_said(await h.send("skip")) for _ in range(len(knowledge.kb.area("configuration")) - 1)]
    assert "Still open" in rest[-1]  # the earlier card's "not yet" counted in the summary


async def test_an_item_card_with_no_checklist_open_is_marked_not_restarted(knowledge) -> None:
    h = DialogHarness(knowledge)
    replies = _said(await h.send(value={"choice": "done", "card": "item", "area": "prerequisites", "index": 1}))
    assert "is marked" in replies and "No checklist is open now" in replies
    assert "step 1 of" not in replies


async def test_an_earlier_rating_is_recorded_with_a_reply(knowledge) -> None:
    h = DialogHarness(knowledge)
    await h.send("Solution ID is required")
    await h.send("two-letter country code for the customer account")  # another answer is open now
    replies = _said(await h.send(value={"choice": "yes", "card": "answer", "entry": "run-solution-id"}))
    assert "noted your rating" in replies
    assert ("convo-1", "run-solution-id", True, "en") in h.journal.feedback


@pytest.mark.parametrize(
    "value",
    [
        {"choice": "fix", "card": "fix_offer", "action": "start-flows-in-order"},
        {"choice": "confirm", "card": "fix_confirm", "action": "start-flows-in-order"},
        {"choice": "5", "card": "handoff_rate", "case": "C-1"},
        {"choice": "yes", "card": "answer", "entry": "no-such-entry"},
    ],
    ids=["fix-offer", "fix-confirm", "case-rating", "foreign-rating"],
)
async def test_an_out_of_date_card_says_so_and_changes_nothing(knowledge, value) -> None:
    remediation = FakeRemediation(admins=frozenset({"user-1"}))
    h = DialogHarness(knowledge, remediation=remediation)
    replies = _said(await h.send(value=value))
    assert "out of date" in replies and "nothing was changed" in replies
    assert remediation.planned == [] and remediation.executed == []


async def test_an_earlier_handoff_offer_gets_a_reply(knowledge) -> None:
    h = DialogHarness(knowledge)
    assert _said(await h.send(value={"choice": "no", "card": "handoff_offer"}))


async def test_out_of_date_in_italian(knowledge) -> None:
    h = DialogHarness(knowledge, locale="it-IT")
    replies = _said(await h.send(value={"choice": "fix", "card": "fix_offer", "action": "register-webhook"}))
    assert "non più attuale" in replies
