"""The diagnostic bundle (assistant/handoff/bundle.py): pasted secrets never survive, the summary names the first
failing check, the transcript keeps the newest messages, and the checked-in JSON Schema is the model's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from assistant.handoff.bundle import (
    MAX_SUMMARY,
    MAX_TRANSCRIPT,
    BundleUser,
    CaseBundle,
    Finding,
    MatchedEntry,
    Remediation,
    build_bundle,
    one_line_summary,
    transcript_lines,
)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "deploy" / "cosell.case.v1.schema.json"
REGENERATE = (
    '.venv/bin/python -c "import json; from assistant.handoff.bundle import CaseBundle; '
    'print(json.dumps(CaseBundle.model_json_schema(by_alias=True), indent=2, ensure_ascii=False))" '
    "> deploy/cosell.case.v1.schema.json"
)

# what people paste into a support chat
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
CLIENT_SECRET = "Qx8~vT3.kP9_zR2-mW7pL4sN6bY1cJ5hD0fG"
JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcGk6Ly9jb3NlbGwiLCJ1cG4iOiJhZGFAY29udG9zby5jb20ifQ."
    "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1zaWduYXR1cmUtb2YtdGhlLXRva2Vu"
)
PASSWORD = "Tr0ub4dor&3xyz"
SECRETS = (GITHUB_TOKEN, CLIENT_SECRET, JWT, PASSWORD)
PASTED = (
    f"The flow fails. My GitHub token is {GITHUB_TOKEN}, the app has client_secret={CLIENT_SECRET}, "
    f"Authorization: Bearer {JWT} and my password is {PASSWORD}"
)
AT = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)


def _finding(check: str, status: str, summary: str = "found", **extra: Any) -> Finding:
    return Finding(check=check, title=check.title(), system="power_automate", status=status, summary=summary, **extra)


def _message(text: str, role: str = "user", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "text": text, "from": {"id": role, "role": role}, **extra}


def _bundle(**overrides: Any) -> CaseBundle:
    arguments: dict[str, Any] = {
        "ref": "CS-7K3Q9P",
        "channel": "msteams",
        "conversation_id": "a:1",
        "locale": "en-US",
        "user": BundleUser(name="Ada Admin", id="29:1", verified=True),
        "description": "The referrals stopped syncing",
        "created": AT,
    }
    return build_bundle(**{**arguments, **overrides})


def test_the_checked_in_schema_is_the_models() -> None:
    checked_in = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert checked_in == CaseBundle.model_json_schema(by_alias=True), f"regenerate it: {REGENERATE}"


def test_a_bundle_validates_against_the_checked_in_schema() -> None:
    bundle = _bundle(
        findings=[_finding("flows_on", "fail", evidence={"flows": 3}, checked_at=AT)],
        remediations=[Remediation(at=AT, action="start_flow", result="done", before={"state": "off"})],
        activities=[_message("hi", timestamp="2026-01-01T09:00:00Z"), _message("hello", "bot")],
    )
    document = bundle.to_json()
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    assert document["schema"] == "cosell.case.v1" and "schema_" not in document


def test_pasted_secrets_never_reach_the_bundle() -> None:
    bundle = _bundle(
        description=PASTED,
        activities=[_message(PASTED), _message(f"Thanks. {PASTED}", "bot")],
        findings=[_finding("flows_on", "fail", PASTED, evidence={"note": PASTED, "client_secret": CLIENT_SECRET})],
        remediations=[
            Remediation(action="start_flow", result="failed", detail=PASTED, before={"token": GITHUB_TOKEN}),
        ],
    )

    document = json.dumps(bundle.to_json(), ensure_ascii=False)

    for secret in SECRETS:
        assert secret not in document
    for fragment in (GITHUB_TOKEN[:12], CLIENT_SECRET[:10], JWT.split(".")[2][:16], PASSWORD[:8]):
        assert fragment not in document
    assert "The flow fails" in bundle.description and "[REDACTED]" in bundle.transcript[0].text
    assert bundle.remediations[0].before == {} and "client_secret" not in bundle.findings[0].evidence


@pytest.mark.parametrize("secret", [GITHUB_TOKEN, JWT])
def test_the_summary_is_redacted_before_it_is_cut(secret: str) -> None:
    # a token straddling the cut: cut first, its head would no longer look like a token and be kept
    for pad in range(MAX_SUMMARY - 40, MAX_SUMMARY):
        summary = one_line_summary("x" * pad + " " + secret, [], [])
        assert len(summary) <= MAX_SUMMARY and secret[:8] not in summary, pad


def test_the_summary_picks_the_first_failing_check() -> None:
    findings = [
        _finding("licences", "warn", "2 seats left"),
        _finding("flows_on", "fail", "the sync flow is off"),
        _finding("webhook", "error", "could not look"),
        _finding("dataverse", "fail", "no table"),
    ]
    assert one_line_summary("desc", findings, []) == "Flows_On: the sync flow is off (+1 more failing)"
    assert _bundle(findings=findings).summary.startswith("Flows_On: the sync flow is off")


def test_without_a_failing_check_the_summary_names_the_last_answer_then_the_words() -> None:
    matched = [MatchedEntry(entry="a", title="First", confidence=0.9, via="match"),
               MatchedEntry(entry="b", title="Last", confidence=0.8, via="match")]  # fmt: skip
    assert one_line_summary("desc", [_finding("licences", "warn")], matched) == "Asked about: Last"
    assert one_line_summary("  the referrals\n stopped ", [], []) == "the referrals stopped"
    assert one_line_summary(" ", [], []) == "Asked to talk to support"


def test_failing_orders_fail_then_warn_then_error() -> None:
    bundle = _bundle(findings=[_finding("a", "error"), _finding("b", "pass"), _finding("c", "warn"),
                               _finding("d", "fail"), _finding("e", "skipped")])  # fmt: skip
    assert [f.check for f in bundle.failing] == ["d", "c", "a"]


def test_the_transcript_keeps_the_newest_messages() -> None:
    activities = [_message(f"message {n}") for n in range(MAX_TRANSCRIPT + 25)]
    bundle = _bundle(activities=activities)
    assert len(bundle.transcript) == MAX_TRANSCRIPT and bundle.transcript_truncated == 25
    assert bundle.transcript[0].text == "message 25" and bundle.transcript[-1].text == f"message {MAX_TRANSCRIPT + 24}"
    short = _bundle(activities=activities[:3])
    assert [line.text for line in short.transcript] == ["message 0", "message 1", "message 2"]
    assert short.transcript_truncated == 0


def test_transcript_lines_keep_messages_with_something_to_show() -> None:
    card = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"fallbackText": "A card"}}
    lines = transcript_lines(
        [
            {"type": "typing", "from": {"role": "bot"}},
            {"type": "event", "name": "handoff.initiate"},
            _message(""),
            _message("hi"),
            _message("", "bot", summary="step 1 of 5"),
            _message("", "bot", attachments=[card]),
            _message("", value={"choice": "done"}),
            _message("", attachments=7),  # a hostile client's shape: skipped, no crash
            _message("taking it", "support"),
            {"type": "message", "text": "no sender"},
        ]
    )
    assert [(line.role, line.text) for line in lines] == [
        ("user", "hi"),
        ("bot", "step 1 of 5"),
        ("bot", "A card"),
        ("user", "[done]"),
        ("support", "taking it"),
        ("user", "no sender"),
    ]


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-01-01T10:00:00.1234567Z", datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-01-01T12:00:00+02:00", datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))),
        ("2026-01-01T10:00:00", datetime(2026, 1, 1, 10, tzinfo=UTC)),  # no offset: Bot Framework's UTC
        ("yesterday", None),
        (12345, None),
    ],
)
def test_timestamps_are_read_as_aware_datetimes(timestamp: object, expected: datetime | None) -> None:
    [line] = transcript_lines([_message("hi", timestamp=timestamp)])
    assert line.at == expected and (line.at is None or line.at.tzinfo is not None)
