"""stores/sql/analytics.py on both engines: a database seeded through the real stores (transcripts with each turn's
facts, the journal, the cases) with known conversations, read back for a window and turned into the report
(`assistant.analytics.figures`): the exact figures, the window's bounds, and retention and erasure taking the facts
with the transcript."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.analytics.figures import build_report
from assistant.analytics.model import Report, TurnFacts
from assistant.handoff.model import SupportCase
from assistant.ports import Area
from stores.sql import journal as journal_module
from stores.sql.analytics import SqlAnalytics
from stores.sql.cases import SqlCaseStore
from stores.sql.database import Database
from stores.sql.journal import SqlJournal
from stores.sql.retention import SqlRetention
from stores.sql.transcripts import SqlTranscriptStore

NOW = datetime.now(UTC)
UNTIL = NOW + timedelta(minutes=1)
AREAS = {"cfg-a": "configuration", "run-b": "maintenance"}
HOSTILE = "how do I bake a cake? mail alice@contoso.com, password: Hunter2!"


@pytest.fixture(autouse=True)
def _journal_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal stamps votes and checklists with its clock: `NOW` here, however long after import a test runs."""
    monkeypatch.setattr(journal_module, "_now", lambda: NOW.isoformat(timespec="milliseconds"))


def _activity(conversation: str, text: str | None, at: datetime, *, user: str, out: bool = False) -> dict[str, Any]:
    sender, bot = {"id": user, "role": "user"}, {"id": "bot", "role": "bot"}
    return {
        "type": "message",
        "id": f"{conversation}-{at.timestamp()}",
        "timestamp": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "channelId": "msteams",
        "from": bot if out else sender,
        "recipient": sender if out else bot,
        "conversation": {"id": conversation},
        "text": text,
    }


async def _turn(
    store: SqlTranscriptStore, conversation: str, text: str | None, ago: timedelta, facts: TurnFacts | None = None
) -> None:
    """One turn: the user's message and the bot's reply, written as the middleware writes them (one batch)."""
    at = NOW - ago
    user = f"user-{conversation}"
    entries = [
        (_activity(conversation, text, at, user=user), "in"),
        (_activity(conversation, "a reply", at + timedelta(seconds=1), user=user, out=True), "out"),
    ]
    await store.log_serialized(entries, facts)


async def _seed(db: Database) -> None:
    transcripts, journal, cases = SqlTranscriptStore(db), SqlJournal(db), SqlCaseStore(db)
    hour, two_hours = timedelta(hours=1), timedelta(hours=2)
    # A: answered with cfg-a, the user said it helped → resolved
    await _turn(transcripts, "A", "flows fail to start", two_hours, TurnFacts("answer", "cfg-a"))
    await journal.record_feedback("A", "cfg-a", True, "en")
    # B: answered with run-b, not helpful, then silence → abandoned; its question is listed as not helpful
    await _turn(transcripts, "B", "referrals stopped syncing", two_hours, TurnFacts("answer", "run-b"))
    await journal.record_feedback("B", "run-b", False, "en")
    # C: the matcher abstained twice on similar questions (one with an e-mail and a password) → abandoned
    await _turn(transcripts, "C", HOSTILE, two_hours, TurnFacts("none"))
    await _turn(transcripts, "C", "how do I bake a chocolate cake", two_hours - timedelta(minutes=1), TurnFacts("none"))
    # D: answered with run-b, then a support case → escalated
    await _turn(transcripts, "D", "sync broken since monday", hour, TurnFacts("answer", "run-b"))
    await cases.create(
        SupportCase(
            ref="CS-DDDDDD",
            created=NOW - hour,
            updated=NOW - hour,
            channel_id="msteams",
            conversation_id="D",
            description="help",
        ),
        {"schema": "cosell.case.v1"},
    )
    # E: a live check failing, another passing, five minutes ago → active (no outcome yet)
    checks = (("flows-on", "power_automate", "fail"), ("webhook-ok", "partner_center", "pass"))
    await _turn(transcripts, "E", "diagnose everything", timedelta(minutes=5), TurnFacts(checks=checks))
    # G: a checklist walked with no item left open → resolved; small talk is no question
    await _turn(transcripts, "G", "hello", two_hours, TurnFacts("smalltalk"))
    await journal.record_checklist("G", Area.configuration, {"cfg-a": "done", "cfg-c": "skipped"})
    # H: a checklist with an open item, and an off-topic question pointed elsewhere → abandoned, nothing unanswered
    await _turn(transcripts, "H", "where are my payouts", two_hours, TurnFacts("neighbour"))
    await journal.record_checklist("H", Area.configuration, {"cfg-a": "open"})
    # F: ten days ago, outside a 7-day window
    await _turn(transcripts, "F", "an old question nobody answered", timedelta(days=10), TurnFacts("none"))


