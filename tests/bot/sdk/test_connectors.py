"""The clients built once instead of per turn (bot/sdk/connectors.py): msrest's retry policy patched without
changing it, and the user-token client reused across turns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botbuilder.core import TurnContext
from msrest.universal_http.requests import ClientRetryPolicy

from bot.sdk.connectors import patch_msrest_retry_policy
from tests.echo_host import EchoBot, MakeHost, StaticCredentialsFactory, message

if TYPE_CHECKING:
    from conftest import FakeConnector


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
