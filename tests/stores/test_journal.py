"""Tests for stores/sql/journal.py: the `Journal` port on both engines, read back in order; ids and choices only, the
free text redacted (the whole-file check for credentials is tests/security/test_redaction_everywhere.py)."""

from __future__ import annotations

from knowledge.models import Area
from stores.sql.database import Database
from stores.sql.journal import SqlJournal


async def test_every_record_reads_back_oldest_first(database: Database) -> None:
    journal = SqlJournal(database)

    await journal.record_feedback("c1", "run-solution-id", True, "en")
    await journal.record_feedback("c2", "flows-order", False, "it")
    await journal.record_checklist("c1", Area.configuration, {"b": "open", "a": "done"})
    await journal.record_remediation(
        "c1",
        "aad-admin",
        "start-flows-in-order",
        before={"flows": "Stopped"},
        after={"flows": "Started"},
        result="done",
    )

    assert journal.feedback() == [
        {"conversation_id": "c1", "entry_id": "run-solution-id", "helpful": True, "lang": "en"},
        {"conversation_id": "c2", "entry_id": "flows-order", "helpful": False, "lang": "it"},
    ]
    assert await database.query("SELECT conversation_id, area, results FROM checklist") == [
        ("c1", "configuration", '{"a": "done", "b": "open"}')
    ]
    [row] = journal.remediations()
    assert row | {"at": None} == {
        "at": None,
        "conversation_id": "c1",
        "user_id": "aad-admin",
        "action": "start-flows-in-order",
        "before": {"flows": "Stopped"},
        "after": {"flows": "Started"},
        "result": "done",
        "detail": None,
    }


async def test_the_remediation_detail_is_redacted(database: Database) -> None:
    journal = SqlJournal(database)

    await journal.record_remediation(
        "c1", "aad-admin", "register-webhook", before={}, after={}, result="failed", detail="password: Summer2024"
    )

    [(detail,)] = await database.query("SELECT detail FROM remediation")
    assert "Summer2024" not in detail and "[REDACTED]" in detail


async def test_reads_one_conversations_votes_and_remediations_oldest_first(database: Database) -> None:
    journal = SqlJournal(database)
    await journal.record_feedback("c1", "run-not-synced", False, "en")
    await journal.record_feedback("c2", "pre-licenses", True, "it")
    await journal.record_feedback("c1", "cfg-signin-error", True, "en")
    await journal.record_remediation(
        "c1", "u1", "enable-flow", before={"state": "off", "token": "ghp_" + "a" * 36}, after={}, result="done"
    )
    votes = await journal.feedback_for("c1")
    assert [(v["entry_id"], v["helpful"]) for v in votes] == [("run-not-synced", False), ("cfg-signin-error", True)]
    assert votes[0]["at"] <= votes[1]["at"]
    fixes = await journal.remediations_for("c1")
    assert [(f["action"], f["result"]) for f in fixes] == [("enable-flow", "done")]
    assert "ghp_" not in str(fixes)
    assert await journal.feedback_for("nobody") == [] and await journal.remediations_for("c2") == []
