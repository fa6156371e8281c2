"""Dialogs through the harness: welcome, answers and feedback, clarifying, checklists, interruptions."""

from __future__ import annotations

import pytest
from botbuilder.core import ConversationState, MemoryStorage
from botbuilder.dialogs import DialogInstance, DialogSet, DialogState
from botbuilder.dialogs.prompts import PromptOptions

from bot.handler import stack_is_known
from bot.sdk.state import encode_item
from knowledge.models import Area
from tests.harness import DialogHarness


@pytest.fixture
def harness(knowledge) -> DialogHarness:
    return DialogHarness(knowledge)


async def test_welcome_names_the_three_areas(harness: DialogHarness) -> None:
    [welcome] = await harness.join()
    assert all(word in welcome for word in ("prerequisites", "configuration", "run/maintenance"))


async def test_welcome_in_italian_from_locale(knowledge) -> None:
    [welcome] = await DialogHarness(knowledge, locale="it-IT").join()
    assert "prerequisiti" in welcome


async def test_answer_then_feedback_is_recorded(harness: DialogHarness) -> None:
    answer, which_crm = await harness.send("none of the co-sell flows turn on after importing the solution")
    assert "Dynamics 365 or Salesforce" in which_crm.replace("**", "")  # the flow names depend on it: asked once
    assert "Run only users" in answer and "1." in answer and "Did this help?" in answer
    assert "Partner Center Webhook Registration (Insider Preview)" in answer
    [thanks] = await harness.send("yes")
    assert "glad" in thanks.casefold()
    assert harness.journal.feedback == [("convo-1", "cfg-flows-wont-turn-on", True, "en")]


async def test_negative_feedback_offers_next_steps(harness: DialogHarness) -> None:
    await harness.send("Solution ID is required")
    [reply] = await harness.send("no")
    assert "talk to a person" in reply and "Run/maintenance" in reply
    assert harness.journal.feedback[-1][1:3] == ("run-solution-id", False)


async def test_free_text_at_a_prompt_is_a_new_question(harness: DialogHarness) -> None:
    await harness.send("Solution ID is required")
    [answer] = await harness.send("what is the minimum storage for the power automate environment?")
    assert "1 GB" in answer or "1-GB" in answer


async def test_card_submit_without_text_does_not_crash(harness: DialogHarness) -> None:
    await harness.send("Solution ID is required")
    [reply] = await harness.send(None, value={"choice": "yes"})
    assert "glad" in reply.casefold()
    assert await harness.send(None, value={"unexpected": 1}) == []  # unknown submit: ignored politely
    [again] = await harness.send("WorkflowTriggerNotFound")
    assert "CDS" in again


async def test_clarifying_question_then_choice(harness: DialogHarness, knowledge) -> None:
    verdict = knowledge.match("crm id")
    assert verdict.kind == "clarify" and len(verdict.alternatives) >= 2
    replies = await harness.send("crm id")
    assert "not sure which" in replies[-1] and "1." in replies[-1] and "None of these" in replies[-1]
    answer, *_which_crm = await harness.send("1")
    assert knowledge.kb.get(verdict.alternatives[0]).en.lead[:30].replace("<CRM>", "your CRM") in answer


async def test_clarifying_none_of_these(harness: DialogHarness) -> None:
    await harness.send("crm id")
    [reply] = await harness.send("none of these")
    assert "other words" in reply


async def test_off_topic_gets_honest_unknown(harness: DialogHarness) -> None:
    [reply] = await harness.send("recommend a good sci-fi novel")
    assert "I don't know that one" in reply and "prerequisites" in reply


async def test_greeting_and_thanks(harness: DialogHarness) -> None:
    assert "Hello" in (await harness.send("hi"))[0]
    assert "Prego" in (await harness.send("grazie mille"))[0]


