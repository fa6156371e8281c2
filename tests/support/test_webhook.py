"""`WebhookTarget` (support/webhook.py) against a real receiver on 127.0.0.1: the signature verifies over the exact
bytes, each answer is classified for the outbox, and neither the URL's query string, the secret nor the user's text
reaches an exception or a log line."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from assistant.handoff.bundle import BundleUser, Finding, build_bundle
from assistant.handoff.model import DeliveryFailed, OutboxItem, SupportCase
from support.signing import verify
from support.webhook import WebhookTarget, event_name

SECRET = "s3cret-webhook-key-XYZ-0123456789"
SIG = "SIGKEYvalue0123456789abcdef"  # what Power Automate puts in its trigger URL's query string
NOW = 1767225600
USER_TEXT = "Falcon project for Contoso is stuck"
AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Receiver:
    """A webhook receiver: verifies each request with `support.signing.verify`, answers `status`."""

    url: str = ""
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def receiver(aiohttp_server: Callable[..., Awaitable[Any]]) -> Receiver:
    fake = Receiver()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        valid = verify(SECRET, headers.get("X-Cosell-Timestamp"), headers.get("X-Cosell-Signature"), body, now=NOW)
        fake.requests.append({"valid": valid, "body": body, "headers": dict(headers), "query": dict(request.query)})
        if fake.delay:
            await asyncio.sleep(fake.delay)
        if 300 <= fake.status < 400:
            return web.Response(status=fake.status, headers={"Location": "/elsewhere"})
        return web.json_response({"accepted": fake.status < 300}, status=fake.status)

    async def elsewhere(request: web.Request) -> web.Response:
        fake.requests.append({"redirected": True})
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/workflows/abc/triggers/manual/paths/invoke", hook)
    app.router.add_route("*", "/elsewhere", elsewhere)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("/workflows/abc/triggers/manual/paths/invoke")) + f"?api-version=1&sig={SIG}"
    return fake


def _case() -> SupportCase:
    return SupportCase(
        ref="CS-7K3Q9P",
        created=AT,
        updated=AT,
        channel_id="msteams",
        conversation_id="a:1",
        user_name="Ada Admin",
        description=USER_TEXT,
        summary="Flows: the sync flow is off",
        user_reference={"serviceUrl": "https://smba.trafficmanager.net/emea/", "conversation": {"id": "a:1"}},
    )


def _item(key: str = "case", **payload: Any) -> OutboxItem:
    return OutboxItem(ref="CS-7K3Q9P", target="webhook", key=key, payload=payload, next_at=AT)


def _bundle() -> dict[str, Any]:
    finding = Finding(check="flows_on", title="Flows", system="power_automate", status="fail", summary="off")
    bundle = build_bundle(
        ref="CS-7K3Q9P",
        channel="msteams",
        conversation_id="a:1",
        locale="en-US",
        user=BundleUser(name="Ada Admin", verified=True),
        description=USER_TEXT,
        findings=[finding],
        created=AT,
    )
    return bundle.to_json()


@pytest.fixture
async def target(receiver: Receiver) -> AsyncIterator[WebhookTarget]:
    async with WebhookTarget(receiver.url, SECRET, timeout=2, clock=lambda: NOW) as made:
        yield made


async def test_a_case_is_posted_signed_over_the_exact_body(receiver: Receiver, target: WebhookTarget) -> None:
    bundle = _bundle()

    detail = await target.deliver(_item(), _case(), bundle)

    assert detail == {"status": 200}
    [request] = receiver.requests
    assert request["valid"] is True and request["query"] == {"api-version": "1", "sig": SIG}
    headers = request["headers"]
    assert headers["Idempotency-Key"] == "CS-7K3Q9P:case" and headers["X-Cosell-Event"] == "case.created"
    assert headers["X-Cosell-Timestamp"] == str(NOW) and headers["Content-Type"].startswith("application/json")
    document = json.loads(request["body"])
    assert document["event"] == "case.created" and document["bundle"] == bundle
    assert document["case"]["ref"] == "CS-7K3Q9P" and document["case"]["status"] == "open"
    assert document["case"]["summary"] == "Flows: the sync flow is off" and document["case"]["channel"] == "msteams"
    assert "user_reference" not in document["case"] and "serviceUrl" not in request["body"].decode()


async def test_a_retry_carries_the_same_idempotency_key(receiver: Receiver, target: WebhookTarget) -> None:
    receiver.status = 503
    with pytest.raises(DeliveryFailed):
        await target.deliver(_item("event:4", kind="resolved"), _case(), None)
    receiver.status = 200
    await target.deliver(_item("event:4", kind="resolved"), _case(), None)

    keys = [r["headers"]["Idempotency-Key"] for r in receiver.requests]
    assert keys == ["CS-7K3Q9P:event:4"] * 2
    assert {r["headers"]["X-Cosell-Event"] for r in receiver.requests} == {"case.resolved"}
    assert json.loads(receiver.requests[-1]["body"])["bundle"] is None


@pytest.mark.parametrize(
    ("payload", "event"),
    [({}, "case.created"), ({"kind": "created"}, "case.created"), ({"kind": "case.taken"}, "case.taken"),
     ({"kind": 3}, "case.created"), ({"kind": " "}, "case.created")],
)  # fmt: skip
def test_the_event_comes_from_the_payload_kind(payload: dict[str, Any], event: str) -> None:
    assert event_name(_item(**payload)) == event


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_2xx_is_delivered(receiver: Receiver, target: WebhookTarget, status: int) -> None:
    receiver.status = status
    assert await target.deliver(_item(), _case(), _bundle()) == {"status": status}


@pytest.mark.parametrize(
    ("status", "retry"),
    [(400, False), (401, False), (403, False), (404, False), (410, False), (413, False), (422, False),
     (408, True), (425, True), (429, True), (500, True), (502, True), (503, True), (504, True)],
)  # fmt: skip
async def test_an_error_status_is_classified(
    receiver: Receiver, target: WebhookTarget, status: int, retry: bool
) -> None:
    receiver.status = status
    with pytest.raises(DeliveryFailed) as failed:
        await target.deliver(_item(), _case(), _bundle())
    assert failed.value.retry is retry and failed.value.reason == f"webhook answered HTTP {status}"
    assert str(failed.value) == failed.value.reason


async def test_a_redirect_is_not_followed(receiver: Receiver, target: WebhookTarget) -> None:
    receiver.status = 307  # would re-post the signed bundle to wherever Location says
    with pytest.raises(DeliveryFailed) as failed:
        await target.deliver(_item(), _case(), _bundle())
    assert failed.value.retry is False and "307" in failed.value.reason
    assert [r.get("redirected") for r in receiver.requests] == [None]


async def test_a_timeout_is_retried(receiver: Receiver) -> None:
    receiver.delay = 0.6
    async with WebhookTarget(receiver.url, SECRET, timeout=0.2, clock=lambda: NOW) as target:
        with pytest.raises(DeliveryFailed) as failed:
            await target.deliver(_item(), _case(), _bundle())
    assert failed.value.retry is True and failed.value.reason == "webhook timed out (ReadTimeout)"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retried() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/hook?sig={SIG}"
    async with WebhookTarget(url, SECRET, clock=lambda: NOW) as target:
        with pytest.raises(DeliveryFailed) as failed:
            await target.deliver(_item(), _case(), _bundle())
    assert failed.value.retry is True and failed.value.reason == "webhook unreachable (ConnectError)"
    assert failed.value.__cause__ is None and failed.value.__suppress_context__  # httpx's error holds the URL


async def test_a_shared_clients_credentials_stay_home(receiver: Receiver) -> None:
    async with httpx.AsyncClient(headers={"Accept": "application/json"}, auth=("tenant-api", "tenant-pass")) as http:
        target = WebhookTarget(receiver.url, SECRET, http, clock=lambda: NOW)
        await target.deliver(_item(), _case(), _bundle())
        await target.aclose()  # not its client: left open
        assert not http.is_closed
    assert "Authorization" not in receiver.requests[0]["headers"]


async def test_an_item_of_another_case_is_refused(target: WebhookTarget, receiver: Receiver) -> None:
    item = OutboxItem(ref="CS-OTHER2", target="webhook", key="case", next_at=AT)
    with pytest.raises(DeliveryFailed) as failed:
        await target.deliver(item, _case(), None)
    assert failed.value.retry is False and receiver.requests == []


@pytest.mark.parametrize(("url", "secret"), [("ftp://host/x", SECRET), ("/relative", SECRET), ("https://h/x", "short")])
def test_bad_configuration_is_refused_without_echoing_it(url: str, secret: str) -> None:
    with pytest.raises(ValueError) as refused:
        WebhookTarget(url, secret)
    assert url not in str(refused.value) and "short" not in str(refused.value)


async def test_nothing_secret_reaches_errors_or_logs(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # as bot/log_setup.configure_logging holds them: httpx logs every request URL at INFO
    caplog.set_level(logging.WARNING, logger="httpx")
    caplog.set_level(logging.WARNING, logger="httpcore")
    reasons: list[str] = []
    case = _case().model_copy(update={"summary": USER_TEXT, "resolution": f"{USER_TEXT}, password: Hunter2!x"})
    async with WebhookTarget(receiver.url, SECRET, timeout=0.2, clock=lambda: NOW) as target:
        for status, delay in [(200, 0), (400, 0), (401, 0), (404, 0), (429, 0), (500, 0), (503, 0), (302, 0)]:
            receiver.status, receiver.delay = status, delay
            try:
                await target.deliver(_item(), case, _bundle())
            except DeliveryFailed as exc:
                reasons.append(f"{exc} {exc.reason!r} {exc!r}")
        receiver.delay = 0.6
        with pytest.raises(DeliveryFailed) as timed_out:
            await target.deliver(_item(), case, _bundle())
        reasons.append(repr(timed_out.value))
    refused_url = f"http://127.0.0.1:{_closed_port()}/hook?sig={SIG}"
    async with WebhookTarget(refused_url, SECRET) as target:
        with pytest.raises(DeliveryFailed) as refused:
            await target.deliver(_item(), case, _bundle())
        reasons.append(repr(refused.value))
    assert len(reasons) == 9
    for text in [*reasons, caplog.text]:
        for leak in (SIG, "sig=", "api-version", "/workflows", "/hook", SECRET, USER_TEXT, "Hunter2", "Ada Admin"):
            assert leak not in text
    assert "webhook 127.0.0.1 CS-7K3Q9P:case" in caplog.text  # the host and the item are what the log names
    assert json.loads(receiver.requests[0]["body"])["case"]["resolution"].endswith("password: [REDACTED]")


async def test_repr_names_the_host_only() -> None:
    async with WebhookTarget(f"https://prod-1.westeurope.logic.azure.com/workflows/abc?sig={SIG}", SECRET) as target:
        assert repr(target) == "WebhookTarget(host='prod-1.westeurope.logic.azure.com')"


async def test_url_userinfo_becomes_basic_auth_and_is_never_logged(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    # a ServiceNow Scripted REST API behind basic auth: https://integration-user:password@instance/api/...
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="httpx")
    url = receiver.url.replace("http://", "http://cosell-hook:Pa55-word-0123@")
    async with WebhookTarget(url, SECRET, clock=lambda: NOW) as target:
        await target.deliver(_item(), _case(), None)
        receiver.status = 500
        with pytest.raises(DeliveryFailed) as failed:
            await target.deliver(_item(), _case(), None)
    assert receiver.requests[0]["headers"]["Authorization"].startswith("Basic ")
    assert receiver.requests[0]["valid"] is True
    for text in (caplog.text, repr(failed.value), repr(target)):
        assert "Pa55-word-0123" not in text and "cosell-hook" not in text