async def _report(db: Database, days: int = 7) -> Report:
    window = await SqlAnalytics(db).window(UNTIL - timedelta(days=days), UNTIL)
    return build_report(window, areas=AREAS, days=days)


async def test_the_figures_of_known_conversations(database: Database) -> None:
    await _seed(database)
    report = await _report(database)

    o = report.outcomes
    assert (o.engaged, o.resolved, o.escalated, o.abandoned, o.active) == (7, 2, 1, 3, 1)
    assert (o.resolution_rate, o.escalation_rate, o.abandon_rate) == (round(2 / 7, 4), round(1 / 7, 4), round(3 / 7, 4))
    assert (report.questions, report.answered, report.unanswered) == (5, 3, 2)
    assert report.unanswered_rate == 0.4 and report.helpful_rate == 0.5

    entries = {f.key: f for f in report.entries}
    assert [f.key for f in report.entries] == ["run-b", "cfg-a"]  # most conversations first
    b = entries["run-b"]
    assert (b.area, b.conversations, b.answers, b.helpful, b.not_helpful) == ("maintenance", 2, 2, 0, 1)
    assert (b.helpful_rate, b.escalated, b.escalation_rate) == (0.0, 1, 0.5)
    a = entries["cfg-a"]
    assert (a.conversations, a.helpful, a.helpful_rate, a.escalated, a.escalation_rate) == (1, 1, 1.0, 0, 0.0)
    assert {f.key: (f.conversations, f.helpful_rate, f.escalation_rate) for f in report.areas} == {
        "maintenance": (2, 0.0, 0.5),
        "configuration": (1, 1.0, 0.0),
    }

    groups = [(g.count, g.unanswered, g.not_helpful) for g in report.unanswered_groups]
    assert groups == [(2, 2, 0), (1, 0, 1)]
    assert report.unanswered_groups[0].example == "how do I bake a cake? mail [email], password: [REDACTED]"
    assert report.unanswered_groups[1].example == "referrals stopped syncing"
    assert "Hunter2" not in report.model_dump_json() and "alice@contoso.com" not in report.model_dump_json()

    assert [(c.key, c.system, c.results, c.failed, c.failure_rate) for c in report.checks] == [
        ("flows-on", "power_automate", 1, 1, 1.0),
        ("webhook-ok", "partner_center", 1, 0, 0.0),
    ]
    assert [(s.key, s.failure_rate) for s in report.systems] == [("power_automate", 1.0), ("partner_center", 0.0)]


async def test_days_bound_the_window(database: Database) -> None:
    await _seed(database)
    week, fortnight, today = await _report(database, 7), await _report(database, 14), await _report(database, 1)

    assert (week.outcomes.engaged, week.unanswered) == (7, 2)
    assert (fortnight.outcomes.engaged, fortnight.unanswered) == (8, 3)  # F, ten days ago
    assert "an old question nobody answered" in [g.example for g in fortnight.unanswered_groups]
    assert today.outcomes.engaged == 7 and today.days == 1


async def test_an_empty_window_has_no_rates(database: Database) -> None:
    report = await _report(database)

    assert report.outcomes.engaged == 0 and report.outcomes.resolution_rate is None
    assert report.unanswered_rate is None and report.helpful_rate is None
    assert report.entries == [] and report.unanswered_groups == [] and report.checks == []


@pytest.mark.parametrize("how", ["forget", "purge"])
async def test_the_facts_go_with_the_transcript(database: Database, how: str) -> None:
    await _seed(database)
    if how == "forget":
        counts = await SqlRetention(database, days=30, case_days=365).forget("user-C")
        assert counts["transcript"] == 4
        report = await _report(database)
        assert (report.outcomes.engaged, report.unanswered) == (6, 0)
        assert [g.example for g in report.unanswered_groups] == ["referrals stopped syncing"]  # B, not C
    else:  # a one-day retention, a week later: every conversation's transcript, with its facts, is gone
        later = SqlRetention(database, days=1, case_days=365, clock=lambda: NOW + timedelta(days=7))
        await later.purge()
        report = await _report(database, 14)
        assert report.outcomes.engaged == 0 and report.questions == 0 and report.checks == []
