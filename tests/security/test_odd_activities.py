"""Odd activities and invokes at POST /api/messages (auth off, loopback): each gets a defined answer, never a 500 or a
failed turn, and the conversation goes on afterwards; callers' ids reach the log escaped and bounded.

Each case runs in a conversation with a question pending ("did this help?"): after the odd activity, "yes" must
still be taken as the answer to it, so the conversation's state survived.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ConversationAccount

from assistant.handoff.card import case_card
from assistant.handoff.model import SupportCase
from bot.app import create_app
from bot.errors import on_turn_error
from bot.handler import CARD_VERBS, TroubleshootBot
from bot.log_setup import FORMAT, SafeFormatter, configure_logging, safe_id
from bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeConnector

DROP = object()  # a field value meaning "leave the field out"
ERROR_TYPE = "application/vnd.microsoft.error"
# a raw control, line-separator or bidi character: none may reach a log line
RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass
class Chat:
    """The app on a test client, with the fake Bot Connector its replies go to."""

    client: TestClient[web.Request, web.Application]
    connector: FakeConnector

    def activity(self, channel_id: str, conversation_id: str, **fields: Any) -> dict[str, Any]:
        """A message in that conversation; `fields` override it, a DROP value removes the field."""
        body = {
            "type": "message",
            "id": uuid.uuid4().hex,
            "channelId": channel_id,
            "serviceUrl": self.connector.url,
            "conversation": {"id": conversation_id},
            "from": {"id": "user-1", "name": "Ada"},
            "recipient": {"id": "bot-1", "name": "Bot"},
            "locale": "en-US",
            "text": "hi",
        }
        body.update(fields)
        return {key: value for key, value in body.items() if value is not DROP}

    async def post(self, body: Any) -> tuple[int, Any]:
        """POST `body`; the status and the JSON body (None when there is none, or it is `null`)."""
        async with self.client.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
        ) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None

    async def say(self, channel: str, conversation: str, text: str) -> str:
        """Send a message with expectReplies; what the user sees of the replies (texts and card summaries)."""
        status, body = await self.post(self.activity(channel, conversation, text=text, deliveryMode="expectReplies"))
        assert status == 200
        return " ".join(_shown(a) for a in body["activities"] if a["type"] == "message")


def _shown(activity: dict[str, Any]) -> str:
    return (activity.get("text") or "") + (activity.get("summary") or "")


@pytest.fixture
async def chat(
    aiohttp_client: Any, make_settings: Callable[..., Settings], knowledge: Any, fake_connector: FakeConnector
) -> Chat:
    client = await aiohttp_client(create_app(make_settings(), knowledge=knowledge))
    return Chat(client, fake_connector)


async def _ask_pending_question(chat: Chat, channel: str, conversation: str) -> None:
    assert "did this help" in (await chat.say(channel, conversation, "Solution ID is required")).lower()


async def _answer_pending_question(chat: Chat, channel: str, conversation: str) -> None:
    assert "glad" in await chat.say(channel, conversation, "yes")


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Records of a failed turn or a server error: anything at ERROR, or carrying a traceback."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def _invoke(name: Any = DROP, value: Any = DROP, **fields: Any) -> dict[str, Any]:
    return {"type": "invoke", "name": name, "value": value, "text": DROP, **fields}


def _card_action(action: Any) -> dict[str, Any]:
    return _invoke("adaptiveCard/action", {"action": action, "trigger": "manual"})


def _execute(**fields: Any) -> dict[str, Any]:
    return {"type": "Action.Execute", "verb": "choose", "data": {"choice": "yes"}, **fields}


# Universal Actions error answer (HTTP 200, statusCode 400 in the body)
BAD_CARD_ACTIONS = {
    "value null": _invoke("adaptiveCard/action", None),
    "value {}": _invoke("adaptiveCard/action", {}),
    "value a string": _invoke("adaptiveCard/action", "x"),
    "value a list": _invoke("adaptiveCard/action", [{"action": _execute()}]),
    "value a number": _invoke("adaptiveCard/action", 5),
    "value missing": _invoke("adaptiveCard/action"),
    "action missing": _invoke("adaptiveCard/action", {"trigger": "manual"}),
    "action null": _card_action(None),
    "action a string": _card_action("Action.Execute"),
    "action a list": _card_action([_execute()]),
    "action.type Submit": _card_action(_execute(type="Action.Submit")),
    "action.data a string": _card_action(_execute(data="yes")),
    "action.data a list": _card_action(_execute(data=[1])),
    "action.data missing": _card_action({"type": "Action.Execute", "verb": "choose"}),
    "verb missing": _card_action({"type": "Action.Execute", "data": {"choice": "yes"}}),
    "verb unknown": _card_action(_execute(verb="delete-everything")),
    "verb a list": _card_action(_execute(verb=["choose"])),
    "no channelId": {**_card_action(_execute()), "channelId": DROP},
    "Teams task/fetch, value a string": _invoke("task/fetch", "x", channelId="msteams"),
    "Teams composeExtension/query, value a list": _invoke("composeExtension/query", [1], channelId="msteams"),
}

# 200 with no body: nothing handles these invokes
UNHANDLED_INVOKES = {
    "name foo/bar": _invoke("foo/bar"),
    "name empty": _invoke(""),
    "no name": _invoke(),
    "no name, Teams": _invoke(channelId="msteams"),
    "name null, Teams": _invoke(None, channelId="msteams"),
    "signin/verifyState, Teams": _invoke("signin/verifyState", {"state": "1"}, channelId="msteams"),
    "signin/tokenExchange": _invoke("signin/tokenExchange", {"id": "x"}),
    "healthCheck": _invoke("healthCheck"),
    "task/fetch, Teams": _invoke("task/fetch", {"data": {}}, channelId="msteams"),
}

# 201 with no body: handled as no-op turns (or, for conversationUpdates, the welcome)
QUIET_ACTIVITIES = {
    "conversationUpdate, Teams, channelData a string": {
        "type": "conversationUpdate",
        "channelData": "x",
        "membersAdded": [{"id": "user-1"}],
        "channelId": "msteams",
    },
    "conversationUpdate, Teams, channelData a list": {
        "type": "conversationUpdate",
        "channelData": [1],
        "channelId": "msteams",
    },
    "conversationUpdate, Teams, channelData with a bad team": {
        "type": "conversationUpdate",
        "channelData": {"team": 5, "eventType": "channelCreated", "channel": "x"},
        "channelId": "msteams",
    },
    "conversationUpdate, membersAdded empty objects": {"type": "conversationUpdate", "membersAdded": [{}]},
    "messageUpdate, Teams, channelData a string": {"type": "messageUpdate", "channelData": "x", "channelId": "msteams"},
    "messageDelete, Teams, channelData a number": {"type": "messageDelete", "channelData": 5, "channelId": "msteams"},
    "messageReaction": {"type": "messageReaction", "reactionsAdded": [{"type": "like"}], "replyToId": "x"},
    "messageReaction, Teams": {"type": "messageReaction", "reactionsRemoved": [{}], "channelId": "msteams"},
    "typing": {"type": "typing"},
    "event": {"type": "event", "name": "foo", "value": [1]},
    "event, Teams meetingStart, value a string": {
        "type": "event",
        "name": "application/vnd.microsoft.meetingStart",
        "value": "x",
        "channelId": "msteams",
    },
    "endOfConversation": {"type": "endOfConversation", "code": "userCancelled"},
    "installationUpdate": {"type": "installationUpdate", "action": "add"},
    "installationUpdate, Teams": {"type": "installationUpdate", "action": "remove-upgrade", "channelId": "msteams"},
    "type foo": {"type": "foo"},
    "message, empty text": {"text": ""},
    "message, no channelId": {"channelId": DROP},
    "message, empty channelId": {"channelId": ""},
}

# 400 with {"error": reason}: these cannot be a turn (no state key, nowhere to reply) or do not match the schema
REFUSED_ACTIVITIES = {
    "no serviceUrl": {"serviceUrl": DROP},
    "serviceUrl null": {"serviceUrl": None},
    "serviceUrl not a URL": {"serviceUrl": "not a url"},
    "serviceUrl a number": {"serviceUrl": 5},
    "serviceUrl javascript:": {"serviceUrl": "javascript:alert(1)"},
    "invoke without serviceUrl": {**_card_action(_execute()), "serviceUrl": DROP},
    "empty conversation.id": {"conversation": {"id": ""}},
    "membersAdded not objects": {"type": "conversationUpdate", "membersAdded": [1, "x", None]},
    "membersAdded an object": {"type": "conversationUpdate", "membersAdded": {"id": "x"}},
    "reactionsAdded a string": {"type": "messageReaction", "reactionsAdded": "like"},
    "entities not objects": {"entities": [1, "x"]},
}

# 200 with the replies (expectReplies): the message is answered
ANSWERED_MESSAGES = {
    "no recipient": {"recipient": DROP},
    "recipient null": {"recipient": None},
    "recipient without id, Teams": {"recipient": {}, "channelId": "msteams"},
    "no from": {"from": DROP},
    "from null": {"from": None},
    "from without id": {"from": {"name": "nobody"}},
    "no from, no recipient": {"from": DROP, "recipient": DROP},
    "no serviceUrl": {"serviceUrl": DROP},
    "mention entity without mentioned": {"entities": [{"type": "mention", "text": "<at>Bot</at>"}]},
    "mention entity with a non-string text": {
        "entities": [{"type": "mention", "text": 5, "mentioned": {"id": "bot-1", "name": "Bot"}}]
    },
    "entity without type": {"entities": [{"text": "x"}]},
    "value a list": {"value": [1]},
    "value a string": {"value": "yes"},
    "locale a number": {"locale": 5},
}


def _channel(fields: dict[str, Any]) -> str:
    """The case's channel, or "test" when the case has none (the pending question needs one)."""
    channel = fields.get("channelId")
    return channel if isinstance(channel, str) and channel else "test"


