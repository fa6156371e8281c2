"""`WebhookTarget`: the outbox target that posts a case and its diagnostic bundle as signed JSON to a URL.

The request (see `support.signing` for the signature scheme and `deploy/support-webhook.md` for receivers):

    POST <url>
    Content-Type: application/json; charset=utf-8
    X-Cosell-Timestamp: 1767225600
    X-Cosell-Signature: v1=<hex>
    X-Cosell-Event: case.created
    Idempotency-Key: CS-7K3Q9P:case

    {"event": "case.created", "case": {"ref": …, "status": …, …}, "bundle": {"schema": "cosell.case.v1", …} | null}

The body is serialised once; those exact bytes are signed and sent. The outcome is classified for the outbox:
2xx delivered (`{"status": <code>}`); 408, 425, 429, 5xx, timeouts and connection errors are worth retrying;
redirects (not followed: the signed body and its bundle go to the configured URL only) and other 4xx are not.

A `DeliveryFailed` reason, and every log line, names the HTTP status or the exception class only: never the URL
(a Power Automate trigger URL carries its `sig=` key in the query string; other services put tokens in the path),
never the secret, never the user's text.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from assistant.handoff.model import DeliveryFailed, OutboxItem, SupportCase
from assistant.redaction.masking import redact
from support.signing import MIN_SECRET_CHARS, signed_headers

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429})  # and every 5xx
DEFAULT_EVENT = "case.created"


def is_retriable(status: int) -> bool:
    """Whether a non-2xx answer may succeed later: request timeout, too early, too many requests, server errors."""
    return status in RETRY_STATUSES or 500 <= status <= 599


def event_name(item: OutboxItem) -> str:
    """The `X-Cosell-Event` of an outbox item: its payload's `kind`, as `case.<kind>` ("resolved" → "case.resolved");
    "case.created" when it names none."""
    kind = item.payload.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        return DEFAULT_EVENT
    kind = kind.strip()
    return kind if "." in kind else f"case.{kind}"


def case_summary(case: SupportCase) -> dict[str, Any]:
    """The case fields a receiver files the ticket by. The person and their words travel in the bundle (redacted
    there); the conversation references stay here (they only serve the bot's own proactive messages)."""
    # pydantic's JSON form, as the bundle's: timestamps in ISO 8601 with "Z"
    fields = case.model_dump(mode="json", include={"ref", "status", "created", "updated", "lang"})
    return {
        **fields,
        "channel": case.channel_id,
        "summary": redact(case.summary),
        "taken_by": case.taken_by,
        "resolved_by": case.resolved_by,
        "resolution": redact(case.resolution) if case.resolution else None,
        "rating": case.rating,
    }


def webhook_body(event: str, case: SupportCase, bundle: dict[str, Any] | None) -> bytes:
    """The request body: compact UTF-8 JSON, serialised once (the signature covers these bytes)."""
    document = {"event": event, "case": case_summary(case), "bundle": bundle}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookTarget:
    """Posts cases to one URL, signed with one secret.

    Args:
        url: the receiver (https; http only on loopback, as the settings enforce).
        secret: the shared HMAC key (at least 16 characters).
        client: a shared `httpx.AsyncClient` (the caller closes it); its auth is not applied to these requests.
            None: the target makes its own, closed by `aclose()`.
        timeout: seconds for the whole request (connect, send, first byte).
        clock: Unix seconds for the timestamp header (tests pin it).
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the webhook URL must be an absolute http(s) URL")  # not echoed: it may hold a key
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"the webhook secret must be at least {MIN_SECRET_CHARS} characters")
        self._url = url
        self._secret = secret
        self._host = parts.hostname  # what logs may name
        self._owned = client is None
        self._client = client if client is not None else httpx.AsyncClient(follow_redirects=False)
        self._timeout = httpx.Timeout(timeout)
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookTarget(host={self._host!r})"

    async def aclose(self) -> None:
        """Close the HTTP client if this target made it."""
        if self._owned:
            await self._client.aclose()

    async def __aenter__(self) -> WebhookTarget:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def deliver(self, item: OutboxItem, case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
        """Post `case` (and `bundle`, when the item carries the case) once; the detail the outbox keeps.

        Raises:
            DeliveryFailed: not delivered; `retry` says whether a later attempt may succeed.
        """
        if item.ref != case.ref:
            raise DeliveryFailed("outbox item and case differ", retry=False)
        event = event_name(item)
        body = webhook_body(event, case, bundle)
        headers = signed_headers(
            self._secret, int(self._clock()), body, event=event, idempotency_key=f"{case.ref}:{item.key}"
        )
        started = time.perf_counter()
        try:
            # streamed and closed unread: only the status matters, and a receiver's body can be of any size.
            # auth=None: a shared client's credentials (bearer tokens for the tenant's APIs) must not go here
            async with self._client.stream(
                "POST", self._url, content=body, headers=headers, timeout=self._timeout, auth=None
            ) as response:
                status = response.status_code
        # `from None`: httpx exceptions hold the request (its URL with any query-string key) and some messages
        # quote the URL; the class name says enough, and a traceback must not print the rest
        except httpx.TimeoutException as exc:
            self._log_failure(item, type(exc).__name__, started)
            raise DeliveryFailed(f"webhook timed out ({type(exc).__name__})", retry=True) from None
        except httpx.TransportError as exc:
            self._log_failure(item, type(exc).__name__, started)
            raise DeliveryFailed(f"webhook unreachable ({type(exc).__name__})", retry=True) from None
        elapsed = (time.perf_counter() - started) * 1000
        log.info("webhook %s %s:%s → HTTP %d in %dms", self._host, item.ref, item.key, status, elapsed)
        if 200 <= status <= 299:
            return {"status": status}
        if 300 <= status <= 399:
            raise DeliveryFailed(f"webhook answered HTTP {status} (redirects are not followed)", retry=False)
        raise DeliveryFailed(f"webhook answered HTTP {status}", retry=is_retriable(status))

    def _log_failure(self, item: OutboxItem, error: str, started: float) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        log.warning("webhook %s %s:%s failed: %s after %dms", self._host, item.ref, item.key, error, elapsed)
