"""Bearer tokens on /api/messages (bot/bearer.py): with auth on, a missing or malformed Authorization header is a 401
and nothing is sent. The forged-token table is tests/security/test_forged_tokens.py."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.echo_host import MakeHost, message

if TYPE_CHECKING:
    from conftest import FakeConnector


@pytest.mark.parametrize("authorization", [None, "garbage", "Bearer abc", "Bearer a.b.c"])
async def test_auth_on_without_a_valid_authorization_header_is_401(
    make_host: MakeHost, fake_connector: FakeConnector, authorization: str | None
) -> None:
    host = await make_host(app_id=str(uuid.uuid4()), app_password="x")
    headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})

    status, body = await host.post(message(fake_connector.url), headers=headers)

    assert status == 401 and body["error"]
    assert fake_connector.calls == []
