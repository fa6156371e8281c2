"""Tests for bot/activity_json.py: the fast serialiser gives exactly what msrest gives, or fails exactly as it does."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    Entity,
    HeroCard,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import TeamInfo, TeamsChannelData, TenantInfo
from msrest.serialization import Serializer

from bot.activity_json import serialize
from tests.devset import load_cases
from tests.harness import DialogHarness


def _outcome(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", json.dumps(fn(), sort_keys=False)  # key order counts
    except Exception as exc:
        return "error", (type(exc), str(exc))


def assert_same(model: Any) -> None:
    assert _outcome(lambda: serialize(model)) == _outcome(model.serialize)


def _base(**kwargs: Any) -> Activity:
    fields: dict[str, Any] = {
        "type": "message",
        "id": "a1",
        "channel_id": "msteams",
        "service_url": "https://smba.example/emea/",
        "conversation": ConversationAccount(id="c1", tenant_id="t1", is_group=False),
        "from_property": ChannelAccount(id="u1", name="User", aad_object_id="aad"),
        "recipient": ChannelAccount(id="b1", name="Bot", role="bot"),
        "timestamp": datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC),
    }
    return Activity(**{**fields, **kwargs})


EDGE_CASES = [
    _base(text="plain"),
    _base(text="enum type", input_hint="acceptingInput"),
    Activity(type=ActivityTypes.message, text="str enum in a str field"),
    Activity(),
    _base(text=5),  # msrest turns it into "5"
    _base(text="x", local_timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))),
    _base(text="x", timestamp="2026-01-02T03:04:05Z"),  # a string timestamp: msrest parses it
    _base(text="x", timestamp=datetime(2026, 1, 2, 3, 4, 5)),  # noqa: DTZ001 - naive on purpose
    _base(text="x", timestamp="not a date"),
    _base(text="x", timestamp=12),
    _base(value={"a": [1, 2.5, True, None, {"b": "c"}], "n": None}),
    _base(value={"when": datetime(2026, 1, 1, tzinfo=UTC), "day": date(2026, 1, 1)}),
    _base(value={"t": (1, 2)}),  # tuples become their str()
    _base(value={1: "non-string key"}),
    _base(value={"kind": ActivityTypes.message}),  # an enum inside an object
    _base(value=[HeroCard(title="model inside a list")]),
    _base(value="just a string"),
    _base(channel_data=TeamsChannelData(team=TeamInfo(id="19:x"), tenant=TenantInfo(id="t1"))),
    _base(channel_data={"tenant": {"id": "t1"}, "legacy": True}),
    _base(entities=[Mention(text="<at>Bot</at>", mentioned=ChannelAccount(id="b1")), Entity(type="clientInfo")]),
    _base(entities=[None]),
    _base(entities=({"type": "x"},)),  # a tuple of dicts where models are expected
    _base(members_added=[ChannelAccount(id="u1"), None]),
    _base(from_property={"id": "a dict, not a model"}),
    _base(from_property="nonsense"),
    _base(suggested_actions=SuggestedActions(actions=[CardAction(type="imBack", title="Yes", value="yes")], to=["u1"])),
    _base(suggested_actions=SuggestedActions(to=("u1",))),
    _base(attachments=[CardFactory.hero_card(HeroCard(title="t", buttons=[CardAction(type="imBack", value="v")]))]),
    _base(
        attachments=[
            Attachment(content_type="application/vnd.microsoft.card.adaptive", content={"type": "AdaptiveCard"})
        ]
    ),
    _base(attachments=[CardFactory.adaptive_card({"body": [{"type": "TextBlock", "text": "x"}], "version": "1.5"})]),
    _base(history_disclosed="yes"),  # bool field: msrest's bool()
    _base(listen_for="not a list"),
    _base(text_highlights=[{"text": "dict"}]),
    MessageFactory.text("from the factory", input_hint="expectingInput"),
    ChannelAccount(id="u", name="n", role="user"),
    TeamsChannelData(team=TeamInfo(id="19:x", name="Team")),
]


@pytest.mark.parametrize("model", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_matches_msrest_on_edge_cases(model: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert_same(model)


def test_a_naive_datetime_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="msrest.serialization"):
        serialize(_base(timestamp=datetime(2026, 1, 2)))  # noqa: DTZ001 - the point of the test
    assert len(caplog.records) == 1


def test_the_result_is_a_new_dict_each_time() -> None:
    activity = _base(value={"a": [1]})
    first = serialize(activity)
    first["value"]["a"].append(2)
    assert serialize(activity)["value"] == {"a": [1]}


async def test_matches_msrest_on_every_reply_of_the_dev_set(knowledge: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    replies = []
    for channel in ("msteams", "webchat", "test"):
        harness = DialogHarness(knowledge, channel_id=channel)
        replies += await harness.send_activity(Activity(type="conversationUpdate", members_added=[]))
        for case in load_cases()[:60]:
            replies += await harness.send_activity(Activity(type="message", text=case["text"], locale="en-US"))
    assert len(replies) > 100
    for reply in replies:
        assert_same(reply)
    expected = [reply.serialize() for reply in replies]
    monkeypatch.setattr(Serializer, "_serialize", _no_msrest)  # the bot's replies never need msrest's fallback
    assert [serialize(reply) for reply in replies] == expected


def _no_msrest(self: Any, target: Any, *_: Any, **__: Any) -> Any:
    raise AssertionError(f"msrest fallback for {target!r}")


def test_a_patched_or_overridden_serialize_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Activity, "serialize", lambda self, **_: {"custom": True})
    assert serialize(Activity(text="x")) == {"custom": True}