@pytest.mark.parametrize("area", list(Area))
async def test_checklist_walk_and_summary(knowledge, area: Area) -> None:
    h = DialogHarness(knowledge)
    entries = knowledge.kb.area(area)
    [first] = await h.send(
        {"prerequisites": "prerequisites", "configuration": "configuration", "maintenance": "maintenance"}[area.value]
    )
    assert f"step 1 of {len(entries)}" in first
    answers = ["done", "not yet", "skip", "fixed it now"]
    replies: list[str] = []
    for i in range(len(entries)):
        replies = await h.send(answers[i % len(answers)])
    summary = replies[-1]
    assert "summary" in summary and "Confirmed" in summary and "Still open" in summary
    assert entries[1].en.check in summary
    [(_, recorded_area, results)] = h.journal.checklists
    assert recorded_area == area and results[entries[1].id] == "open" and results[entries[0].id] == "done"


async def test_help_at_a_step_reprompts(harness: DialogHarness) -> None:
    await harness.send("configuration")
    replies = await harness.send("help")
    assert "Commands" in replies[0] and "step 1 of" in replies[1]


async def test_cancel_at_a_step_restarts(harness: DialogHarness) -> None:
    await harness.send("configuration")
    replies = await harness.send("cancel")
    assert replies[0] == "OK, let's start over." and "prerequisites" in replies[1]
    [answer] = await harness.send("Solution ID is required")
    assert "co-sell ready" in answer


async def test_switch_language_rerenders_pending_step(harness: DialogHarness) -> None:
    await harness.send("prerequisites")
    replies = await harness.send("italiano")
    assert replies[0] == "Va bene, continuo in italiano." and "passo 1 di" in replies[1]
    [next_step] = await harness.send("fatto")
    assert "passo 2 di" in next_step
    [answer] = await harness.send("what role do sellers need in Partner Center?")  # locked: stays Italian
    assert "Ti è stato utile?" in answer


async def test_detects_italian_question(harness: DialogHarness) -> None:
    [answer] = await harness.send("quanto spazio di archiviazione serve per l'ambiente power automate?")
    assert "Ti è stato utile?" in answer and "1 GB" in answer


async def test_state_survives_a_new_bot_instance(knowledge) -> None:
    storage = MemoryStorage()
    first = DialogHarness(knowledge, storage=storage)
    await first.send("prerequisites")
    await first.send("done")
    second = DialogHarness(knowledge, storage=storage)  # a restarted process over the same storage
    [step] = await second.send("done")
    assert "step 3 of" in step


@pytest.mark.parametrize("channel", ["msteams", "webchat"])
async def test_channels_render_choices(knowledge, channel: str) -> None:
    h = DialogHarness(knowledge, channel_id=channel)
    activities = await h.send_activity(_message("Solution ID is required"))
    reply = activities[-1]
    [attachment] = reply.attachments
    assert attachment.content_type == "application/vnd.microsoft.card.adaptive" and "co-sell ready" in reply.summary
    kinds = {a["type"] for a in attachment.content["actions"]} - {"Action.OpenUrl"}  # the answer's sources
    assert kinds == ({"Action.Execute"} if channel == "msteams" else {"Action.Submit"})


def _message(text: str):
    from botbuilder.schema import Activity

    return Activity(type="message", text=text, locale="en-US")


async def test_plain_direct_line_gets_text_and_suggested_actions(knowledge) -> None:
    h = DialogHarness(knowledge, channel_id="directline")
    [reply] = await h.send_activity(_message("Solution ID is required"))
    assert "co-sell ready" in reply.text and not reply.attachments
    assert [a.title for a in reply.suggested_actions.actions] == ["Yes, it helped", "No"]


async def test_help_and_language_at_an_answer_show_it_again(harness: DialogHarness) -> None:
    await harness.send("Solution ID is required")
    help_text, again = await harness.send("help")
    assert "Commands" in help_text and "co-sell ready" in again and "Did this help?" in again
    switched, italian = await harness.send("italiano")
    assert switched == "Va bene, continuo in italiano." and "Ti è stato utile?" in italian
    [thanks] = await harness.send("sì")
    assert harness.journal.feedback == [("convo-1", "run-solution-id", True, "it")] and thanks


