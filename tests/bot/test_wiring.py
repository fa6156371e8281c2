"""Tests for bot/wiring.py's store openers (build_assistant itself is exercised by the app and CLI tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from assistant.ports import SupportCase
from bot.wiring import SqliteDatabase, open_case_store


async def test_open_case_store_keeps_cases_in_the_database(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "bot.db")
    try:
        store = open_case_store(database)
        now = datetime.now(UTC)
        case = SupportCase(ref="CS-AAAAAA", created=now, updated=now, channel_id="webchat", conversation_id="c1")

        await store.create(case, {"schema": "cosell.case.v1"})

        assert await open_case_store(database).get("CS-AAAAAA") == case
    finally:
        database.close()
