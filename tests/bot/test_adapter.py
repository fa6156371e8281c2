"""FixedCloudAdapter over real HTTP: a tiny echo bot behind /api/messages, replies to a fake connector."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.adapter import ConnectorError
from tests.echo_host import CARD, CARD_TYPE, MakeHost, StaticCredentialsFactory, message

if TYPE_CHECKING:
    from conftest import FakeConnector


@pytest.mark.parametrize(
    ("conversation_id", "encoded"),
    [("conv/1", "conv%2F1"), ("19:a@thread.skype;messageid=7", "19%3Aa%40thread.skype%3Bmessageid%3D7")],
)
async def test_normal_delivery_posts_the_reply_to_the_connector(
    make_host: MakeHost, fake_connector: FakeConnector, conversation_id: str, encoded: str
) -> None:
    host = await make_host()

    status, body = await host.post(message(fake_connector.url, conversation={"id": conversation_id}))

    assert (status, body) == (201, None)
    [call] = fake_connector.calls
    assert call.path == f"/v3/conversations/{encoded}/activities/act-1"  # URL-encoded as msrest does
    assert call.authorization is None  # auth is off
    reply = call.activity
    assert reply["type"] == "message" and reply["text"] == "echo: hi"
    assert reply["replyToId"] == "act-1" and reply["conversation"]["id"] == conversation_id
    assert reply["from"]["id"] == "bot-1" and reply["recipient"]["id"] == "user-1"
    assert reply["inputHint"] == "acceptingInput"
    assert host.errors == []


async def test_activity_without_id_is_sent_to_the_conversation(
    make_host: MakeHost, fake_connector: FakeConnector
) -> None:
    host = await make_host()
    activity = message(fake_connector.url)
    del activity["id"]

    assert (await host.post(activity))[0] == 201
    assert [c.path for c in fake_connector.calls] == ["/v3/conversations/conv%2F1/activities"]


async def test_expect_replies_returns_the_replies_in_the_response(
    make_host: MakeHost, fake_connector: FakeConnector
) -> None:
    host = await make_host()

    status, body = await host.post(message(fake_connector.url, deliveryMode="expectReplies"))

    assert status == 200
    assert [a["text"] for a in body["activities"] if a["type"] == "message"] == ["echo: hi"]
    assert fake_connector.calls == []


async def test_adaptive_card_action_invoke_returns_the_card(make_host: MakeHost, fake_connector: FakeConnector) -> None:
    host = await make_host()
    invoke = message(
        fake_connector.url,
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "done", "data": {}}, "trigger": "manual"},
    )

    status, body = await host.post(invoke)

    assert status == 200
    assert body == {"statusCode": 200, "type": CARD_TYPE, "value": CARD}
    assert host.errors == []


async def test_replies_carry_the_token_of_botbuilders_credentials_reused_across_turns(
    make_host: MakeHost, fake_connector: FakeConnector
) -> None:
    factory = StaticCredentialsFactory()
    host = await make_host(credentials_factory=factory)

    for _ in range(2):
        assert (await host.post(message(fake_connector.url)))[0] == 201

    assert [c.authorization for c in fake_connector.calls] == ["Bearer token-1"] * 2
    assert [c.calls for c in factory.created if c.calls] == [2]  # one credentials object, MSAL cache kept


async def test_connector_failure_reaches_the_turn_error_handler(
    make_host: MakeHost, fake_connector: FakeConnector
) -> None:
    host = await make_host()
    fake_connector.fail_next(1)  # the reply sender does not retry: one 503 is the whole story

    assert (await host.post(message(fake_connector.url)))[0] == 201

    [error] = host.errors
    assert isinstance(error, ConnectorError) and error.status == 503 and "503" in str(error)
    assert [call.status for call in fake_connector.calls] == [503]
