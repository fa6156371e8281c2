"""Fixtures of the escalation core's tests: the support cases' store on the per-test SQLite file."""

from __future__ import annotations

import pytest

from stores.sqlite.cases import SqliteCaseStore
from stores.sqlite.database import SqliteDatabase


@pytest.fixture
def store(database: SqliteDatabase) -> SqliteCaseStore:
    """The `CaseStore` on the test's database (tests/conftest.py)."""
    return SqliteCaseStore(database)
