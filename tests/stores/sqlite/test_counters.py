"""Tests for stores/sqlite/counters.py: SqliteCallCounter, per UTC day and system, upsert increments, shared
database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from stores.sqlite.counters import SqliteCallCounter
from stores.sqlite.database import SqliteDatabase
from stores.sqlite.state import SqliteStateStore
from tenant.base import System


def test_counts_per_day_and_system(tmp_path: Path) -> None:
    day = {"value": date(2025, 3, 1)}
    db = SqliteDatabase(tmp_path / "bot.db")
    try:
        counter = SqliteCallCounter(db, today=lambda: day["value"])
        assert counter.today(System.partner_center) == 0
        counter.add(System.partner_center)
        counter.add(System.partner_center, 2)
        counter.add(System.salesforce)
        counter.add(System.salesforce, 0)
        assert counter.today(System.partner_center) == 3
        assert counter.today(System.salesforce) == 1

        day["value"] = date(2025, 3, 2)
        assert counter.today(System.partner_center) == 0
        counter.add(System.partner_center)
        assert counter.today(System.partner_center) == 1
        assert counter.on(date(2025, 3, 1), System.partner_center) == 3
        assert counter.usage(date(2025, 3, 1)) == {"partner_center": 3, "salesforce": 1}
        assert db.query("SELECT day, system, calls FROM api_calls ORDER BY day, system") == [
            ("2025-03-01", "partner_center", 3),
            ("2025-03-01", "salesforce", 1),
            ("2025-03-02", "partner_center", 1),
        ]
    finally:
        db.close()


def test_counts_survive_a_restart_and_share_the_storage_connection(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    storage = SqliteStateStore(path)
    try:
        SqliteCallCounter(storage).add(System.dataverse, 5)
    finally:
        storage.close()
    db = SqliteDatabase(path)
    try:
        assert SqliteCallCounter(db).today(System.dataverse) == 5  # default day: today in UTC
    finally:
        db.close()
