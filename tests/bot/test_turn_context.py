"""Tests for bot/turn_context.py: the reply copy and the send path it sits in."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from enum import Enum, StrEnum
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

from bot.activity_json import serialize
from bot.turn_context import FastCopyTurnContext, copy_tree


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


def _nodes(value: Any) -> list[Any]:
    """Every mutable node of a tree (dicts, lists, models)."""
    if isinstance(value, dict):
        return [value, *(n for v in value.values() for n in _nodes(v))]
    if isinstance(value, list):
        return [value, *(n for v in value for n in _nodes(v))]
    if hasattr(value, "__dict__") and not isinstance(value, Enum | datetime):
        return [value, *_nodes(vars(value))]
    return []


def test_copy_tree_equals_deepcopy_and_shares_nothing_mutable() -> None:
    reply = _reply()

    clone = copy_tree(reply)

    assert clone == copy.deepcopy(reply)
    assert serialize(clone) == serialize(reply)
    assert type(clone) is Activity and type(clone.attachments[0]) is Attachment
    shared = {id(n) for n in _nodes(reply)} & {id(n) for n in _nodes(clone)}
    assert shared == set()
    assert clone.channel_data["colour"] is Colour.RED  # enums and other objects: as deepcopy leaves them


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
    reply.attachments[0].content["body"][0]["text"] = "changed later"
    assert sent.attachments[0].content["body"][0]["text"] == "Step 1"
    assert responses and context.responded


async def test_expect_replies_are_buffered_and_a_trace_alone_is_no_response() -> None:
    incoming = Activity(
        type="message", id="in-1", channel_id="test", conversation=ConversationAccount(id="c1"),
        from_property=ChannelAccount(id="user"), recipient=ChannelAccount(id="bot"),
        delivery_mode=DeliveryModes.expect_replies,
    )  # fmt: skip
    context = FastCopyTurnContext(TestAdapter(), incoming)

    await context.send_activities([Activity(type=ActivityTypes.trace, name="t")])
    assert not context.responded
    await context.send_activity("hello")

    assert [a.type for a in context.buffered_reply_activities] == ["trace", "message"]
    assert context.buffered_reply_activities[1].text == "hello" and context.responded
