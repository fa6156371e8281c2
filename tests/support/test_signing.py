"""Webhook signatures (support/signing.py): the exact v1 scheme, replay and tampering refused, malformed headers are
simply invalid."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import pytest

from support.signing import (
    EVENT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signed_headers,
    verify,
)

SECRET = "whsec-example-0123456789"
T = 1767225600  # 2026-01-01T00:00:00Z
BODY = b'{"event":"case.created"}'


def test_the_scheme_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # the vector deploy/support-webhook.md shows, computed here without the module
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert expected == "0dcf47de272f49bd43bb0c7c4b6015c28fc3a0bc6ea3856ce39f62e8479b6b59"
    assert sign(SECRET, T, BODY) == f"v1={expected}"


def test_a_fresh_signature_verifies() -> None:
    assert verify(SECRET, str(T), sign(SECRET, T, BODY), BODY, now=T + 5)


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_an_old_or_future_timestamp_is_refused(age: int) -> None:
    # replaying a captured request (its headers and body untouched) after the tolerance fails
    assert not verify(SECRET, str(T), sign(SECRET, T, BODY), BODY, now=T + age)


def test_the_tolerance_is_inclusive_and_adjustable() -> None:
    signature = sign(SECRET, T, BODY)
    assert verify(SECRET, str(T), signature, BODY, now=T + 300)
    assert not verify(SECRET, str(T), signature, BODY, now=T + 60, tolerance=30)


def test_a_restamped_replay_is_refused() -> None:
    # an attacker who moves the timestamp forward cannot re-sign
    assert not verify(SECRET, str(T + 3600), sign(SECRET, T, BODY), BODY, now=T + 3600)


@pytest.mark.parametrize(
    "body", [BODY + b" ", BODY.replace(b"created", b"resolved"), b"", BODY.upper(), b'{"event": "case.created"}']
)
def test_a_tampered_body_is_refused(body: bytes) -> None:
    assert not verify(SECRET, str(T), sign(SECRET, T, BODY), body, now=T)


def test_another_secret_is_refused() -> None:
    assert not verify("another-secret-0123456789", str(T), sign(SECRET, T, BODY), BODY, now=T)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        (None, "v1=00"),
        (str(T), None),
        ("", "v1=00"),
        ("not-a-time", "v1=00"),
        ("+1767225600", "v1=00"),
        ("1767225600.5", "v1=00"),
        ("١٧٦٧٢٢٥٦٠٠", "v1=00"),  # Arabic-Indic digits: int() reads them, the scheme does not
        ("9" * 40, "v1=00"),
        (str(T), "v1="),
        (str(T), "v0=abc"),
        (str(T), "v1=é🙂"),
        (str(T), "garbage"),
    ],
)
def test_malformed_headers_are_invalid_not_errors(timestamp: str | None, signature: str | None) -> None:
    assert not verify(SECRET, timestamp, signature, BODY, now=T)


def test_one_matching_entry_among_several_is_enough() -> None:
    good = sign(SECRET, T, BODY)
    assert verify(SECRET, f" {T} ", f"v0=zzz, {sign('old-secret-0123456789', T, BODY)}, {good}", BODY, now=T)
    assert verify(SECRET, str(T), good.upper().replace("V1=", "v1="), BODY, now=T) is False  # lowercase hex only


def test_an_empty_secret_neither_signs_nor_verifies() -> None:
    with pytest.raises(ValueError, match="secret"):
        sign("", T, BODY)
    assert not verify("", str(T), "v1=" + hmac.new(b"", f"{T}.".encode() + BODY, hashlib.sha256).hexdigest(), BODY, T)


def test_signed_headers_carry_every_header() -> None:
    headers = signed_headers(SECRET, T, BODY, event="case.created", idempotency_key="CS-7K3Q9P:case")
    assert headers == {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: "1767225600",
        SIGNATURE_HEADER: sign(SECRET, T, BODY),
        IDEMPOTENCY_HEADER: "CS-7K3Q9P:case",
        EVENT_HEADER: "case.created",
    }
    assert (TIMESTAMP_HEADER, SIGNATURE_HEADER) == ("X-Cosell-Timestamp", "X-Cosell-Signature")


def test_the_receivers_guide_shows_this_scheme() -> None:
    # deploy/support-webhook.md: its test vector is this one, and its stand-alone Python `verify` agrees with ours
    guide = (Path(__file__).resolve().parents[2] / "deploy" / "support-webhook.md").read_text(encoding="utf-8")
    assert sign(SECRET, T, BODY) in guide and SECRET in guide and str(T) in guide
    snippet = guide.split("Python (standard library only", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "support-webhook.md", "exec"), namespace)  # the guide's own code, nothing else
    now = int(time.time())
    their_verify = namespace["verify"]
    assert their_verify(SECRET, str(now), sign(SECRET, now, BODY), BODY)
    assert not their_verify(SECRET, str(now), sign(SECRET, now, BODY), BODY + b" ")
    assert not their_verify(SECRET, str(now - 301), sign(SECRET, now - 301, BODY), BODY)
