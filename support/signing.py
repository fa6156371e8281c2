"""Webhook signatures: HMAC-SHA256 over a timestamp and the exact body, so a receiver can tell the request came from
this assistant, was not altered, and is not an old one replayed.

The scheme (version `v1`), for a shared secret `S` (at least 16 characters), the request body `B` exactly as sent
(the bytes, not a re-serialisation of the parsed JSON) and `T` the sender's clock in whole Unix seconds:

    X-Cosell-Timestamp: T                        (ASCII decimal digits, e.g. 1767225600)
    X-Cosell-Signature: v1=<hex>                 <hex> = lowercase hex HMAC-SHA256(key = UTF-8 of S,
                                                                                  message = ASCII of "T." + B)

A receiver recomputes the HMAC over the timestamp header, a "." and the raw body it received, compares it with
`hmac.compare_digest` (constant time), and refuses the request when the timestamp is more than `tolerance` seconds
(default 300) away from its own clock, in either direction. The signature header may list several comma-separated
entries (`v1=…, v1=…`, e.g. while a secret is rotated); entries of other schemes are ignored, and one matching
`v1` entry is enough.

Two more headers travel with each request: `Idempotency-Key: <case ref>:<outbox item key>` (the same on every
retry of one delivery, so a receiver can drop duplicates) and `X-Cosell-Event` (e.g. `case.created`).

`deploy/support-webhook.md` shows the check in a Logic App / Azure Function (C#) and a receiver in Python.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Cosell-Timestamp"
SIGNATURE_HEADER = "X-Cosell-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Cosell-Event"
SCHEME = "v1"
TOLERANCE = 300  # seconds a signed request stays acceptable (clock skew + delivery time)
MIN_SECRET_CHARS = 16
_MAX_TIMESTAMP_DIGITS = 12  # Unix seconds until the year 33658: anything longer is not a timestamp


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Cosell-Signature` value of `body` sent at `timestamp`: `"v1=" + hex(HMAC-SHA256(secret, f"{timestamp}."
    + body))`."""
    if not secret:
        raise ValueError("a webhook secret is required to sign")
    return f"{SCHEME}={_digest(secret, timestamp, body)}"


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    tolerance: int = TOLERANCE,
) -> bool:
    """True when `signature_header` holds a `v1` signature of `body` at `timestamp_header` under `secret`, and that
    timestamp is within `tolerance` seconds of `now` (Unix seconds). Never raises on malformed headers: they are
    simply not valid."""
    if not secret or not timestamp_header or not signature_header:
        return False
    stamp = timestamp_header.strip()
    # str.isdigit() also accepts "²" and other digits int() refuses or reads differently: ASCII only
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > _MAX_TIMESTAMP_DIGITS:
        return False
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body).encode("ascii")
    matched = False
    for entry in signature_header.split(","):
        scheme, _, value = entry.strip().partition("=")
        if scheme == SCHEME:
            # every entry is compared (no early exit), each in constant time; bytes, since compare_digest refuses
            # non-ASCII str
            matched |= hmac.compare_digest(expected, value.strip().encode("utf-8", "replace"))
    return matched


def signed_headers(secret: str, timestamp: int, body: bytes, *, event: str, idempotency_key: str) -> dict[str, str]:
    """The headers of one signed webhook request (content type included)."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
        EVENT_HEADER: event,
    }
