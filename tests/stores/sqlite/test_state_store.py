"""Tests for stores/sqlite/state.py: the `StateStore` port on SQLite (text and e-tags in, text and e-tags out).

What botbuilder's state makes of it (items, the e-tags on them, ConversationState races) is tested with the adapter,
in tests/bot/sdk/test_storage.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.ports import StateChange, StateConflict, StoredState
from stores.sqlite.state import SqliteStateStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStateStore]:
    state = SqliteStateStore(tmp_path / "bot.db")
    yield state
    state.close()


def test_pragmas(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "bot.db")
    try:
        assert store.database.query("PRAGMA journal_mode") == [("wal",)]
        assert store.database.query("PRAGMA synchronous") == [(1,)]  # NORMAL
        assert store.database.query("PRAGMA busy_timeout") == [(5000,)]
    finally:
        store.close()


def test_ping_and_idempotent_close(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "bot.db")
    assert store.ping() is True

    store.close()
    store.close()

    assert store.ping() is False


async def test_the_text_is_stored_as_given_under_a_fresh_etag(store: SqliteStateStore) -> None:
    etags = await store.write({"k": StateChange('{"v":  1}', None)})

    assert list(etags) == ["k"] and len(etags["k"]) == 32
    assert await store.read(["k", "missing", "k"]) == {"k": StoredState('{"v":  1}', etags["k"])}
    assert store.database.query("SELECT key, etag, data FROM state") == [("k", etags["k"], '{"v":  1}')]


async def test_etag_rules_insert_only_match_or_star(store: SqliteStateStore) -> None:
    first = (await store.write({"k": StateChange("1", None)}))["k"]

    with pytest.raises(StateConflict, match="'k'"):
        await store.write({"k": StateChange("2", None)})  # no e-tag: insert only
    with pytest.raises(StateConflict, match="'k'"):
        await store.write({"k": StateChange("2", "stale")})
    second = (await store.write({"k": StateChange("3", first)}))["k"]
    star = await store.write({"k": StateChange("4", "*"), "new": StateChange("5", "*")})  # "*": unconditional

    assert len({first, second, star["k"], star["new"]}) == 4
    assert await store.read(["k", "new"]) == {"k": StoredState("4", star["k"]), "new": StoredState("5", star["new"])}


async def test_a_conflict_writes_nothing_and_names_the_key_not_the_data(store: SqliteStateStore) -> None:
    etag = (await store.write({"a": StateChange("kept", None)}))["a"]

    with pytest.raises(StateConflict) as err:
        await store.write({"b": StateChange("fresh", None), "a": StateChange("secret text", "stale")})

    assert err.value.key == "a" and "secret" not in str(err.value)
    assert await store.read(["a", "b"]) == {"a": StoredState("kept", etag)}


async def test_delete_and_empty_calls(store: SqliteStateStore) -> None:
    await store.write({"a": StateChange("1", None), "b": StateChange("2", None)})

    await store.delete({"a", "missing"})

    assert list(await store.read(["a", "b"])) == ["b"]
    assert await store.read([]) == {}
    assert await store.write({}) == {}
    await store.delete([])


async def test_rows_survive_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "bot.db"
    store = SqliteStateStore(path)
    etag = (await store.write({"k": StateChange("kept", None)}))["k"]
    store.close()

    reopened = SqliteStateStore(path)
    try:
        assert await reopened.read(["k"]) == {"k": StoredState("kept", etag)}
    finally:
        reopened.close()