@pytest.mark.parametrize("fields", BAD_CARD_ACTIONS.values(), ids=BAD_CARD_ACTIONS.keys())
async def test_malformed_card_action_gets_a_universal_actions_bad_request(
    chat: Chat, caplog: pytest.LogCaptureFixture, fields: dict[str, Any]
) -> None:
    channel, conversation = _channel(fields), uuid.uuid4().hex
    await _ask_pending_question(chat, channel, conversation)

    status, body = await chat.post(chat.activity(channel, conversation, **fields))

    assert status == 200
    assert body["statusCode"] == 400 and body["type"] == ERROR_TYPE
    assert body["value"]["code"] == "BadRequest" and 0 < len(body["value"]["message"]) < 100
    assert set(body) == {"statusCode", "type", "value"} and set(body["value"]) == {"code", "message"}
    await _answer_pending_question(chat, channel, conversation)
    assert _failures(caplog) == []


@pytest.mark.parametrize("fields", UNHANDLED_INVOKES.values(), ids=UNHANDLED_INVOKES.keys())
async def test_unhandled_invoke_gets_200_without_a_body(
    chat: Chat, caplog: pytest.LogCaptureFixture, fields: dict[str, Any]
) -> None:
    channel, conversation = _channel(fields), uuid.uuid4().hex
    await _ask_pending_question(chat, channel, conversation)

    assert await chat.post(chat.activity(channel, conversation, **fields)) == (200, None)

    await _answer_pending_question(chat, channel, conversation)
    assert _failures(caplog) == []


