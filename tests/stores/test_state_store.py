"""Tests for stores/sql/state.py: the `StateStore` port on both engines (text and e-tags in, text and e-tags out).

What botbuilder's state makes of it (items, the e-tags on them, ConversationState races) is tested with the adapter,
in tests/bot/sdk/test_storage.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.ports import StateChange, StateConflict, StoredState
from stores.sql.database import Database
from stores.sql.state import SqlStateStore
from stores.sqlite.database import SqliteDatabase


@pytest.fixture
def store(database: Database) -> SqlStateStore:
    return SqlStateStore(database)


def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "bot.db")
    try:
        assert db.sync_query("PRAGMA journal_mode") == [("wal",)]
        assert db.sync_query("PRAGMA synchronous") == [(1,)]  # NORMAL
        assert db.sync_query("PRAGMA busy_timeout") == [(5000,)]
    finally:
        db.close()


async def test_ping_and_idempotent_close(open_database: Callable[[], Database]) -> None:
    store = SqlStateStore(open_database())
    assert await store.ping() is True

    await store.aclose()
    await store.aclose()

    assert await store.ping() is False


async def test_the_text_is_stored_as_given_under_a_fresh_etag(store: SqlStateStore) -> None:
    etags = await store.write({"k": StateChange('{"v":  1}', None)})

    assert list(etags) == ["k"] and re.fullmatch(r"[A-Za-z0-9_-]{16}", etags["k"])  # 96 random bits, base64url
    assert await store.read(["k", "missing", "k"]) == {"k": StoredState('{"v":  1}', etags["k"])}
    assert await store.database.query("SELECT key, etag, data FROM state") == [("k", etags["k"], '{"v":  1}')]


async def test_etag_rules_insert_only_match_or_star(store: SqlStateStore) -> None:
    first = (await store.write({"k": StateChange("1", None)}))["k"]

    with pytest.raises(StateConflict, match="'k'"):
        await store.write({"k": StateChange("2", None)})  # no e-tag: insert only
    with pytest.raises(StateConflict, match="'k'"):
        await store.write({"k": StateChange("2", "stale")})
    second = (await store.write({"k": StateChange("3", first)}))["k"]
    star = await store.write({"k": StateChange("4", "*"), "new": StateChange("5", "*")})  # "*": unconditional

    assert len({first, second, star["k"], star["new"]}) == 4
    assert await store.read(["k", "new"]) == {"k": StoredState("4", star["k"]), "new": StoredState("5", star["new"])}


async def test_a_conflict_writes_nothing_and_names_the_key_not_the_data(store: SqlStateStore) -> None:
    etag = (await store.write({"a": StateChange("kept", None)}))["a"]

    with pytest.raises(StateConflict) as err:
        await store.write({"b": StateChange("fresh", None), "a": StateChange("secret text", "stale")})

    assert err.value.key == "a" and "secret" not in str(err.value)
    assert await store.read(["a", "b"]) == {"a": StoredState("kept", etag)}


async def test_delete_and_empty_calls(store: SqlStateStore) -> None:
    await store.write({"a": StateChange("1", None), "b": StateChange("2", None)})

    await store.delete({"a", "missing"})

    assert list(await store.read(["a", "b"])) == ["b"]
    assert await store.read([]) == {}
    assert await store.write({}) == {}
    await store.delete([])


async def test_rows_survive_close_and_reopen(open_database: Callable[[], Database], tmp_path: Path) -> None:
    store = SqlStateStore(open_database())
    etag = (await store.write({"k": StateChange("kept", None)}))["k"]
    await store.aclose()

    reopened = SqlStateStore(open_database())
    try:
        assert await reopened.read(["k"]) == {"k": StoredState("kept", etag)}
    finally:
        await reopened.aclose()


async def test_a_path_opens_an_sqlite_file_in_a_new_folder(tmp_path: Path) -> None:
    store = SqlStateStore(tmp_path / "nested" / "bot.db")
    try:
        await store.write({"k": StateChange("v", None)})
        assert (tmp_path / "nested" / "bot.db").exists()
    finally:
        await store.aclose()
