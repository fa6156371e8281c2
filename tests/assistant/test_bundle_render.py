"""The bundle for people (assistant/handoff/render.py): the HTML page and the card Markdown escape what users typed,
keep no secret, and show times in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from assistant.handoff.bundle import BundleUser, Finding, Remediation, build_bundle
from assistant.handoff.render import MAX_CARD_FINDINGS, bundle_html, bundle_markdown

GITHUB_TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
CLIENT_SECRET = "Lm3~pQ8.rT5_wV2-xY7zA4bC6dE1fG9hJ0kN"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZGFAY29udG9zby5jb20iLCJpYXQiOjE3NjcyMjU2MDB9."
    "dGhpcy1pcy1ub3QtYS1yZWFsLXNpZ25hdHVyZS1idXQtbG9va3MtbGlrZS1vbmU"
)
PASSWORD = "Correct-Horse-9!"
PASTED = (
    f"token {GITHUB_TOKEN} / client_secret={CLIENT_SECRET} / id_token={JWT} / "
    f"the password for the admin account is {PASSWORD}"
)
SCRIPT = '<script>alert("pwned")</script>'
AT = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)


def _bundle(**overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "ref": "CS-7K3Q9P",
        "channel": "msteams",
        "conversation_id": "a:1",
        "locale": "en-US",
        "user": BundleUser(name="Ada Admin", verified=True),
        "description": "stuck",
        "created": AT,
    }
    return build_bundle(**{**arguments, **overrides})


def _hostile() -> Any:
    return _bundle(
        description=f"{SCRIPT} {PASTED}",
        user=BundleUser(name=f"<img src=x onerror=alert(1)> {SCRIPT}"),
        locale='en"><script>x()</script>',
        findings=[
            Finding(
                check="c",
                title=SCRIPT,
                system="s",
                status="fail",
                summary=PASTED,
                evidence={"html": SCRIPT, "note": PASTED},
            )
        ],  # fmt: skip
        remediations=[Remediation(action=SCRIPT, result=SCRIPT, detail=PASTED, after={"x": SCRIPT})],
        activities=[
            {"type": "message", "text": f"{SCRIPT}\n{PASTED}", "from": {"role": "user"}},
            {"type": "message", "text": "ok", "from": {"role": "bot"}},
        ],
    )


def test_the_html_escapes_what_users_typed() -> None:
    page = bundle_html(_hostile())
    assert "<script" not in page.casefold() and "<img" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert page.startswith("<!doctype html>") and "<br>" in page  # the transcript's line break, as markup


def test_the_markdown_escapes_what_users_typed() -> None:
    card = bundle_markdown(_hostile(), link="https://bot.example.com/cases/CS-7K3Q9P")
    assert re.search(r"(?<!\\)[<>\[\]]", card.rsplit("\n\n", 1)[0]) is None  # none unescaped, but in the link
    assert "\\<script\\>" in card and 'en"\\>\\<script\\>x()\\</script\\>' in card  # the locale too
    assert card.endswith("[Open the full diagnostic bundle](https://bot.example.com/cases/CS-7K3Q9P)")


def test_neither_view_keeps_a_pasted_secret() -> None:
    bundle = _hostile()
    for view in (bundle_html(bundle), bundle_markdown(bundle)):
        for secret in (GITHUB_TOKEN, CLIENT_SECRET, JWT, PASSWORD, JWT.split(".")[2][:20]):
            assert secret not in view
        assert "REDACTED" in view


def test_times_are_shown_in_utc() -> None:
    rome = timezone(timedelta(hours=1))
    bundle = _bundle(
        created=datetime(2026, 1, 1, 10, 30, tzinfo=rome),
        activities=[
            {"type": "message", "text": "hi", "from": {"role": "user"}, "timestamp": "2026-01-01T12:05:00+02:00"}
        ],
    )
    page = bundle_html(bundle)
    assert "2026-01-01 09:30 UTC" in page and "2026-01-01 10:05 UTC" in page
    assert "10:30 UTC" not in page and "12:05 UTC" not in page


def test_the_card_lists_the_failing_checks_then_how_many_more() -> None:
    findings = [Finding(check=f"c{n}", title=f"Check {n}", system="s", status="fail", summary="no") for n in range(8)]
    card = bundle_markdown(_bundle(findings=findings))
    assert card.count("❌ Problem — **Check") == MAX_CARD_FINDINGS and f"and {8 - MAX_CARD_FINDINGS} more" in card
    assert "none ran" in bundle_markdown(_bundle())
    passed = Finding(check="p", title="P", system="s", status="pass", summary="ok")
    assert "all 1 passed or could not look" in bundle_markdown(_bundle(findings=[passed]))


def test_the_page_says_how_many_older_messages_are_left_out() -> None:
    activities = [{"type": "message", "text": f"m{n}", "from": {"role": "user"}} for n in range(405)]
    page = bundle_html(_bundle(activities=activities))
    assert "5 older messages are left out" in page and ">m4<" not in page and ">m404<" in page