@pytest.mark.parametrize("fields", QUIET_ACTIVITIES.values(), ids=QUIET_ACTIVITIES.keys())
async def test_odd_activity_is_a_quiet_turn(
    chat: Chat, caplog: pytest.LogCaptureFixture, fields: dict[str, Any]
) -> None:
    channel, conversation = _channel(fields), uuid.uuid4().hex
    await _ask_pending_question(chat, channel, conversation)

    assert await chat.post(chat.activity(channel, conversation, **fields)) == (201, None)

    await _answer_pending_question(chat, channel, conversation)
    assert _failures(caplog) == []


@pytest.mark.parametrize("fields", REFUSED_ACTIVITIES.values(), ids=REFUSED_ACTIVITIES.keys())
async def test_activity_that_cannot_be_a_turn_is_400_with_a_reason(
    chat: Chat, caplog: pytest.LogCaptureFixture, fields: dict[str, Any]
) -> None:
    channel, conversation = _channel(fields), uuid.uuid4().hex
    await _ask_pending_question(chat, channel, conversation)
    sent = len(chat.connector.calls)

    status, body = await chat.post(chat.activity(channel, conversation, **fields))

    assert status == 400 and set(body) == {"error"} and 0 < len(body["error"]) < 100
    assert len(chat.connector.calls) == sent  # no turn ran
    await _answer_pending_question(chat, channel, conversation)
    assert _failures(caplog) == []


