"""Tests for bot/sdk/activity_json.py: the fast (de)serialiser gives what msrest gives, or fails exactly as it does."""

from __future__ import annotations

import copy
import json
import logging
from collections import OrderedDict
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
    GeoCoordinates,
    HeroCard,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import (
    MessagingExtensionAction,
    MessagingExtensionResponse,
    TeamInfo,
    TeamsChannelAccount,
    TeamsChannelData,
    TenantInfo,
)
from msrest.exceptions import DeserializationError
from msrest.serialization import Deserializer, Model, Serializer

from bot.sdk import activity_json
from bot.sdk.activity_json import deserialize, serialize
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


# deserialize(cls, data): the inbound side.

_SERVICE_URL = "https://smba.trafficmanager.net/emea/"
_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
_TEAMS_USER = {"id": "29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3QGnJdgLfFGkJnVelzRGos0bPbpsfJjcbAD22bmKc4GMbrY2g", "name": "Ada"}
_TEAMS_BOT = {"id": "28:4a7a5b3a-1d6b-4d1c-8a2f-0c3c2b1a0d9e", "name": "Co-sell Assistant"}
_CLIENT_INFO = {
    "locale": "it-IT",
    "country": "IT",
    "platform": "Windows",
    "timezone": "Europe/Rome",
    "type": "clientInfo",
}
_CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Referral stuck?", "wrap": True, "size": "large"}],
    "actions": [{"type": "Action.Submit", "title": "Yes", "data": {"answer": "yes", "score": 0.75, "tags": None}}],
}

