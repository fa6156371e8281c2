"""FixedCloudAdapter over real HTTP: a tiny echo bot behind /api/messages, replies to a fake connector."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory
from msrest.universal_http.requests import ClientRetryPolicy

from bot.adapter import ConnectorError, FixedCloudAdapter, patch_msrest_retry_policy
from bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeConnector

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "done"}]}


class EchoBot(ActivityHandler):  # type: ignore[misc]
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"echo: {turn_context.activity.text}")

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_TYPE, value=CARD)


@dataclass
class Host:
    client: TestClient[web.Request, web.Application]
    errors: list[Exception] = field(default_factory=list)

    async def post(self, body: Any, **kwargs: Any) -> tuple[int, Any]:
        data = json.dumps(body) if isinstance(body, dict | list) else body
        headers = kwargs.pop("headers", {"Content-Type": "application/json"})
        async with self.client.post("/api/messages", data=data, headers=headers, **kwargs) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None


MakeHost = Callable[..., Awaitable[Host]]


@pytest.fixture
def make_host(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> MakeHost:
    async def make(credentials_factory: ServiceClientCredentialsFactory | None = None, **overrides: Any) -> Host:
        settings = make_settings(**overrides)
        auth = ConfigurationBotFrameworkAuthentication(
            settings.bot_auth_config(), credentials_factory=credentials_factory
        )
        adapter = FixedCloudAdapter(auth, max_body_bytes=settings.max_body_bytes)
        bot = EchoBot()
        host = Host(client=None)  # type: ignore[arg-type]

        async def on_error(context: TurnContext, error: Exception) -> None:
            host.errors.append(error)

        async def messages(request: web.Request) -> web.StreamResponse:
            return await adapter.process(request, bot)

        async def close(app: web.Application) -> None:
            await adapter.close()

        adapter.on_turn_error = on_error
        app = web.Application()
        app.router.add_post("/api/messages", messages)
        app.on_cleanup.append(close)
        host.client = await aiohttp_client(app)
        return host

    return make


def message(service_url: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "act-1",
        "text": text,
        "channelId": "test",
        "serviceUrl": service_url,
        "conversation": {"id": "conv/1"},
        "from": {"id": "user-1", "name": "User"},
        "recipient": {"id": "bot-1", "name": "Bot"},
        **extra,
    }


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


@pytest.mark.parametrize("authorization", [None, "garbage", "Bearer abc", "Bearer a.b.c"])
async def test_auth_on_without_a_valid_authorization_header_is_401(
    make_host: MakeHost, fake_connector: FakeConnector, authorization: str | None
) -> None:
    host = await make_host(app_id=str(uuid.uuid4()), app_password="x")
    headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})

    status, body = await host.post(message(fake_connector.url), headers=headers)

    assert status == 401 and body["error"]
    assert fake_connector.calls == []


class StaticCredentials(AppCredentials):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(app_id="bot-app")
        self.calls = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.calls += 1
        return "token-1"


class StaticCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Inbound auth off (no JWT to forge), outbound credentials with a token."""

    def __init__(self) -> None:
        self.created: list[StaticCredentials] = []

    async def is_valid_app_id(self, app_id: str) -> bool:
        return True

    async def is_authentication_disabled(self) -> bool:
        return True

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        self.created.append(StaticCredentials())
        return self.created[-1]


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
    fake_connector.status = 503

    assert (await host.post(message(fake_connector.url)))[0] == 201

    [error] = host.errors
    assert isinstance(error, ConnectorError) and error.status == 503 and "503" in str(error)


async def _chunks(size: int) -> AsyncIterator[bytes]:
    yield b'{"type": "message", "text": "'
    yield b"x" * size
    yield b'"}'


SECRET = "do-not-echo-me"
BAD_INPUT = {
    "not JSON": ({"Content-Type": "application/json"}, "{" + SECRET, 400),
    "text/plain": ({"Content-Type": "text/plain"}, json.dumps({"type": "message", "text": SECRET}), 415),
    "no content type": ({}, json.dumps({"type": "message", "text": SECRET}), 415),
    "JSON array": ({"Content-Type": "application/json"}, json.dumps([SECRET]), 400),
    "missing type": ({"Content-Type": "application/json"}, json.dumps({"text": SECRET}), 400),
    "numeric type": ({"Content-Type": "application/json"}, json.dumps({"type": 5, "text": SECRET}), 400),
    "no conversation": ({"Content-Type": "application/json"}, json.dumps({"type": "message"}), 400),
    "bad timestamp": (
        {"Content-Type": "application/json"},
        json.dumps({"type": "message", "timestamp": SECRET, "conversation": {"id": "c"}}),
        400,
    ),
    "oversized": (
        {"Content-Type": "application/json"},
        json.dumps({"type": "message", "text": "x" * 5000}),
        413,
    ),
}


@pytest.mark.parametrize(("headers", "data", "expected"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
async def test_bad_input_gets_a_4xx_reason_and_the_conversation_goes_on(
    make_host: MakeHost, fake_connector: FakeConnector, headers: dict[str, str], data: str, expected: int
) -> None:
    host = await make_host(max_body_bytes=4096)
    skip = ["Content-Type"] if not headers else []

    status, body = await host.post(data, headers=headers, skip_auto_headers=skip)

    assert status == expected
    assert set(body) == {"error"} and SECRET not in body["error"]
    assert (await host.post(message(fake_connector.url, text="again")))[0] == 201
    assert [c.activity["text"] for c in fake_connector.calls] == ["echo: again"]


async def test_oversized_chunked_body_is_413(make_host: MakeHost) -> None:
    host = await make_host(max_body_bytes=4096)

    status, body = await host.post(_chunks(10_000), headers={"Content-Type": "application/json"})

    assert status == 413 and "error" in body


async def test_unknown_activity_type_is_accepted_politely(make_host: MakeHost, fake_connector: FakeConnector) -> None:
    host = await make_host()

    assert (await host.post(message(fake_connector.url, type="weird")))[0] == 201
    assert fake_connector.calls == [] and host.errors == []


def test_msrest_patch_keeps_the_retry_status_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # back to a list, as msrest ships it (the patch may already be in place from another test)
    monkeypatch.setattr(ClientRetryPolicy, "safe_codes", sorted(ClientRetryPolicy.safe_codes))
    original = ClientRetryPolicy().policy.status_forcelist

    patch_msrest_retry_policy()
    patched = ClientRetryPolicy.safe_codes
    patch_msrest_retry_policy()  # idempotent

    assert isinstance(patched, frozenset) and ClientRetryPolicy.safe_codes is patched
    assert ClientRetryPolicy().policy.status_forcelist == original
    assert 408 in original and 500 in original and 501 not in original and 404 not in original


async def test_the_user_token_client_is_built_once_and_reused(
    make_host: MakeHost, fake_connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []

    async def on_message_activity(self: EchoBot, turn_context: TurnContext) -> None:
        seen.append(turn_context.turn_state.get(turn_context.adapter.USER_TOKEN_CLIENT_KEY))
        await turn_context.send_activity("ok")

    monkeypatch.setattr(EchoBot, "on_message_activity", on_message_activity)
    factory = StaticCredentialsFactory()
    host = await make_host(credentials_factory=factory)

    for _ in range(3):
        assert (await host.post(message(fake_connector.url)))[0] == 201

    assert seen[0] is not None and seen == [seen[0]] * 3
    assert len(fake_connector.calls) == 3 and host.errors == []