@pytest.mark.parametrize("fields", ANSWERED_MESSAGES.values(), ids=ANSWERED_MESSAGES.keys())
async def test_message_with_odd_addressing_is_answered(
    chat: Chat, caplog: pytest.LogCaptureFixture, fields: dict[str, Any]
) -> None:
    channel, conversation = _channel(fields), uuid.uuid4().hex
    await _ask_pending_question(chat, channel, conversation)
    odd = chat.activity(channel, conversation, text="yes", deliveryMode="expectReplies", **fields)

    status, body = await chat.post(odd)

    assert status == 200
    assert "glad" in " ".join(_shown(a) for a in body["activities"] if a["type"] == "message")
    await _ask_pending_question(chat, channel, conversation)  # and the conversation goes on
    assert _failures(caplog) == []


def test_card_verbs_are_the_ones_the_cards_use() -> None:
    from assistant.presenters import cards

    emitted = {a["verb"] for a in cards.welcome_card("en", execute=True)["actions"]}
    emitted |= {cards.button("x", {}, execute=True)["verb"]}
    now = datetime.now(UTC)
    case = SupportCase(ref="CS-TEST23", created=now, updated=now, channel_id="msteams", conversation_id="c")
    support_card = case_card(case, None)
    actions = [*support_card["actions"], *(a["card"]["actions"][0] for a in support_card["actions"] if "card" in a)]
    emitted |= {a["verb"] for a in actions if a["type"] == "Action.Execute"}
    assert emitted == CARD_VERBS


