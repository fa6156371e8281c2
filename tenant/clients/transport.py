"""The shared HTTP edge of the live checks: client factory, retry policy, error mapping, call counting.

Every client sends through `send()`, so the retry policy (idempotent GET/HEAD only, bounded `Retry-After`),
the mapping of failures to the `LiveCheckError` family and the per-system call counting (`tenant.calls`, which
the runner reads without loading httpx) live in one place.
Logs carry system, method, path, status and elapsed ms only: never query strings, tokens or bodies; so does the
telemetry of each attempt (`tenant.telemetry.record_call`: system, status or outcome, seconds).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from knowledge.messages import phrase
from tenant.base import CallCounter, LiveCheckError, LiveCheckFailed, LiveCheckUnavailable, System
from tenant.calls import count_call, system_name
from tenant.telemetry import record_call
from tenant.texts import has_message, said

log = logging.getLogger(__name__)

TokenProvider = Callable[[], Awaitable[str]]
Sleep = Callable[[float], Awaitable[None]]

_IDEMPOTENT = frozenset({"GET", "HEAD"})
_RETRYABLE = frozenset({429, 502, 503, 504})
_DEFAULT_DELAY = 0.5  # seconds before a retry when the server gives no Retry-After
_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,80}")


class BearerAuth(httpx.Auth):
    """Sets `Authorization: Bearer …` from an async token provider on every request (async clients only)."""

    def __init__(self, token_provider: TokenProvider) -> None:
        self._token_provider = token_provider

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._token_provider()
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def make_http_client(
    base_url: str,
    *,
    token_provider: TokenProvider | None = None,
    timeout: float = 5.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` for one system: base URL, explicit timeouts, bearer auth when given a provider.

    The caller owns the client (open it in the app's cleanup context, close it there).
    """
    return httpx.AsyncClient(
        base_url=base_url,
        auth=BearerAuth(token_provider) if token_provider is not None else None,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        transport=transport,
        follow_redirects=False,  # a redirect from an API is usually a login page: report it, don't follow it
        headers={"Accept": "application/json"},
    )


async def send(
    http: httpx.AsyncClient,
    system: System,
    method: str,
    url: str,
    *,
    counter: CallCounter | None = None,
    max_retries: int = 1,
    max_retry_after: float = 5.0,
    sleep: Sleep = asyncio.sleep,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request with the shared policy and return a 2xx response.

    Counts every attempt. Retries only GET/HEAD, at most `max_retries` times, on 429/502/503/504 and timeouts,
    waiting `Retry-After` (seconds or HTTP-date) when given; if the server asks for more than `max_retry_after`
    seconds it gives up at once rather than spend quota on a call bound to be refused.

    Raises:
        LiveCheckUnavailable: timeout, connection error, 429/5xx after the allowed retries.
        LiveCheckFailed: any other non-2xx answer, with a plain message naming system, status and error code.
    """
    method = method.upper()
    retries = max(0, max_retries) if method in _IDEMPOTENT else 0
    path = _path(url)
    for attempt in range(retries + 1):
        last = attempt == retries
        await count_call(system, counter)
        started = time.perf_counter()
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            record_call(system, "timeout", _ms(started) / 1000)
            log.info("%s %s %s timed out after %.0f ms", system, method, path, _ms(started))
            if last:
                raise LiveCheckUnavailable(system, said("no-answer", system=system_name(system))) from exc
            await sleep(min(_DEFAULT_DELAY, max_retry_after))
            continue
        except httpx.TransportError as exc:
            record_call(system, "unreachable", _ms(started) / 1000)
            log.info("%s %s %s failed (%s) after %.0f ms", system, method, path, type(exc).__name__, _ms(started))
            raise LiveCheckUnavailable(system, said("unreachable", system=system_name(system))) from exc
        status = response.status_code
        elapsed_ms = _ms(started)
        record_call(system, str(status), elapsed_ms / 1000)
        level = logging.DEBUG if response.is_success else logging.INFO
        log.log(level, "%s %s %s -> %d in %.0f ms", system, method, path, status, elapsed_ms)
        if response.is_success:
            return response
        delay = _retry_after(response)
        if status in _RETRYABLE and not last and (delay is None or delay <= max_retry_after):
            await sleep(min(_DEFAULT_DELAY if delay is None else delay, max_retry_after))
            continue
        raise _error(system, response, delay)
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


def _path(url: str) -> str:
    try:
        return httpx.URL(url).path  # never the query: it can carry ids, filters or signatures
    except httpx.InvalidURL:
        return "<invalid url>"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (`Retry-After` as seconds or HTTP-date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if not math.isnan(seconds) else None


def _error_code(response: httpx.Response) -> str | None:
    """The error code of a Partner Center/ARM/Dataverse (`{"error":{"code"}}`) or Salesforce (`[{"errorCode"}]`) body.

    Only the code: the message can echo user names or record data, so it stays out of logs and chat.
    """
    try:
        body = response.json()
    except ValueError:
        return None
    code: object = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        code = body[0].get("errorCode")
    if isinstance(code, str) and _CODE.fullmatch(code):
        return code
    return None


def _error(system: System, response: httpx.Response, retry_after: float | None) -> LiveCheckError:
    """The error for a non-2xx answer, its message in English and Italian (knowledge/data/checks/messages.yaml)."""
    status = response.status_code
    code = _error_code(response)
    name = system_name(system)
    answered = phrase("answered", system=name, status=status, code=phrase("parenthesised", text=code) if code else "")
    if status == 429 or status >= 500:
        seconds = math.ceil(retry_after) if retry_after else None
        wait = phrase("retry-in", seconds=seconds) if seconds else ""
        words = said("throttling" if status == 429 else "not-available", answered=answered, system=name, wait=wait)
        return LiveCheckUnavailable(system, words, status=status, retry_after=retry_after)
    if code == "REQUEST_LIMIT_EXCEEDED":  # Salesforce's throttle is a 403: the org's daily API limit is used up
        return LiveCheckUnavailable(system, said("org-limit-used-up", answered=answered), status=status)
    reason = f"refused-{status}"  # where the data have words for this status, else those for any redirect or refusal
    if not has_message(reason):
        reason = "refused-redirect" if 300 <= status < 400 else "refused-other"
    return LiveCheckFailed(system, said("refused", answered=answered, reason=phrase(reason)), status=status)
