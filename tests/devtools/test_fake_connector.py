"""The fake Bot Connector (devtools/fake_connector.py), driven by botbuilder 4.17's own clients: the async
`ConnectorClient` (anonymous and with a token) and `CloudAdapter.create_conversation`, as the escalation will use
them to open a thread in the support channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ConversationParameters
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException

from bot.adapter import FixedCloudAdapter
from bot.settings import Settings
from devtools.fake_connector import FakeConnector
from tests.echo_host import StaticCredentials

SUPPORT_CHANNEL = "19:support0a1b2c@thread.tacv2"


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as started:
        yield started


@pytest.fixture
async def client(fake: FakeConnector) -> AsyncIterator[Any]:
    async with ConnectorClient(MicrosoftAppCredentials.empty(), base_url=fake.url) as connector:
        yield connector


def _thread_parameters(text: str = "Case CS-7K3Q9P") -> ConversationParameters:
    return ConversationParameters(
        is_group=True,
        channel_data={"channel": {"id": SUPPORT_CHANNEL}, "tenant": {"id": "tenant-1"}},
        activity=Activity(type="message", text=text),
    )


async def test_start_and_stop_need_no_pytest_plugin() -> None:
    fake = await FakeConnector().start()
    assert fake.url.startswith("http://127.0.0.1:") and not fake.url.endswith(":0")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.url}/v3/conversations/c/activities", json={"type": "message"}) as resp:
            assert resp.status == 200 and set(await resp.json()) == {"id"}
        await fake.stop()
        await fake.stop()  # idempotent
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(f"{fake.url}/v3/conversations/c/activities", json={})
    with pytest.raises(RuntimeError, match="start"):
        await FakeConnector().wait_for(lambda call: True, 0.1)


async def test_each_call_is_stamped_with_when_it_was_answered(fake: FakeConnector) -> None:
    before = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        for path in ("/v3/conversations/c/activities", "/v3/nowhere"):
            async with session.post(f"{fake.url}{path}", json={"type": "message"}) as resp:
                await resp.read()
    first, second = fake.calls
    assert before <= first.at <= second.at <= time.perf_counter()  # the bench's clock: this process's perf_counter


async def test_a_channel_thread_is_created_like_teams_does(fake: FakeConnector, client: Any) -> None:
    created = await client.conversations.create_conversation(_thread_parameters())

    message_id = created.activity_id
    assert message_id.isdigit() and created.id == f"{SUPPORT_CHANNEL};messageid={message_id}"
    [call] = fake.calls
    assert (call.kind, call.method, call.path, call.status) == ("create_conversation", "POST", "/v3/conversations", 201)
    assert call.body["isGroup"] is True and call.body["channelData"]["tenant"] == {"id": "tenant-1"}
    assert call.activity["text"] == "Case CS-7K3Q9P" and call.authorization is None  # anonymous: no header
    assert call.conversation_id == created.id


async def test_send_reply_and_update_round_trip_with_encoded_ids(fake: FakeConnector, client: Any) -> None:
    thread = (await client.conversations.create_conversation(_thread_parameters())).id
    conversations = client.conversations

    sent = await conversations.send_to_conversation(thread, Activity(type="message", text="user: it still fails"))
    replied = await conversations.reply_to_activity(thread, sent.id, Activity(type="message", text="on it"))
    updated = await conversations.update_activity(thread, sent.id, Activity(type="message", text="edited"))

    assert sent.id != replied.id and updated.id == sent.id
    send, reply, update = fake.calls[1:]
    encoded = "19%3Asupport0a1b2c%40thread.tacv2%3Bmessageid%3D" + thread.rsplit("=", 1)[1]
    assert (send.kind, send.method, send.path) == (
        "send_to_conversation",
        "POST",
        f"/v3/conversations/{encoded}/activities",
    )
    assert (reply.kind, reply.path) == ("reply_to_activity", f"/v3/conversations/{encoded}/activities/{sent.id}")
    assert (update.kind, update.method) == ("update_activity", "PUT")
    assert {c.conversation_id for c in (send, reply, update)} == {thread}  # decoded once, as the bot wrote it
    assert (reply.activity_id, update.activity_id) == (sent.id, sent.id)
    assert [c.activity["text"] for c in (send, reply, update)] == ["user: it still fails", "on it", "edited"]


@pytest.mark.parametrize("conversation", ["a:1/2", "conv%2F1", "29:1x@y;messageid=3", "x/activities/y", "a b"])
async def test_odd_ids_arrive_decoded_exactly_once(fake: FakeConnector, client: Any, conversation: str) -> None:
    sent = await client.conversations.send_to_conversation(conversation, Activity(type="message", text="hi"))
    await client.conversations.update_activity(conversation, "1:2%3", Activity(type="message", text="hi"))
    [send, update] = fake.calls
    assert send.conversation_id == update.conversation_id == conversation and sent.id
    assert update.activity_id == "1:2%3"


async def test_a_token_is_recorded_as_sent(fake: FakeConnector) -> None:
    async with ConnectorClient(StaticCredentials(), base_url=fake.url) as connector:
        await connector.conversations.send_to_conversation("c", Activity(type="message", text="hi"))
    assert [call.authorization for call in fake.calls] == ["Bearer token-1"]


async def test_bot_not_in_roster_refuses_the_thread(fake: FakeConnector, client: Any) -> None:
    fake.not_in_roster = True

    with pytest.raises(ErrorResponseException) as refused:
        await client.conversations.create_conversation(_thread_parameters())

    assert refused.value.error.error.code == "BotNotInConversationRoster"
    assert refused.value.response.status_code == 403
    assert [(c.kind, c.status) for c in fake.calls] == [("create_conversation", 403)]
    # the switch is about installing the bot in the team: existing conversations still take messages
    assert (await client.conversations.send_to_conversation("a:1", Activity(type="message", text="hi"))).id


async def test_fail_next_answers_503_that_many_times(fake: FakeConnector, client: Any) -> None:
    fake.fail_next(2)
    for _ in range(2):
        with pytest.raises(ErrorResponseException) as unavailable:
            await client.conversations.send_to_conversation("c", Activity(type="message", text="hi"))
        assert unavailable.value.error.error.code == "ServiceUnavailable"  # the async client does not retry
    assert fake.failures_left == 0
    assert (await client.conversations.create_conversation(_thread_parameters())).activity_id
    assert [call.status for call in fake.calls] == [503, 503, 201]


async def test_a_put_is_retried_by_msrest_a_post_is_not(fake: FakeConnector, client: Any) -> None:
    fake.fail_next(1)
    updated = await client.conversations.update_activity("c", "1", Activity(type="message", text="edited"))
    assert updated.id == "1" and [(c.kind, c.status) for c in fake.calls] == [("update_activity", 503)] + [
        ("update_activity", 200)
    ]


async def test_a_one_to_one_conversation_and_unknown_routes(fake: FakeConnector, client: Any) -> None:
    created = await client.conversations.create_conversation(ConversationParameters(is_group=False))
    assert created.id.startswith("a:fake-") and created.activity_id is None
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.url}/v3/conversations/a/members") as resp:
            assert resp.status == 404 and (await resp.json())["error"]["code"] == "NotFound"
        async with session.post(f"{fake.url}/v3/conversations/a/activities", data=b"not json") as resp:
            assert resp.status == 400
    assert [(c.kind, c.status) for c in fake.calls][1:] == [("unknown", 404), ("send_to_conversation", 400)]


async def test_wait_for_returns_a_past_or_a_coming_call_and_times_out_naming_what_came(
    fake: FakeConnector, client: Any
) -> None:
    await client.conversations.send_to_conversation("first", Activity(type="message", text="one"))
    assert (await fake.wait_for(lambda call: call.conversation_id == "first", 0.1)).activity["text"] == "one"

    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.conversations.send_to_conversation("second", Activity(type="message", text="two"))

    task = asyncio.create_task(later())
    call = await fake.wait_for(lambda call: call.conversation_id == "second", 5)
    await task
    assert call.activity["text"] == "two"

    with pytest.raises(TimeoutError, match="no matching connector call within 0.05s; received: .*first"):
        await fake.wait_for(lambda call: call.conversation_id == "never", 0.05)


@pytest.fixture(params=["CloudAdapter", "FixedCloudAdapter"])
async def adapter(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """botbuilder's own adapter and bot/adapter.py's, both with auth off (empty app id)."""
    auth = ConfigurationBotFrameworkAuthentication(Settings(_env_file=None).bot_auth_config())
    if request.param == "CloudAdapter":
        yield CloudAdapter(auth)
        return
    fixed = FixedCloudAdapter(auth, max_body_bytes=4096)
    try:
        yield fixed
    finally:
        await fixed.close()


async def test_the_adapter_opens_a_support_thread_and_posts_into_it(fake: FakeConnector, adapter: Any) -> None:
    seen: dict[str, Any] = {}

    async def callback(context: TurnContext) -> None:
        seen["activity"] = context.activity
        seen["reference"] = TurnContext.get_conversation_reference(context.activity)
        seen["reply"] = await context.send_activity("The case card follows")

    await adapter.create_conversation("", callback, _thread_parameters(), "msteams", fake.url)

    created, posted = fake.calls
    thread_id, root_id = f"{SUPPORT_CHANNEL};messageid={posted.activity_id}", posted.activity_id
    assert seen["activity"].type == "event" and seen["activity"].name == "CreateConversation"
    assert seen["reference"].conversation.id == thread_id and seen["reference"].service_url == fake.url
    assert seen["activity"].id == root_id and seen["reply"].id
    assert created.kind == "create_conversation" and posted.kind == "reply_to_activity"  # under the thread's root
    assert posted.conversation_id == thread_id and posted.activity["text"] == "The case card follows"


async def test_the_adapter_raises_not_in_roster_before_any_turn(fake: FakeConnector, adapter: Any) -> None:
    fake.not_in_roster = True
    turns: list[Any] = []
    errors: list[Exception] = []

    async def on_error(context: TurnContext, error: Exception) -> None:
        errors.append(error)

    async def callback(context: TurnContext) -> None:
        turns.append(context.activity)

    adapter.on_turn_error = on_error
    with pytest.raises(ErrorResponseException) as refused:
        await adapter.create_conversation("", callback, _thread_parameters(), "msteams", fake.url)

    assert refused.value.error.error.code == "BotNotInConversationRoster"
    assert turns == [] and errors == []