def _older_build_stack() -> DialogState:
    """What the build before the Router stored while an answer waited for its vote (Main's loop at the bottom)."""
    prompt = DialogInstance(
        "SpecPrompt", {"options": PromptOptions(validations={"kind": "answer", "entry_id": "run-solution-id"})}
    )
    steps = DialogInstance(
        "WaterfallDialog", {"options": {}, "values": {"entry_id": "run-solution-id"}, "stepIndex": 2}
    )
    answer = DialogInstance("AnswerDialog", {"dialogs": DialogState([prompt, steps])})
    loop = DialogInstance("WaterfallDialog", {"options": {"route": "x"}, "values": {}, "stepIndex": 1})
    return DialogState([DialogInstance("MainDialog", {"dialogs": DialogState([answer, loop])})])


async def test_a_stack_stored_by_an_older_build_starts_afresh(knowledge) -> None:
    storage = MemoryStorage()
    await storage.write({"test/conversations/convo-1": {"DialogState": _older_build_stack()}})
    harness = DialogHarness(knowledge, storage=storage)
    answer, _which_crm = await harness.send("none of the co-sell flows turn on after importing the solution")
    assert "Run only users" in answer  # routed as a question, not handed to a dialog this build lacks
    [thanks] = await harness.send("yes")
    assert "glad" in thanks.casefold() and harness.journal.feedback[-1][1] == "cfg-flows-wont-turn-on"


async def test_an_answer_state_of_another_shape_routes_the_text(knowledge) -> None:
    """An AnswerDialog instance whose state this build did not write (no entry shown): the text is a question."""
    storage = MemoryStorage()
    inner = DialogState([DialogInstance("AnswerDialog", {"dialogs": DialogState([])}), DialogInstance("Router", {})])
    await storage.write(
        {"test/conversations/convo-1": {"DialogState": DialogState([DialogInstance("MainDialog", {"dialogs": inner})])}}
    )
    harness = DialogHarness(knowledge, storage=storage)
    [answer] = await harness.send("Solution ID is required")
    assert "co-sell ready" in answer and harness.journal.feedback == []


def test_stack_is_known(knowledge) -> None:
    harness = DialogHarness(knowledge)
    dialogs = DialogSet(ConversationState(harness.storage).create_property("DialogState"))
    dialogs.add(harness.bot._dialog)
    router = DialogInstance("Router", {})
    assert stack_is_known([], [dialogs])
    assert stack_is_known([DialogInstance("MainDialog", {"dialogs": DialogState([router])})], [dialogs])
    answer = DialogInstance("AnswerDialog", {"entry_id": "pre-trial", "asked": True})
    assert stack_is_known([DialogInstance("MainDialog", {"dialogs": DialogState([answer, router])})], [dialogs])
    assert not stack_is_known(_older_build_stack().dialog_stack, [dialogs])
    assert not stack_is_known([DialogInstance("Gone", {})], [dialogs])
    assert not stack_is_known([DialogInstance("MainDialog", {})], [dialogs])  # a component without its stack


async def test_the_users_words_are_not_kept_in_dialog_state(knowledge) -> None:
    """The transcript keeps what was said (redacted); dialog state only where the conversation is."""
    harness = DialogHarness(knowledge)
    question = "none of the co-sell flows turn on after importing the solution, tenant zebra-42"
    await harness.send(question)
    stored = await harness.storage.read(["test/conversations/convo-1"])
    state = stored["test/conversations/convo-1"]
    assert "zebra-42" not in encode_item(state)
    assert "cfg-flows-wont-turn-on" in encode_item(state)  # the answer waiting for its vote
