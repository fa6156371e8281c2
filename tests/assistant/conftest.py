"""Fixtures of the escalation core's tests: the support cases' store on the per-test SQLite file."""

from __future__ import annotations

import pytest

from stores.sql.cases import SqlCaseStore
from stores.sqlite.database import SqliteDatabase


@pytest.fixture
def store(database: SqliteDatabase) -> SqlCaseStore:
    """The `CaseStore` on the test's database (tests/conftest.py)."""
    return SqlCaseStore(database)
