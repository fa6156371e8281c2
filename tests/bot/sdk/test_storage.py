"""Tests for bot/sdk/storage.py: botbuilder's `Storage` over the `StateStore` port (here the SQLite one, as the bot
wires it), with e-tags."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import ConversationState, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.schema import Activity, ConversationAccount

from assistant.ports import StateConflict
from tests.harness import SqliteStateStorage

REPO = Path(__file__).resolve().parents[3]
TEAMS_KEY = "msteams/conversations/19:abc@thread.tacv2;messageid=1699999"


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStateStorage]:
    store = SqliteStateStorage(tmp_path / "bot.db")
    yield store
    store.close()


def _stored_blob(storage: SqliteStateStorage, key: str) -> str:
    [(data,)] = storage.database.sync_query("SELECT data FROM state WHERE key = ?", (key,))
    return str(data)


async def test_round_trip_of_dialog_state_objects(storage: SqliteStateStorage) -> None:
    stack = [DialogInstance(id="MainDialog", state={"stepIndex": 2, "values": {"lang": "it"}})]
    await storage.write({"conv": {"DialogState": DialogState(stack)}})

    item = (await storage.read(["conv", "missing"]))["conv"]

    restored = item["DialogState"]
    assert isinstance(restored, DialogState)
    assert restored.dialog_stack[0].id == "MainDialog"
    assert restored.dialog_stack[0].state == {"stepIndex": 2, "values": {"lang": "it"}}
    assert len(item["e_tag"]) == 16  # 96 random bits, base64url (stores/sql/state.py)
    assert "e_tag" not in _stored_blob(storage, "conv")

    await storage.delete({"conv", "missing"})  # BotState.delete passes a set
    assert await storage.read(["conv"]) == {}


async def test_write_sets_new_etag_on_item_so_a_second_save_works(storage: SqliteStateStorage) -> None:
    item: dict[str, object] = {"count": 1}
    await storage.write({"k": item})
    first = item["e_tag"]

    item["count"] = 2
    await storage.write({"k": item})

    assert item["e_tag"] != first
    assert (await storage.read(["k"]))["k"] == {"count": 2, "e_tag": item["e_tag"]}


async def test_store_item_objects_carry_etag_as_attribute(storage: SqliteStateStorage) -> None:
    item = StoreItem(name="Anna")
    await storage.write({"k": item})

    restored = (await storage.read(["k"]))["k"]

    assert isinstance(restored, StoreItem)
    assert restored.name == "Anna"
    assert restored.e_tag == item.e_tag
    assert "e_tag" not in _stored_blob(storage, "k")


async def test_stale_etag_raises_and_names_key_not_data(storage: SqliteStateStorage) -> None:
    await storage.write({"k": {"v": "original"}})
    first = (await storage.read(["k"]))["k"]
    second = (await storage.read(["k"]))["k"]
    first["v"] = "first writer"
    await storage.write({"k": first})

    second["v"] = "second writer"
    with pytest.raises(StateConflict, match="'k'") as err:
        await storage.write({"k": second})

    assert "writer" not in str(err.value)
    assert (await storage.read(["k"]))["k"]["v"] == "first writer"


async def test_two_first_writes_without_etag_second_raises(storage: SqliteStateStorage) -> None:
    await storage.write({"k": {"v": 1}})

    with pytest.raises(StateConflict):
        await storage.write({"k": {"v": 2}})

    assert (await storage.read(["k"]))["k"]["v"] == 1


async def test_star_etag_overwrites_unconditionally(storage: SqliteStateStorage) -> None:
    await storage.write({"k": {"v": 1}, "new": {"v": 0, "e_tag": "*"}})

    await storage.write({"k": {"v": 3, "e_tag": "*"}})

    items = await storage.read(["k", "new"])
    assert items["k"]["v"] == 3
    assert items["new"]["v"] == 0


@pytest.mark.parametrize("seeded", [True, False], ids=["existing-conversation", "first-turn"])
async def test_concurrent_conversation_state_saves_never_lose_silently(
    storage: SqliteStateStorage, seeded: bool
) -> None:
    adapter = TestAdapter()
    activity = Activity(
        type="message",
        text="hi",
        channel_id="msteams",
        conversation=ConversationAccount(id="19:abc@thread.tacv2;messageid=1699999"),
    )
    if seeded:
        await storage.write({TEAMS_KEY: {"topic": "seed"}})
    state_a, state_b = ConversationState(storage), ConversationState(storage)
    ctx_a, ctx_b = TurnContext(adapter, activity), TurnContext(adapter, activity)
    await state_a.load(ctx_a)
    await state_b.load(ctx_b)

    await state_a.create_property("topic").set(ctx_a, "from A")
    await state_b.create_property("topic").set(ctx_b, "from B")
    await state_a.save_changes(ctx_a)
    with pytest.raises(StateConflict):
        await state_b.save_changes(ctx_b)

    # the winner can save again in the same turn: its cached state carries the new e-tag
    await state_a.create_property("topic").set(ctx_a, "from A, again")
    await state_a.save_changes(ctx_a)
    ctx_c = TurnContext(adapter, activity)
    assert await ConversationState(storage).create_property("topic").get(ctx_c) == "from A, again"
    assert (await storage.read([TEAMS_KEY]))[TEAMS_KEY]["topic"] == "from A, again"


async def test_clear_state_cannot_blindly_overwrite_use_delete(storage: SqliteStateStorage) -> None:
    # clear_state() caches a fresh dict with no e-tag, which means "insert only": resetting a
    # conversation must go through ConversationState.delete() instead
    adapter = TestAdapter()
    activity = Activity(type="message", channel_id="msteams", conversation=ConversationAccount(id="c"))
    state = ConversationState(storage)
    ctx = TurnContext(adapter, activity)
    await state.create_property("topic").set(ctx, "old")
    await state.save_changes(ctx)

    await state.clear_state(ctx)
    with pytest.raises(StateConflict):
        await state.save_changes(ctx)
    await state.delete(ctx)

    assert await storage.read(["msteams/conversations/c"]) == {}


async def test_multi_key_write_is_all_or_nothing(storage: SqliteStateStorage) -> None:
    await storage.write({"a": {"v": 1}})
    fresh: dict[str, object] = {"v": 2}

    with pytest.raises(StateConflict, match="'a'"):
        await storage.write({"b": fresh, "a": {"v": 9}})

    items = await storage.read(["a", "b"])
    assert set(items) == {"a"}
    assert items["a"]["v"] == 1
    assert "e_tag" not in fresh


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "bot.db"
    store = SqliteStateStorage(path)
    await store.write({TEAMS_KEY: {"v": "kept"}})
    etag = (await store.read([TEAMS_KEY]))[TEAMS_KEY]["e_tag"]
    store.close()

    reopened = SqliteStateStorage(path)
    try:
        assert (await reopened.read([TEAMS_KEY]))[TEAMS_KEY] == {"v": "kept", "e_tag": etag}
    finally:
        reopened.close()


_CHILD = """
import asyncio, os, signal, sys
from bot.sdk.storage import StateStorage
from stores.sql.state import SqlStateStore
storage = StateStorage(SqlStateStore(sys.argv[1]))
asyncio.run(storage.write({"k": {"v": "committed"}}))
{exit}
"""


@pytest.mark.parametrize(
    ("how", "returncode"),
    [("os.kill(os.getpid(), signal.SIGKILL)", -9), ("os._exit(0)", 0)],
    ids=["sigkill", "os-exit"],
)
def test_committed_write_survives_killed_process(tmp_path: Path, how: str, returncode: int) -> None:
    path = tmp_path / "bot.db"
    child = subprocess.run(
        [sys.executable, "-c", _CHILD.replace("{exit}", how), str(path)],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == returncode, child.stderr.decode()
    assert Path(f"{path}-wal").stat().st_size > 0  # never checkpointed: the data is only in the WAL

    store = SqliteStateStorage(path)
    try:
        assert asyncio.run(store.read(["k"]))["k"]["v"] == "committed"
    finally:
        store.close()


@pytest.mark.parametrize(
    "key",
    [
        TEAMS_KEY,
        "msteams/users/29:1AbC-xYz_0==",
        "webchat/conversations/a'b\"c%20 d?e#f*g\\h",
        "emulator/conversations/città 🤖",
    ],
)
async def test_channel_style_keys_round_trip(storage: SqliteStateStorage, key: str) -> None:
    await storage.write({key: {"v": key}})

    assert (await storage.read([key]))[key]["v"] == key
    await storage.delete([key])
    assert await storage.read([key]) == {}


async def test_empty_calls_are_no_ops(storage: SqliteStateStorage) -> None:
    assert await storage.read([]) == {}
    await storage.write({})
    await storage.delete([])


async def test_rows_this_process_wrote_skip_the_exactness_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.sdk.storage as module

    seen: list[bool] = []
    original = module.decode_item

    def recording(data: str, *, ours: bool = False) -> Any:
        seen.append(ours)
        return original(data, ours=ours)

    monkeypatch.setattr(module, "decode_item", recording)
    mine, other = SqliteStateStorage(tmp_path / "bot.db"), SqliteStateStorage(tmp_path / "bot.db")
    try:
        await mine.write({"a": {"n": 1}, "b": {"n": 2}})
        await other.write({"b": {"n": 3, "e_tag": "*"}})  # another process rewrote "b"
        read = await mine.read_encoded(["a", "b"])

        assert seen == [True, False]  # "a" still carries this process's e-tag, "b" does not
        assert read["a"][1] == '{"n":1}' and read["b"][1] == '{"n":3}'
        # an older row form (other spacing) under a foreign e-tag is re-encoded, not trusted
        with mine.database.sync_transaction() as conn:
            conn.execute("UPDATE state SET data = ?, etag = 'old' WHERE key = 'a'", ('{"n":  1}',))
        assert (await mine.read_encoded(["a"]))["a"][1] == '{"n":1}' and seen[-1] is False
    finally:
        mine.close()
        other.close()
