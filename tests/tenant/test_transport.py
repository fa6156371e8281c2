"""send(): retry policy, Retry-After bounds, error mapping, call counting; make_http_client(): auth and timeouts."""

from __future__ import annotations

import email.utils
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tenant.base import LiveCheckError, LiveCheckFailed, LiveCheckUnavailable, System
from tenant.calls import count_calls
from tenant.clients.transport import make_http_client, send

BASE = "https://api.partner.microsoft.com"
PATH = "/v1.0/engagements/referrals"
TOKEN = "eyJ-secret-token"

Reply = httpx.Response | Exception


def offline(routes: dict[tuple[str, str], Sequence[Reply]]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering each (method, path) with its replies in turn; anything else fails the test."""
    queues = {key: list(replies) for key, replies in routes.items()}
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        key = (request.method, request.url.path)
        if not queues.get(key):
            pytest.fail(f"unexpected outbound call: {key}")
        reply = queues[key].pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    return httpx.MockTransport(handler), seen


class FakeCounter:
    def __init__(self) -> None:
        self.calls: Counter[System] = Counter()

    async def add(self, system: System, calls: int = 1) -> None:
        self.calls[system] += calls

    async def today(self, system: System) -> int:
        return self.calls[system]


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def _token() -> str:
    return TOKEN


def client(transport: httpx.MockTransport) -> httpx.AsyncClient:
    return make_http_client(BASE, token_provider=_token, timeout=2.0, transport=transport)


async def test_success_sets_bearer_token_base_url_and_counts_once() -> None:
    transport, seen = offline({("GET", PATH): [httpx.Response(200, json={"value": []})]})
    counter = FakeCounter()
    async with client(transport) as http:
        resp = await send(http, System.partner_center, "GET", PATH, counter=counter)
        assert http.timeout.read == 2.0
        assert http.timeout.connect == 2.0
    assert resp.json() == {"value": []}
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert str(seen[0].url) == BASE + PATH
    assert counter.calls == Counter({System.partner_center: 1})


async def test_client_without_token_provider_sends_no_authorization() -> None:
    transport, seen = offline({("GET", PATH): [httpx.Response(200)]})
    async with make_http_client(BASE, transport=transport) as http:
        await send(http, System.partner_center, "GET", PATH)
    assert "Authorization" not in seen[0].headers


async def test_429_retried_after_retry_after_seconds() -> None:
    transport, seen = offline(
        {("GET", PATH): [httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={})]}
    )
    sleep, counter = FakeSleep(), FakeCounter()
    async with client(transport) as http:
        await send(http, System.partner_center, "GET", PATH, counter=counter, sleep=sleep)
    assert sleep.delays == [2.0]
    assert len(seen) == 2
    assert counter.calls[System.partner_center] == 2  # every attempt spends quota


async def test_429_retry_after_http_date_is_honoured() -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    transport, _ = offline(
        {("GET", PATH): [httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json={})]}
    )
    sleep = FakeSleep()
    async with client(transport) as http:
        await send(http, System.partner_center, "GET", PATH, sleep=sleep)
    assert len(sleep.delays) == 1
    assert 0.5 <= sleep.delays[0] <= 3.0


async def test_retry_after_beyond_the_bound_gives_up_without_waiting() -> None:
    transport, seen = offline({("GET", PATH): [httpx.Response(429, headers={"Retry-After": "120"})]})
    sleep = FakeSleep()
    async with client(transport) as http:
        with pytest.raises(LiveCheckUnavailable) as info:
            await send(http, System.partner_center, "GET", PATH, sleep=sleep, max_retry_after=5.0)
    assert sleep.delays == []
    assert len(seen) == 1
    assert info.value.status == 429
    assert info.value.retry_after == 120.0
    assert "try again in 120 s" in str(info.value)


async def test_429_twice_is_unavailable_after_one_retry() -> None:
    transport, seen = offline({("GET", PATH): [httpx.Response(429), httpx.Response(429)]})
    sleep = FakeSleep()
    async with client(transport) as http:
        with pytest.raises(LiveCheckUnavailable, match="Partner Center answered 429"):
            await send(http, System.partner_center, "GET", PATH, sleep=sleep)
    assert len(seen) == 2
    assert sleep.delays == [0.5]  # no Retry-After: a short default pause


async def test_503_then_success() -> None:
    transport, seen = offline({("GET", PATH): [httpx.Response(503), httpx.Response(200, json={"ok": True})]})
    async with client(transport) as http:
        resp = await send(http, System.dataverse, "GET", PATH, sleep=FakeSleep())
    assert resp.json() == {"ok": True}
    assert len(seen) == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_non_idempotent_methods_are_never_retried(method: str) -> None:
    transport, seen = offline({(method, PATH): [httpx.Response(503)]})
    sleep = FakeSleep()
    async with client(transport) as http:
        with pytest.raises(LiveCheckUnavailable) as info:
            await send(http, System.partner_center, method, PATH, json={"a": 1}, sleep=sleep)
    assert len(seen) == 1
    assert sleep.delays == []
    assert info.value.status == 503


async def test_500_is_unavailable_without_retry() -> None:
    transport, seen = offline({("GET", PATH): [httpx.Response(500)]})
    async with client(transport) as http:
        with pytest.raises(LiveCheckUnavailable):
            await send(http, System.partner_center, "GET", PATH, sleep=FakeSleep())
    assert len(seen) == 1


async def test_timeout_retried_once_then_unavailable() -> None:
    transport, seen = offline({("GET", PATH): [httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow")]})
    counter = FakeCounter()
    async with client(transport) as http:
        with pytest.raises(LiveCheckUnavailable, match="did not answer in time") as info:
            await send(http, System.power_automate, "GET", PATH, counter=counter, sleep=FakeSleep())
    assert len(seen) == 2
    assert counter.calls[System.power_automate] == 2
    assert isinstance(info.value.__cause__, httpx.TimeoutException)


async def test_timeout_then_success() -> None:
    transport, _ = offline({("GET", PATH): [httpx.ConnectTimeout("slow"), httpx.Response(200)]})
    async with client(transport) as http:
        resp = await send(http, System.power_automate, "GET", PATH, sleep=FakeSleep())
    assert resp.status_code == 200


async def test_connect_error_is_unavailable_without_retry() -> None:
    transport, seen = offline({("GET", PATH): [httpx.ConnectError("refused")]})
    async with client(transport) as http:
        with pytest.raises(LiveCheckUnavailable, match="could not be reached"):
            await send(http, System.salesforce, "GET", PATH, sleep=FakeSleep())
    assert len(seen) == 1


async def test_403_is_failed_with_code_and_no_token_or_query(caplog: pytest.LogCaptureFixture) -> None:
    body = {"error": {"code": "Forbidden", "message": "user mario.rossi@contoso.com lacks role"}}
    transport, seen = offline({("GET", PATH): [httpx.Response(403, json=body)]})
    caplog.set_level(logging.DEBUG)
    async with client(transport) as http:
        with pytest.raises(LiveCheckFailed) as info:
            await send(http, System.partner_center, "GET", PATH, params={"$filter": "secretvalue"}, sleep=FakeSleep())
    message = str(info.value)
    # httpx itself logs full URLs at INFO: log_setup raises it to WARNING; here only our records matter
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "tenant.clients.transport")
    assert message.startswith("Partner Center answered 403 (Forbidden): ")
    assert info.value.status == 403
    assert len(seen) == 1  # a refusal is not retried
    for leak in (TOKEN, "secretvalue", "filter", "mario.rossi", BASE):
        assert leak not in message
        assert leak not in logged
    assert f"GET {PATH} -> 403" in logged  # the path is logged, without its query


@pytest.mark.parametrize(
    ("system", "status", "body", "expected"),
    [
        (
            System.dataverse,
            404,
            {"error": {"code": "0x80040217", "message": "account With Id = 1 Does Not Exist"}},
            "Dataverse answered 404 (0x80040217): the item was not found.",
        ),
        (
            System.power_automate,
            401,
            {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}},
            "Power Automate answered 401 (InvalidAuthenticationToken): the credential was rejected",
        ),
        (
            System.salesforce,
            400,
            [{"message": "No such column 'Foo__c'", "errorCode": "INVALID_FIELD", "fields": []}],
            "Salesforce answered 400 (INVALID_FIELD): the request was refused.",
        ),
        (System.graph, 400, "<html>oops</html>", "Microsoft Graph answered 400: the request was refused."),
        (System.graph, 400, {"error": {"code": "has spaces; DROP"}}, "Microsoft Graph answered 400: "),
    ],
)
async def test_error_bodies_give_plain_messages_with_the_code(
    system: System, status: int, body: object, expected: str
) -> None:
    reply = httpx.Response(status, text=body) if isinstance(body, str) else httpx.Response(status, json=body)
    transport, _ = offline({("GET", PATH): [reply]})
    async with client(transport) as http:
        with pytest.raises(LiveCheckFailed) as info:
            await send(http, system, "GET", PATH, sleep=FakeSleep())
    assert str(info.value).startswith(expected)
    assert "Does Not Exist" not in str(info.value)


async def test_salesforce_request_limit_exceeded_is_unavailable_not_retried() -> None:
    body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    transport, seen = offline({("GET", PATH): [httpx.Response(403, json=body)]})
    async with client(transport) as http:
        with pytest.raises(LiveCheckUnavailable, match="API request limit is used up"):
            await send(http, System.salesforce, "GET", PATH, sleep=FakeSleep())
    assert len(seen) == 1


async def test_redirect_is_not_followed() -> None:
    transport, seen = offline({("GET", PATH): [httpx.Response(302, headers={"Location": "https://login.example"})]})
    async with client(transport) as http:
        with pytest.raises(LiveCheckFailed, match="unexpected redirect"):
            await send(http, System.dataverse, "GET", PATH)
    assert len(seen) == 1


async def test_count_calls_scope_tallies_and_forwards_to_its_counter() -> None:
    transport, _ = offline({("GET", PATH): [httpx.Response(503), httpx.Response(200)], ("POST", PATH): [_ok()]})
    scoped, explicit = FakeCounter(), FakeCounter()
    async with client(transport) as http:
        with count_calls(scoped) as tally:
            await send(http, System.dataverse, "GET", PATH, sleep=FakeSleep())
            await send(http, System.dataverse, "POST", PATH, counter=explicit)
    assert tally.total == 3
    assert scoped.calls[System.dataverse] == 2  # used when send() got no counter of its own
    assert explicit.calls[System.dataverse] == 1  # never counted twice


def _ok() -> httpx.Response:
    return httpx.Response(200)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            httpx.Response(403, json={"error": {"code": "Forbidden"}}),
            "Partner Center ha risposto 403 (Forbidden): all'account connesso manca l'autorizzazione o il ruolo "
            "richiesto da questa chiamata.",
        ),
        (httpx.Response(404), "Partner Center ha risposto 404: l'elemento non è stato trovato."),
        (
            httpx.Response(429, headers={"Retry-After": "120"}),
            "Partner Center ha risposto 429: Partner Center sta limitando le richieste; riprovare tra 120 s.",
        ),
        (httpx.Response(500), "Partner Center ha risposto 500: Partner Center al momento non è disponibile."),
        (httpx.ConnectError("refused"), "Partner Center non è raggiungibile."),
    ],
    ids=["403", "404", "429", "500", "unreachable"],
)
async def test_errors_carry_an_italian_message(reply: Reply, expected: str) -> None:
    transport, _ = offline({("GET", PATH): [reply]})
    async with client(transport) as http:
        with pytest.raises(LiveCheckError) as info:
            await send(http, System.partner_center, "GET", PATH, sleep=FakeSleep(), max_retry_after=5.0)
    assert info.value.message_it == expected