async def test_a_failing_invoke_turn_is_200_with_an_error_body(
    chat: Chat, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(self: TroubleshootBot, turn_context: Any, invoke_value: Any) -> Any:
        raise RuntimeError("internal detail\r\nFAKE LOG LINE")

    conversation = uuid.uuid4().hex
    await _ask_pending_question(chat, "msteams", conversation)
    monkeypatch.setattr(TroubleshootBot, "on_adaptive_card_invoke", fail)

    status, body = await chat.post(chat.activity("msteams", conversation, **_card_action(_execute())))

    assert status == 200
    assert body["statusCode"] == 500 and body["type"] == ERROR_TYPE and body["value"]["code"] == "InternalServerError"
    assert "internal detail" not in json.dumps(body)
    monkeypatch.undo()
    await _answer_pending_question(chat, "msteams", conversation)
    [failure] = _failures(caplog)  # the failed turn is logged once, its ids escaped
    assert failure.startswith("turn failed:") and "name=adaptiveCard/action" in failure


async def test_a_valid_card_action_still_refreshes_the_card(chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    conversation = uuid.uuid4().hex
    action = _execute(verb="area", data={"area": "configuration"})

    status, body = await chat.post(chat.activity("msteams", conversation, **_card_action(action)))

    assert status == 200 and body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "step 1 of" in _shown(chat.connector.calls[-1].activity)
    assert _failures(caplog) == []


# ---- logs ---------------------------------------------------------------------------------------------------------

HOSTILE_IDS = {
    "200 KB": "c" * 200_000,
    "newline": "conv\nid",
    "forged line": "conv\r\nFAKE LOG LINE 2024-01-01 00:00:00,000 ERROR bot: forged",
    "ANSI": "\x1b[2J\x1b[31mconv\x1b[0m",
    "NUL and separators": "conv\x00\u2028\u2029\x85\u202e",
}


def _assert_harmless(record: logging.LogRecord) -> None:
    message = record.getMessage()
    assert not RAW_CONTROL.search(message), message[:200]
    assert len(message) < 2048
    first, *rest = SafeFormatter(FORMAT).format(record).split("\n")
    assert not RAW_CONTROL.search(first) and len(first) < 2048
    for line in rest:  # a traceback: fenced, so no line of it can pass for a record
        assert line.startswith("| ") and not RAW_CONTROL.search(line) and len(line) < 4200


async def test_callers_ids_are_logged_escaped_and_bounded(chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    chat.connector.fail_next(10_000)  # every reply fails: the turn-error handler logs the turn's ids
    failed_turns = 0
    for hostile in HOSTILE_IDS.values():
        short = hostile if len(hostile) < 1000 else "id-1"  # one 200 KB field per body: the limit is 256 KB
        message = chat.activity(short, hostile, id=short, name=short, text="Solution ID is required")
        status, _ = await chat.post(message)
        assert status == 201 or (400 <= status < 500 and len(hostile) > 1000)  # an id limit may refuse it first
        failed_turns += status == 201
        invoke = chat.activity(short, hostile, id=short, **_card_action({"verb": short}))
        assert (await chat.post(invoke))[0] < 500

    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("turn failed:") for m in messages) == failed_turns >= len(HOSTILE_IDS) - 1
    assert any("conversation=conv\\r\\nFAKE LOG LINE" in m for m in messages)
    assert any("conversation=\\x1b[2J\\x1b[31mconv" in m for m in messages)
    for record in caplog.records:
        _assert_harmless(record)


async def test_a_200_kb_id_makes_a_short_turn_error_record(caplog: pytest.LogCaptureFixture) -> None:
    hostile = "c" * 200_000 + "\r\nFAKE LOG LINE"
    activity = Activity(
        type="event",  # the handler only logs: no apology to send
        id=hostile,
        name=hostile,
        channel_id=hostile,
        conversation=ConversationAccount(id=hostile),
    )

    await on_turn_error(TurnContext(TestAdapter(), activity), KeyError(hostile))

    [record] = caplog.records
    _assert_harmless(record)
    assert record.getMessage().count(f"{'c' * 128}…(+{len(hostile) - 128})") == 4  # conversation, id, channel, name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain-id_1:2@x", "plain-id_1:2@x"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x1b[31m\x00\x7f\x85", "\\x1b[31m\\x00\\x7f\\x85"),
        ("x\u2028y\u2029z\u202e", "x\\u2028y\\u2029z\\u202e"),
        ("é✔ 日本", "é✔ 日本"),
        (None, "None"),
        (42, "42"),
        ("x" * 128, "x" * 128),
        ("x" * 129, "x" * 128 + "…(+1)"),
        ("\n" * 300, "\\n" * 128 + "…(+172)"),
    ],
)
def test_safe_id(value: object, expected: str) -> None:
    assert safe_id(value) == expected


def test_the_formatter_escapes_the_message_and_fences_the_traceback() -> None:
    try:
        raise KeyError("key\r\nFAKE LOG LINE\x1b[2J")
    except KeyError:
        exc_info = sys.exc_info()
    hostile = "id\nFAKE LOG LINE" * 1000
    record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "turn failed: %s", (hostile,), exc_info)
    record.exc_text = "cached elsewhere\nFAKE LOG LINE"  # another handler's unescaped cache is not reused

    out = SafeFormatter(FORMAT).format(record)

    first, *rest = out.split("\n")
    assert " ERROR bot.x: turn failed: id\\nFAKE LOG LINE" in first
    assert first.endswith(f"…(+{len('turn failed: ' + hostile) - 4096})")  # the message is bounded
    assert rest[0] == "| Traceback (most recent call last):" and all(line.startswith("| ") for line in rest)
    assert "\\r\\nFAKE LOG LINE\\x1b[2J" in rest[-1] and "cached elsewhere" not in out
    assert not any(line.startswith("FAKE") for line in out.split("\n"))
    assert not RAW_CONTROL.search(out.replace("\n", ""))


def test_configure_logging_installs_the_safe_formatter(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    levels = {
        name: logging.getLogger(name).level for name in ("", "httpx", "httpcore", "msrest", "urllib3", "aiohttp.access")
    }
    monkeypatch.setattr(root, "handlers", [])  # a list of our own: pytest's capture handlers stay untouched
    try:
        configure_logging("INFO")
        [handler] = root.handlers
        assert isinstance(handler.formatter, SafeFormatter)
        record = logging.LogRecord("bot", logging.INFO, __file__, 1, "conversation=%s", ("a\nb",), None)
        assert handler.format(record).endswith("conversation=a\\nb")
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
