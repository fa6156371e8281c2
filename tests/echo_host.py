"""An echo bot on `FixedCloudAdapter` behind /api/messages over real HTTP, replying to the fake connector; and
credentials that hand out a static token. Shared by the adapter's tests and those of its parts."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

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
