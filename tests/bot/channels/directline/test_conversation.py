"""One embedded conversation: activities stamped as the channel delivers them, and a history bounded in count that
never keeps the bot's traces (the store's bounds in bytes: tests/stores/test_directline_store.py)."""

from __future__ import annotations

from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from bot.app import ASSISTANT, DIRECT_LINE
from bot.channels.directline.conversation import Conversation
from tests import directline_client as dl
from tests.directline_client import BASE


async def test_history_is_bounded_and_traces_are_dropped(client, monkeypatch) -> None:
    monkeypatch.setattr(client.app[DIRECT_LINE].store, "max_history", 3)
    bot = client.app[ASSISTANT].bot

    async def chatty(turn_context) -> None:
        await turn_context.send_activity(Activity(type="trace", name="BotState"))
        await turn_context.send_activity("pong")

    monkeypatch.setattr(bot, "on_turn", chatty)
    conversation, auth = await dl.start(client)
    for n in range(3):
        await client.post(
            f"{BASE}/conversations/{conversation}/activities", json=dl.message("ping", f"c-{n}"), headers=auth
        )
    page = await dl.activities(client, conversation, auth)
    assert page["watermark"] == "7"  # welcome turn's pong + 3 × (echo, pong)
    assert [a["text"] for a in page["activities"]] == ["pong", "ping", "pong"]
    assert all(a["type"] == "message" for a in page["activities"])


def _conversation() -> Conversation:
    return Conversation("c-1", "user-1", "it-IT", AuthenticateRequestResult())


def test_stamp_binds_the_sender_and_sets_the_server_fields() -> None:
    body = {
        "type": "message",
        "id": "forged",
        "from": {"id": "admin", "name": "Ada"},
        "serviceUrl": "https://evil.example",
        "locale": "not a locale!",
    }
    stamped = _conversation().stamp(body, "http://127.0.0.1:3978/v3/directline")
    assert stamped["from"] == {"id": "user-1", "role": "user", "name": "Ada"} and "id" not in stamped
    assert stamped["serviceUrl"] == "http://127.0.0.1:3978/v3/directline" and stamped["channelId"] == "webchat"
    assert stamped["conversation"] == {"id": "c-1"} and stamped["locale"] == "it-IT"  # the conversation's