DIRECT_LINE = {
    "type": "message",
    "id": "HbXpXAb2o3u8Ae6GG8mJR-eu|0000002",
    "timestamp": "2026-03-04T10:11:12.1234567Z",
    "localTimestamp": "2026-03-04T11:11:12.123+01:00",
    "localTimezone": "Europe/Rome",
    "channelId": "directline",
    "serviceUrl": "https://directline.botframework.com/",
    "from": {"id": "dl_7f6e5d", "name": "Ada"},
    "conversation": {"id": "HbXpXAb2o3u8Ae6GG8mJR-eu"},
    "recipient": {"id": "cosell-bot@abc123", "name": "Co-sell Assistant"},
    "textFormat": "plain",
    "locale": "it-IT",
    "text": "il connettore non sincronizza le referral",
}
WEB_CHAT = {
    **DIRECT_LINE,
    "id": "HbXpXAb2o3u8Ae6GG8mJR-eu|0000003",
    "channelId": "webchat",
    "timestamp": "2026-03-04T10:11:13Z",
    "localTimestamp": "2026-03-04T05:11:13.5-05:00",
    "locale": "en-US",
    "text": "see the screenshot",
    "channelData": {"clientActivityID": "1772619073000abc", "clientTimestamp": "2026-03-04T10:11:13.000Z"},
    "attachments": [
        {
            "contentType": "image/png",
            "contentUrl": "https://directline.botframework.com/attachments/HbX/0000003/0/shot.png?t=abc",
            "name": "shot.png",
            "thumbnailUrl": None,
        },
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": _CARD},
    ],
    "suggestedActions": {
        "to": ["dl_7f6e5d"],
        "actions": [
            {"type": "imBack", "title": "Partner Center", "value": "partner center"},
            {"type": "messageBack", "title": "Dynamics", "text": "dyn", "displayText": "Dynamics", "value": {"a": 1}},
        ],
    },
    "entities": [
        {"requiresBotState": True, "supportsListening": True, "supportsTts": True, "type": "ClientCapabilities"}
    ],
}
TEAMS_CHANNEL_MESSAGE = {
    "text": "<at>Co-sell Assistant</at> why is referral R-1 stuck?",
    "textFormat": "plain",
    "attachments": [
        {"contentType": "text/html", "content": "<div><at>Co-sell Assistant</at> why is referral R-1 stuck?</div>"}
    ],
    "type": "message",
    "timestamp": "2026-03-04T10:11:12.3456789Z",
    "localTimestamp": "2026-03-04T11:11:12.3456789+01:00",
    "id": "1772619072345",
    "channelId": "msteams",
    "serviceUrl": _SERVICE_URL,
    "from": {**_TEAMS_USER, "aadObjectId": "6a0e1b2c-3d4e-4f50-8a9b-0c1d2e3f4a5b"},
    "conversation": {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": _TENANT,
        "id": "19:f6cbd1ac1b3b4b0bbf3e2d5d6a7b8c9d@thread.tacv2;messageid=1772619072345",
    },
    "recipient": _TEAMS_BOT,
    "entities": [
        {"mentioned": _TEAMS_BOT, "text": "<at>Co-sell Assistant</at>", "type": "mention"},
        _CLIENT_INFO,
    ],
    "channelData": {
        "teamsChannelId": "19:f6cbd1ac1b3b4b0bbf3e2d5d6a7b8c9d@thread.tacv2",
        "teamsTeamId": "19:0a1b2c3d4e5f@thread.tacv2",
        "channel": {"id": "19:f6cbd1ac1b3b4b0bbf3e2d5d6a7b8c9d@thread.tacv2"},
        "team": {"id": "19:0a1b2c3d4e5f@thread.tacv2"},
        "tenant": {"id": _TENANT},
    },
    "locale": "it-IT",
    "localTimezone": "Europe/Rome",
}
TEAMS_INVOKE = {
    "name": "adaptiveCard/action",
    "type": "invoke",
    "timestamp": "2026-03-04T10:12:00.001Z",
    "localTimestamp": "2026-03-04T11:12:00.001+01:00",
    "id": "f:5c6d7e8f-1a2b-3c4d-5e6f-708192a3b4c5",
    "channelId": "msteams",
    "serviceUrl": _SERVICE_URL,
    "from": {**_TEAMS_USER, "aadObjectId": "6a0e1b2c-3d4e-4f50-8a9b-0c1d2e3f4a5b"},
    "conversation": {"conversationType": "personal", "tenantId": _TENANT, "id": "a:1Xj5k6l7m8n9o0p"},
    "recipient": _TEAMS_BOT,
    "entities": [_CLIENT_INFO],
    "channelData": {"tenant": {"id": _TENANT}, "source": {"name": "message"}, "legacy": {"replyToId": "1:1abc"}},
    "replyToId": "1772619072346",
    "value": {
        "action": {
            "type": "Action.Execute",
            "title": "Yes, it helped",
            "verb": "feedback",
            "data": {"entryId": "run-solution-id", "helpful": True, "attempt": 2, "score": 0.5, "note": None},
        },
        "trigger": "manual",
    },
    "locale": "en-US",
    "localTimezone": "Europe/Rome",
}
TEAMS_MEMBERS_ADDED = {
    "membersAdded": [{"id": _TEAMS_BOT["id"]}, {"id": _TEAMS_USER["id"], "aadObjectId": "6a0e1b2c"}],
    "type": "conversationUpdate",
    "timestamp": "2026-03-04T09:00:00.1234567Z",
    "id": "f:0123456789",
    "channelId": "msteams",
    "serviceUrl": _SERVICE_URL,
    "from": {"id": "29:1owner", "aadObjectId": "0b1c2d3e"},
    "conversation": {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": _TENANT,
        "id": "19:general@thread.skype",
    },
    "recipient": {"id": _TEAMS_BOT["id"], "name": "Co-sell Assistant"},
    "channelData": {
        "team": {"aadGroupId": "a1b2c3d4", "name": "Co-sell", "id": "19:general@thread.skype"},
        "eventType": "teamMemberAdded",
        "tenant": {"id": _TENANT},
    },
}
DIRECT_LINE_MEMBERS_ADDED = {
    "type": "conversationUpdate",
    "id": "HbX|0000000",
    "timestamp": "2026-03-04T10:11:00.5Z",
    "serviceUrl": "https://directline.botframework.com/",
    "channelId": "directline",
    "from": {"id": "dl_7f6e5d"},
    "conversation": {"id": "HbX"},
    "recipient": {"id": "cosell-bot@abc123", "name": "Co-sell Assistant"},
    "membersAdded": [{"id": "cosell-bot@abc123", "name": "Co-sell Assistant"}, {"id": "dl_7f6e5d"}],
    "membersRemoved": [],
}
EMULATOR = {
    "text": "hello",
    "textFormat": "plain",
    "type": "message",
    "channelData": {"clientActivityID": "17726190720001abcd", "clientTimestamp": "2026-03-04T10:11:12.000Z"},
    "channelId": "emulator",
    "from": {"id": "5c0c1d3e-8a9b-4c5d-9e0f-1a2b3c4d5e6f", "name": "User", "role": "user"},
    "locale": "en-US",
    "localTimestamp": "2026-03-04T02:11:12-08:00",
    "localTimezone": "America/Los_Angeles",
    "attachments": [],
    "entities": [
        {"requiresBotState": True, "supportsListening": True, "supportsTts": True, "type": "ClientCapabilities"}
    ],
    "conversation": {"id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b|livechat"},
    "id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
    "recipient": {"id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "name": "Bot", "role": "bot"},
    "timestamp": "2026-03-04T10:11:12.345Z",
    "serviceUrl": "http://localhost:52812",
}
UNKNOWN_KEYS = {
    **DIRECT_LINE,
    "futureField": {"nested": [1, {"x": None}]},
    "x-ms-trace": "abc",
    "empty": None,
    "from": {"id": "u1", "name": "Ada", "avatar": "https://example.invalid/a.png", "tenant": {"id": "t"}},
}
NESTED_VALUE = {
    "type": "message",
    "text": "",
    "valueType": "application/json",
    "value": {
        "list": [1, 2.5, True, None, [False, {"deep": [None, -0.0, 1e300]}], "s"],
        "flag": False,
        "ratio": 0.25,
        "none": None,
        "empty": {},
        "emptyList": [],
        "big": 2**70,
        "unicode": "perché ✔",
    },
}
EVERY_FIELD = {
    "type": "message",
    "id": "x",
    "timestamp": "2026-03-04T10:11:12Z",
    "localTimestamp": "2026-03-04T15:41:12.5+05:30",
    "localTimezone": "Asia/Kolkata",
    "serviceUrl": "https://example.invalid/",
    "channelId": "test",
    "from": {"id": "u", "name": "n", "aadObjectId": "o", "role": "user"},
    "conversation": {
        "isGroup": False,
        "conversationType": "personal",
        "id": "c",
        "name": "n",
        "role": "x",
        "tenantId": "t",
    },
    "recipient": {"id": "b", "role": "bot"},
    "textFormat": "markdown",
    "attachmentLayout": "carousel",
    "membersAdded": [None, {"id": "m"}],
    "membersRemoved": [{"id": "r"}],
    "reactionsAdded": [{"type": "like"}],
    "reactionsRemoved": [{"type": "heart", "extra": 1}],
    "topicName": "t",
    "historyDisclosed": False,
    "locale": "en-GB",
    "text": "t",
    "speak": "<speak>t</speak>",
    "inputHint": "expectingInput",
    "summary": "s",
    "suggestedActions": {"to": [], "actions": [{"type": "postBack", "value": [1, "two", None]}]},
    "attachments": [{"contentType": "application/vnd.microsoft.card.hero", "content": {"title": "h"}, "name": None}],
    "entities": [{"type": "GeoCoordinates", "latitude": 45.46, "longitude": 9.19}, None],
    "channelData": "a string",
    "action": "add",
    "replyToId": "r",
    "label": "l",
    "valueType": "v",
    "value": ["a", 1],
    "name": "n",
    "relatesTo": {
        "activityId": "a",
        "user": {"id": "u"},
        "bot": {"id": "b"},
        "conversation": {"id": "c", "isGroup": True},
        "channelId": "test",
        "locale": "it-IT",
        "serviceUrl": "https://example.invalid/",
    },
    "code": "completedSuccessfully",
    "expiration": "2026-03-05T10:11:12.1234567890Z",
    "importance": "high",
    "deliveryMode": "expectReplies",
    "listenFor": ["yes", "no"],
    "textHighlights": [{"text": "t", "occurrence": 1}],
    "semanticAction": {"id": "s", "state": "start", "entities": {"e": {"type": "x", "extra": [1]}, "none": None}},
    "callerId": "urn:botframework:azure",
}
DEEP_NESTING = {
    "type": "message",
    "relatesTo": {"activityId": "a", "user": {"id": "u", "properties": {"x": 1}}},
    "channelData": [[[["deep"]]]],
    "value": 7,
}

CORPUS = {
    "direct_line": DIRECT_LINE,
    "web_chat": WEB_CHAT,
    "teams_channel_message": TEAMS_CHANNEL_MESSAGE,
    "teams_invoke": TEAMS_INVOKE,
    "teams_members_added": TEAMS_MEMBERS_ADDED,
    "direct_line_members_added": DIRECT_LINE_MEMBERS_ADDED,
    "emulator": EMULATOR,
    "unknown_keys": UNKNOWN_KEYS,
    "nested_value": NESTED_VALUE,
    "every_field": EVERY_FIELD,
    "deep_nesting": DEEP_NESTING,
    "empty": {},
    "only_nulls": dict.fromkeys(["type", "from", "entities", "value", "timestamp", "historyDisclosed"]),
    "z_7_digits": {"type": "message", "timestamp": "2026-12-31T23:59:59.9999999Z"},
    "zero_fraction": {"type": "message", "timestamp": "2000-01-01T00:00:00.0000000Z"},
    "lower_case": {"type": "message", "timestamp": "2026-03-04t10:11:12.1234567z"},
    "naive": {"type": "message", "timestamp": "2026-03-04T10:11:12"},  # msrest keeps it naive
}
# (class, data) for the other models the inbound path meets, some from botbuilder.schema.teams
OTHER_ROOTS = {
    "teams_channel_data": (TeamsChannelData, TEAMS_CHANNEL_MESSAGE["channelData"]),
    "teams_channel_data_event": (TeamsChannelData, TEAMS_MEMBERS_ADDED["channelData"]),
    "teams_channel_account": (TeamsChannelAccount, {**_TEAMS_USER, "aadObjectId": "o", "email": "a@b.c", "x": 1}),
    "channel_account": (ChannelAccount, TEAMS_CHANNEL_MESSAGE["from"]),
    "conversation_account": (ConversationAccount, TEAMS_CHANNEL_MESSAGE["conversation"]),
    "entity": (Entity, TEAMS_CHANNEL_MESSAGE["entities"][0]),
    "mention": (Mention, TEAMS_CHANNEL_MESSAGE["entities"][0]),
    "suggested_actions": (SuggestedActions, WEB_CHAT["suggestedActions"]),
    "messaging_extension_action": (MessagingExtensionAction, {"commandId": "c", "data": {"x": [1]}, "y": 2}),
    "geo_coordinates": (GeoCoordinates, {"type": "GeoCoordinates", "latitude": 45.46, "longitude": 9.19, "name": "MI"}),
}


def _shape(value: Any) -> Any:
    """What msrest's `__eq__` compares, and what it does not: classes at every level, key order, datetime offsets."""
    if isinstance(value, Model):
        return type(value), _shape(vars(value))
    if type(value) is dict:
        return "dict", [(key, _shape(item)) for key, item in value.items()]
    if type(value) is list:
        return "list", [_shape(item) for item in value]
    if isinstance(value, datetime):
        return datetime, value.isoformat(), type(value.tzinfo), value.utcoffset()
    return type(value), repr(value)


def _read(fn: Any) -> tuple[Any, ...]:
    try:
        model = fn()
    except Exception as exc:
        return "error", type(exc), str(exc)
    if model is None:
        return "ok", None
    return "ok", model, _shape(model), json.dumps(model.serialize()), json.dumps(serialize(model))


def assert_reads_like_msrest(cls: Any, data: Any) -> None:
    before = copy.deepcopy(data)
    ours = _read(lambda: deserialize(cls, data))
    assert data == before and type(data) is type(before)  # the input is left alone
    theirs = _read(lambda: cls.deserialize(data))
    assert ours == theirs  # equal models (msrest's __eq__), same shape and classes, same JSON back; or same error


@pytest.mark.parametrize("data", CORPUS.values(), ids=CORPUS.keys())
def test_reads_inbound_activities_like_msrest(data: dict[str, Any]) -> None:
    assert_reads_like_msrest(Activity, data)


@pytest.mark.parametrize(("cls", "data"), OTHER_ROOTS.values(), ids=OTHER_ROOTS.keys())
def test_reads_other_schema_models_like_msrest(cls: Any, data: dict[str, Any]) -> None:
    assert_reads_like_msrest(cls, data)


def test_the_teams_message_is_read_field_by_field() -> None:
    activity = deserialize(Activity, TEAMS_CHANNEL_MESSAGE)
    assert activity == Activity.deserialize(TEAMS_CHANNEL_MESSAGE)
    assert activity.from_property.aad_object_id == TEAMS_CHANNEL_MESSAGE["from"]["aadObjectId"]
    assert activity.conversation.conversation_type == "channel"
    mention = activity.entities[0]
    assert type(mention) is Entity and mention.type == "mention"
    assert mention.additional_properties == {"mentioned": _TEAMS_BOT, "text": "<at>Co-sell Assistant</at>"}
    assert activity.channel_data == TEAMS_CHANNEL_MESSAGE["channelData"]
    assert activity.channel_data is not TEAMS_CHANNEL_MESSAGE["channelData"]  # "object" values are copies
    assert activity.timestamp.microsecond == 345678  # msrest truncates the 7th digit
    assert activity.additional_properties == {}


def _no_msrest(self: Any, target: Any, *_: Any, **__: Any) -> Any:
    raise AssertionError(f"msrest fallback for {target!r}")


def test_the_corpus_never_needs_msrest(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    expected = {name: Activity.deserialize(data) for name, data in CORPUS.items()}
    expected.update({name: cls.deserialize(data) for name, (cls, data) in OTHER_ROOTS.items()})
    monkeypatch.setattr(Deserializer, "_deserialize", _no_msrest)
    with caplog.at_level(logging.DEBUG, logger="msrest"):
        got = {name: deserialize(Activity, data) for name, data in CORPUS.items()}
        got.update({name: deserialize(cls, data) for name, (cls, data) in OTHER_ROOTS.items()})
    assert {name: _shape(model) for name, model in got.items()} == {
        name: _shape(model) for name, model in expected.items()
    }
    assert not caplog.records


def _activity(**fields: Any) -> dict[str, Any]:
    return {"type": "message", "id": "a1", "channelId": "msteams", "from": {"id": "u1"}, **fields}


# (class, data) that msrest reads in its own way, or refuses: the fast path must step aside for all of them
READ_EDGE_CASES = {
    "str_field_number": (Activity, _activity(text=5)),
    "str_field_bool": (Activity, _activity(text=True)),
    "str_field_dict": (Activity, _activity(locale={"x": 1})),
    "nested_str_field_number": (Activity, _activity(**{"from": {"id": 29}})),
    "entity_type_float": (Activity, _activity(entities=[{"type": 1.5}])),
    "bool_field_str": (Activity, _activity(historyDisclosed="true")),
    "bool_field_int": (Activity, _activity(historyDisclosed=1)),
    "bool_field_bad": (Activity, _activity(historyDisclosed="maybe")),
    "int_field_bool": (Activity, _activity(textHighlights=[{"text": "t", "occurrence": True}])),
    "int_field_str": (Activity, _activity(textHighlights=[{"text": "t", "occurrence": "3"}])),
    "int_field_float": (Activity, _activity(textHighlights=[{"text": "t", "occurrence": 2.9}])),
    "float_field_int": (GeoCoordinates, {"latitude": 45, "longitude": 9.19}),
    "float_field_str": (GeoCoordinates, {"latitude": "45.5"}),
    "float_field_bool": (GeoCoordinates, {"elevation": False}),
    "members_added_dict": (Activity, _activity(membersAdded={"id": "u2"})),
    "members_added_str": (Activity, _activity(membersAdded="u2")),
    "members_added_set": (Activity, _activity(listenFor={"only"})),
    "members_added_tuple": (Activity, _activity(membersAdded=({"id": "u2"},))),
    "from_str": (Activity, _activity(**{"from": "nonsense"})),
    "from_list": (Activity, _activity(**{"from": [{"id": "u1"}]})),
    "from_number": (Activity, _activity(**{"from": 1})),
    "entity_str": (Activity, _activity(entities=["mention"])),
    "bad_timestamp": (Activity, _activity(timestamp="not a date")),
    "bad_month": (Activity, _activity(timestamp="2026-13-01T00:00:00Z")),
    "timestamp_number": (Activity, _activity(timestamp=1772619072)),
    "timestamp_trailing_junk": (Activity, _activity(timestamp="2026-03-04T10:11:12Zjunk")),
    "year_one_offset": (Activity, _activity(timestamp="0001-01-01T00:00:00+01:00")),
    "value_tuple": (Activity, _activity(value={"t": (1, 2)})),
    "value_date": (Activity, _activity(value=[date(2026, 1, 1)])),
    "value_non_str_key": (Activity, _activity(value={1: "one"})),
    "dict_as_key_value_list": (
        Activity,
        _activity(semanticAction={"id": "s", "entities": [{"key": "k", "value": {}}]}),
    ),
    "dict_field_str": (Activity, _activity(semanticAction={"id": "s", "entities": "e"})),
    "non_str_top_level_key": (Activity, {"type": "message", 1: "one"}),
    "none": (Activity, None),
    "json_text": (Activity, '{"type": "message"}'),
    "list": (Activity, [_activity()]),
    "number": (Activity, 5),
    "ordered_dict": (Activity, OrderedDict(_activity(text="x"))),
    "model_instance": (Activity, Activity(type="message", text="already a model")),
    "teams_model_naming_a_schema_model": (MessagingExtensionAction, {"botActivityPreview": [{"type": "message"}]}),
    "teams_class_object_as_type": (MessagingExtensionResponse, {"cacheInfo": {"cacheType": "no-cache"}}),
    "teams_class_object_as_type_absent": (MessagingExtensionResponse, {"composeExtension": {"type": "result"}}),
}


@pytest.mark.parametrize(("cls", "data"), READ_EDGE_CASES.values(), ids=READ_EDGE_CASES.keys())
def test_reads_edge_cases_like_msrest(cls: Any, data: Any) -> None:
    assert_reads_like_msrest(cls, data)


@pytest.mark.parametrize(
    "data",
    [
        _activity(timestamp="not a date"),
        _activity(membersAdded={"id": "u2"}),
        _activity(**{"from": "nonsense"}),
        _activity(entities=[{"type": "x"}, "y"]),
    ],
    ids=["bad_timestamp", "members_added_not_a_list", "nested_model_str", "second_entity_str"],
)
def test_raises_msrest_deserialization_error(data: dict[str, Any]) -> None:
    with pytest.raises(DeserializationError) as ours:
        deserialize(Activity, data)
    with pytest.raises(DeserializationError) as theirs:
        Activity.deserialize(data)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def test_a_fast_path_attempt_has_no_side_effects(caplog: pytest.LogCaptureFixture) -> None:
    data = _activity(entities=[{"type": "mention", "text": "x"}], text=5)  # falls back after building an Entity
    before = copy.deepcopy(data)
    with caplog.at_level(logging.DEBUG, logger="msrest"):
        assert deserialize(Activity, data) == Activity.deserialize(data)
    assert data == before and not caplog.records


def test_constant_and_readonly_attributes_are_left_to_msrest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(activity_json, "_READERS", {})  # plans are cached: start from none
    monkeypatch.setattr(ChannelAccount, "_validation", {"role": {"constant": True}, "name": {"readonly": True}})
    data = _activity(**{"from": {"id": "u1", "name": "Ada", "role": "user"}})
    assert_reads_like_msrest(Activity, data)
    assert deserialize(Activity, data).from_property.role is None  # msrest leaves constants to the constructor


def test_polymorphic_models_are_left_to_msrest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(activity_json, "_READERS", {})
    monkeypatch.setattr(Entity, "_subtype_map", {"type": {"mention": "Mention"}})
    data = _activity(entities=[{"type": "mention", "text": "<at>Bot</at>"}, {"type": "clientInfo"}])
    ours, theirs = deserialize(Activity, copy.deepcopy(data)), Activity.deserialize(copy.deepcopy(data))  # msrest pops
    assert _shape(ours) == _shape(theirs)
    assert [type(entity) for entity in ours.entities] == [Mention, Entity]


def test_the_root_class_is_looked_up_by_name_like_msrest(monkeypatch: pytest.MonkeyPatch) -> None:
    classes = {**Activity._infer_class_models(), "Activity": Entity}  # msrest reads into whatever has the name
    monkeypatch.setattr(activity_json, "_READERS", {})
    monkeypatch.setattr(Activity, "_infer_class_models", classmethod(lambda cls: classes))
    assert_reads_like_msrest(Activity, TEAMS_CHANNEL_MESSAGE)
    assert type(deserialize(Activity, TEAMS_CHANNEL_MESSAGE)) is Entity


def test_additional_properties_share_values_with_the_input_like_msrest() -> None:
    data = _activity(futureField={"a": [1]})
    ours, theirs = deserialize(Activity, data), Activity.deserialize(data)
    assert ours.additional_properties == theirs.additional_properties == {"futureField": {"a": [1]}}
    assert ours.additional_properties["futureField"] is theirs.additional_properties["futureField"]


def test_a_patched_or_overridden_deserialize_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Activity, "deserialize", classmethod(lambda cls, data, content_type=None: "custom"))
    assert deserialize(Activity, {"type": "message"}) == "custom"
