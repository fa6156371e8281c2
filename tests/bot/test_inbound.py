"""What /api/messages refuses before a turn (bot/inbound.py): bad bodies get a 4xx with a reason that echoes nothing
and the conversation goes on; an unknown activity type is accepted as a no-op turn."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from tests.echo_host import MakeHost, message

if TYPE_CHECKING:
    from conftest import FakeConnector


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
