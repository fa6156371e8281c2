"""Tests for stores/sql/counters.py: SqlCallCounter on both engines, per UTC day and system, upsert increments,
shared by every instance on the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

from stores.sql.counters import SqlCallCounter
from stores.sql.database import Database
from stores.sql.state import SqlStateStore
from tenant.base import System


async def test_counts_per_day_and_system(database: Database) -> None:
    day = {"value": date(2025, 3, 1)}
    counter = SqlCallCounter(database, today=lambda: day["value"])
    assert await counter.today(System.partner_center) == 0
    await counter.add(System.partner_center)
    await counter.add(System.partner_center, 2)
    await counter.add(System.salesforce)
    await counter.add(System.salesforce, 0)
    assert await counter.today(System.partner_center) == 3
    assert await counter.today(System.salesforce) == 1

    day["value"] = date(2025, 3, 2)
    assert await counter.today(System.partner_center) == 0
    await counter.add(System.partner_center)
    assert await counter.today(System.partner_center) == 1
    assert await counter.on(date(2025, 3, 1), System.partner_center) == 3
    assert await counter.usage(date(2025, 3, 1)) == {"partner_center": 3, "salesforce": 1}
    assert await database.query("SELECT day, system, calls FROM api_calls ORDER BY day, system") == [
        ("2025-03-01", "partner_center", 3),
        ("2025-03-01", "salesforce", 1),
        ("2025-03-02", "partner_center", 1),
    ]


async def test_counts_survive_a_restart_and_are_shared_by_instances(open_database: Callable[[], Database]) -> None:
    storage = SqlStateStore(open_database())
    other = open_database()  # another instance on the same database
    try:
        await asyncio.gather(*(SqlCallCounter(db).add(System.dataverse, 5) for db in (storage.database, other) * 4))
    finally:
        await storage.aclose()
        await other.aclose()
    db = open_database()
    try:
        assert await SqlCallCounter(db).today(System.dataverse) == 40  # default day: today in UTC
    finally:
        await db.aclose()


async def test_a_count_that_cannot_be_written_is_logged_not_raised(open_database: Callable[[], Database]) -> None:
    db = open_database()
    await db.aclose()
    await SqlCallCounter(db).add(System.dataverse)  # the call was made: a lost count must not fail the check
