"""Tests for bot/sdk/turn_context.py: the reply copy and the send path it sits in."""

from __future__ import annotations

import copy
import gc
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    DeliveryModes,
    Entity,
    SuggestedActions,
)

from bot.local import LocalConversation
from bot.sdk.activity_json import serialize
from bot.sdk.turn_context import FastCopyTurnContext, serialized
from bot.wiring import build_assistant


class Colour(StrEnum):
    RED = "red"


def _reply() -> Activity:
    card = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Step 1", "wrap": True}], "n": [1, 2.5]}
    return Activity(
        type="message", text="hi", attachments=[Attachment(content_type="application/vnd.microsoft.card.adaptive",
                                                          content=card)],
        suggested_actions=SuggestedActions(actions=[CardAction(type="imBack", title="Yes", value="yes")]),
        entities=[Entity(type="mention")], channel_data={"colour": Colour.RED, "when": datetime.now(UTC)},
        value=(1, 2), timestamp=datetime.now(UTC),
    )  # fmt: skip


def _context(delivery_mode: str | None = None) -> FastCopyTurnContext:
    incoming = Activity(
        type="message", id="in-1", channel_id="test", conversation=ConversationAccount(id="c1"),
        from_property=ChannelAccount(id="user"), recipient=ChannelAccount(id="bot"), delivery_mode=delivery_mode,
    )  # fmt: skip
    return FastCopyTurnContext(TestAdapter(), incoming)


async def test_the_sent_reply_is_a_copy_addressed_from_the_incoming_activity() -> None:
    adapter = TestAdapter()
    incoming = Activity(
        type="message", id="in-1", channel_id="msteams", service_url="https://smba.example/", locale="it-IT",
        conversation=ConversationAccount(id="c1"), from_property=ChannelAccount(id="user"),
        recipient=ChannelAccount(id="bot"),
    )  # fmt: skip
    context = FastCopyTurnContext(adapter, incoming)
    seen: list[Activity] = []

    async def hook(_: TurnContext, activities: list[Activity], next_send: Any) -> Any:
        seen.extend(activities)
        return await next_send()

    context.on_send_activities(hook)
    reply = _reply()
    reply.input_hint = None
    before = copy.deepcopy(reply)

    responses = await context.send_activities([reply, Activity(type=ActivityTypes.trace, name="t")])

    assert reply == before  # the bot's own object is untouched
    sent = adapter.activity_buffer[0]
    assert seen[0] is sent and sent is not reply
    assert (sent.conversation.id, sent.recipient.id, sent.from_property.id) == ("c1", "user", "bot")
    assert (sent.reply_to_id, sent.locale, sent.input_hint, sent.id) == ("in-1", "it-IT", "acceptingInput", None)
    assert responses and context.responded


async def test_what_was_sent_is_the_json_taken_when_it_went_out() -> None:
    """The snapshot, not the bot's object: changing a nested part later changes nothing sent or logged."""
    context = _context(DeliveryModes.expect_replies)
    reply = _reply()

    await context.send_activity(reply)
    sent = context.buffered_reply_activities[0]
    expected = serialize(sent)
    reply.attachments[0].content["body"][0]["text"] = "changed later"
    reply.suggested_actions.actions.append(CardAction(type="imBack", title="No", value="no"))

    assert serialized(context, sent) == expected
    assert serialized(context, sent)["attachments"][0]["content"]["body"][0]["text"] == "Step 1"
    assert serialized(context, sent) is serialized(context, sent)  # serialised once per reply


async def test_the_conversation_reference_is_built_once_per_turn(monkeypatch: Any) -> None:
    context = _context()
    calls = []
    original = TurnContext.get_conversation_reference

    def counting(activity: Activity) -> Any:
        calls.append(activity)
        return original(activity)

    monkeypatch.setattr(TurnContext, "get_conversation_reference", staticmethod(counting))
    await context.send_activity("one")
    await context.send_activity("two")

    assert len(calls) == 1
    first, second = context.adapter.activity_buffer
    assert (first.reply_to_id, second.reply_to_id) == ("in-1", "in-1")
    assert first is not second and first.text == "one" and second.text == "two"


async def test_expect_replies_are_buffered_and_a_trace_alone_is_no_response() -> None:
    context = _context(DeliveryModes.expect_replies)

    await context.send_activities([Activity(type=ActivityTypes.trace, name="t")])
    assert not context.responded
    await context.send_activity("hello")

    assert [a.type for a in context.buffered_reply_activities] == ["trace", "message"]
    assert context.buffered_reply_activities[1].text == "hello" and context.responded


async def test_a_turn_through_the_real_pipeline_leaves_no_cyclic_garbage(settings: Any, knowledge: Any) -> None:
    """Adapter, transcript hooks, state and dialogs: everything a turn makes dies by reference counting, so the
    cycle collector has nothing to find (botbuilder's `_emit` closure once kept every turn's context alive)."""
    assistant = build_assistant(settings, knowledge=knowledge)
    chat = LocalConversation(assistant, locale="en-US")
    try:
        await chat.say("Solution ID is required")
        gc.collect()
        gc.disable()
        try:
            outcome = await chat.say("none of the co-sell flows turn on after importing the solution")
            del outcome
            leftover = gc.collect()
        finally:
            gc.enable()
    finally:
        await assistant.close()
    assert leftover == 0
