"""Tests for bot/sdk/state.py: the jsonpickle-compatible state codec and the encode-once BotState subclasses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import jsonpickle
import pytest
from botbuilder.core import MemoryStorage, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from assistant.ports import StateConflict
from bot.sdk.state import ConversationState, UserState, decode_item, encode_item
from tests.harness import SqliteStateStorage

KEY = "msteams/conversations/19:abc@thread.tacv2;messageid=1699999"


def _dialog_state() -> DialogState:
    prompt = DialogInstance(
        "SpecPrompt",
        {"options": PromptOptions(validations={"kind": "answer", "alternatives": []}), "state": {}},
    )
    waterfall = DialogInstance(
        "WaterfallDialog",
        {"options": {"route": 'città 🤖 "quoted" py/object'}, "values": {}, "stepIndex": 1, "instanceId": "x"},
    )
    inner = DialogInstance("AnswerDialog", {"dialogs": DialogState([prompt, waterfall])})
    return DialogState([DialogInstance("MainDialog", {"dialogs": DialogState([inner])})])


PLAIN_ITEMS = {
    "empty": {},
    "conversation data": {"ConversationData": {"lang": "it", "lang_locked": False, "turns": 3, "last_entry": None}},
    "numbers": {"i": -7, "big": 2**70, "f": 0.1, "neg zero": -0.0, "e": 1e300, "bools": [True, False, None]},
    "unicode": {"text": "perché ✓ \u2028 \\ / \x00", "nested": [[[]], [{}]]},
    "dialog state": {"DialogState": _dialog_state(), "ConversationData": {"turns": 1}},
    "bare dialog state": _dialog_state(),
    "top-level list": [1, "two", {"three": 3}],
    "scalar": "just a string",
}


@pytest.mark.parametrize("item", PLAIN_ITEMS.values(), ids=PLAIN_ITEMS.keys())
def test_encoding_is_jsonpickles_compacted_and_decodes_without_it(item: Any) -> None:
    data, theirs = encode_item(item), jsonpickle.encode(item)

    assert "botbuilder." not in data and ", " not in data.replace('", "', "")  # class names, no spacing
    decoded, exact = decode_item(data)
    assert exact
    assert jsonpickle.encode(decoded) == theirs  # same classes, same attributes, same values
    # a row in jsonpickle's own form (earlier builds) reads back the same, and is rewritten compact at its next save
    old, old_exact = decode_item(theirs)
    assert jsonpickle.encode(old) == theirs and old_exact == (theirs == data)


def test_decoded_dialog_state_is_made_of_the_real_classes() -> None:
    decoded, _ = decode_item(encode_item({"DialogState": _dialog_state()}))

    state = decoded["DialogState"]
    assert isinstance(state, DialogState)
    main = state.dialog_stack[0]
    assert isinstance(main, DialogInstance) and main.id == "MainDialog"
    prompt = main.state["dialogs"].dialog_stack[0].state["dialogs"].dialog_stack[0]
    assert isinstance(prompt.state["options"], PromptOptions)
    assert prompt.state["options"].validations == {"kind": "answer", "alternatives": []}


class Colour(StrEnum):
    RED = "red"


class Custom:
    def __init__(self) -> None:
        self.v = 1


_SHARED: dict[str, int] = {"n": 1}
_INSTANCE = DialogInstance("a", {})
JSONPICKLE_ITEMS = {
    "store item": StoreItem(name="Anna"),
    "tuple": {"t": (1, 2)},
    "set": {"s": {1}},
    "shared dict": {"a": _SHARED, "b": _SHARED},
    "shared instance": {"a": _INSTANCE, "b": _INSTANCE},
    "str enum": {"c": Colour.RED},
    "unknown class": {"x": Custom()},
    "prompt with an activity": {"o": PromptOptions(prompt=Activity(type="message", text="hi"))},
}


@pytest.mark.parametrize("item", JSONPICKLE_ITEMS.values(), ids=JSONPICKLE_ITEMS.keys())
def test_anything_else_goes_through_jsonpickle_unchanged(item: Any) -> None:
    data = encode_item(item)

    assert data == jsonpickle.encode(item)
    decoded, exact = decode_item(data)
    assert not exact
    assert jsonpickle.encode(decoded) == jsonpickle.encode(jsonpickle.decode(data))


@pytest.mark.parametrize("item", [{1: "one"}, {"py/object": "not a class"}], ids=["int key", "py/ key"])
def test_what_jsonpickle_writes_as_plain_json_reads_back_as_it_does(item: Any) -> None:
    # jsonpickle stringifies the key and drops the tag: what it wrote is plain JSON, read back like any other
    data = encode_item(item)

    assert data == jsonpickle.encode(item)
    # in jsonpickle's spacing it is rewritten compact at its next save (an empty dict has no spacing to differ in)
    assert decode_item(data) == (jsonpickle.decode(data), data == json.dumps(json.loads(data), separators=(",", ":")))


@pytest.mark.parametrize(
    "data",
    [
        '{"text": "py/object"}',
        '{"text": "say \\"py/object\\": \\"x\\""}',
        '{"o": {"py/object": "botbuilder.dialogs.dialog_state.DialogState", "py/state": {}}}',
        '{"o": {"py/object": "os.system"}}',
    ],
    ids=["value", "escaped key-like value", "extra tag", "foreign class"],
)
def test_text_that_mentions_jsonpickle_tags_is_left_to_jsonpickle(data: str) -> None:
    decoded, exact = decode_item(data)

    assert not exact
    assert jsonpickle.encode(decoded) == jsonpickle.encode(jsonpickle.decode(data))


def test_e_tag_is_never_part_of_the_encoding() -> None:
    item = StoreItem(name="Anna", e_tag="abc")

    assert encode_item({"v": 1, "e_tag": "abc"}) == encode_item({"v": 1})
    assert "abc" not in encode_item(item)
    assert item.e_tag == "abc"  # the caller's object keeps it


# --- the BotState subclasses ---------------------------------------------------------------------


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStateStorage]:
    store = SqliteStateStorage(tmp_path / "bot.db")
    yield store
    store.close()


class CountingStorage(SqliteStateStorage):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: list[str] = []

    async def write_encoded(self, changes: dict[str, tuple[Any, str]]) -> None:
        self.writes += list(changes)
        await super().write_encoded(changes)


def _context(conversation: str = KEY.rsplit("/", 1)[1]) -> TurnContext:
    activity = Activity(
        type="message",
        channel_id="msteams",
        conversation=ConversationAccount(id=conversation),
        from_property=ChannelAccount(id="29:user"),
    )
    return TurnContext(TestAdapter(), activity)


async def test_concurrent_saves_conflict_exactly_as_before(storage: SqliteStateStorage) -> None:
    await storage.write({KEY: {"topic": "seed"}})
    state_a, state_b = ConversationState(storage), ConversationState(storage)
    ctx_a, ctx_b = _context(), _context()
    await state_a.load(ctx_a)
    await state_b.load(ctx_b)

    await state_a.create_property("topic").set(ctx_a, "from A")
    await state_b.create_property("topic").set(ctx_b, "from B")
    await state_a.save_changes(ctx_a)
    with pytest.raises(StateConflict):
        await state_b.save_changes(ctx_b)

    await state_a.create_property("topic").set(ctx_a, "from A, again")  # the winner's cache has the new e-tag
    await state_a.save_changes(ctx_a)
    assert (await storage.read([KEY]))[KEY]["topic"] == "from A, again"


async def test_two_first_turns_cannot_both_insert(storage: SqliteStateStorage) -> None:
    state_a, state_b = ConversationState(storage), ConversationState(storage)
    ctx_a, ctx_b = _context(), _context()
    await state_a.create_property("topic").set(ctx_a, "A")
    await state_b.create_property("topic").set(ctx_b, "B")

    await state_a.save_changes(ctx_a)
    with pytest.raises(StateConflict):
        await state_b.save_changes(ctx_b)


async def test_a_first_turn_that_finds_no_state_never_reads_another_instances_row_midway(
    storage: SqliteStateStorage,
) -> None:
    """botbuilder reads the state again while it is empty: a turn that found none would, on setting its first
    property, pick up another instance's row just written, e-tag and all, and save its default over it. Here the
    empty read is kept, so the save is an insert and the other instance's row makes it a conflict."""
    state, ctx = ConversationState(storage), _context()
    data = state.create_property("ConversationData")
    assert await data.get(ctx) is None  # this turn reads: nothing stored yet
    await storage.write({KEY: {"ConversationData": {"turns": 1}}})  # the other instance's first turn saves
    await data.set(ctx, {"turns": 1})  # this turn's default

    with pytest.raises(StateConflict):
        await state.save_changes(ctx)
    assert (await storage.read([KEY]))[KEY]["ConversationData"]["turns"] == 1


async def test_clear_state_then_save_conflicts_and_delete_resets(storage: SqliteStateStorage) -> None:
    state, ctx = ConversationState(storage), _context()
    await state.create_property("topic").set(ctx, "old")
    await state.save_changes(ctx)

    await state.clear_state(ctx)
    with pytest.raises(StateConflict):
        await state.save_changes(ctx)
    await state.delete(ctx)

    assert await storage.read([KEY]) == {}


async def test_saves_only_what_changed_and_writes_once(tmp_path: Path) -> None:
    storage = CountingStorage(tmp_path / "bot.db")
    state = ConversationState(storage)
    accessor = state.create_property("DialogState")
    ctx = _context()
    await accessor.set(ctx, _dialog_state())
    await state.save_changes(ctx)
    await state.save_changes(ctx)  # nothing changed since
    assert storage.writes == [KEY]

    ctx = _context()  # the next turn reads the row back: still unchanged
    loaded = await accessor.get(ctx)
    await state.save_changes(ctx)
    assert storage.writes == [KEY]

    loaded.dialog_stack[0].state["dialogs"].dialog_stack[0].id = "Changed"  # a deep, in-place change
    await state.save_changes(ctx)
    await state.save_changes(ctx, force=True)
    assert storage.writes == [KEY, KEY, KEY]
    assert jsonpickle.decode(storage.database.sync_query("SELECT data FROM state")[0][0])  # still jsonpickle's format
    storage.close()


@pytest.mark.parametrize(
    "old",
    [
        jsonpickle.encode({"DialogState": _dialog_state(), "f": 1e5}, indent=1),  # not our formatting
        jsonpickle.encode({"DialogState": _dialog_state(), "pair": (1, 2)}),  # needs jsonpickle
        '{"DialogState": {"_dialog_stack": [], "py/object": "botbuilder.dialogs.dialog_state.DialogState"}}',
    ],
    ids=["indented", "tuple", "tag last"],
)
async def test_a_row_in_another_form_is_not_rewritten_until_it_changes(tmp_path: Path, old: str) -> None:
    storage = CountingStorage(tmp_path / "bot.db")
    storage.database.sync_query("INSERT INTO state (key, etag, data) VALUES (?, 'e1', ?)", (KEY, old))
    state, ctx = ConversationState(storage), _context()

    assert isinstance(await state.create_property("DialogState").get(ctx), DialogState)
    await state.save_changes(ctx)
    assert storage.writes == []

    await state.create_property("topic").set(ctx, "new")
    await state.save_changes(ctx)
    assert storage.writes == [KEY]
    storage.close()


async def test_a_load_of_nothing_is_saved_as_botbuilder_does(storage: SqliteStateStorage) -> None:
    # botbuilder hashes the missing item (None) differently from the {} it caches, so loading a missing
    # item makes the next save write it; same here
    state, ctx = UserState(storage), _context()
    await state.load(ctx)
    await state.save_changes(ctx)

    assert (await storage.read(["msteams/users/29:user"]))["msteams/users/29:user"] == {"e_tag": ANY}


async def test_any_other_storage_gets_the_same_change_detection() -> None:
    storage = MemoryStorage()
    writes: list[str] = []
    write = storage.write

    async def counting(changes: dict[str, Any]) -> None:
        writes.extend(changes)
        await write(changes)

    storage.write = counting  # type: ignore[method-assign]
    state, ctx = ConversationState(storage), _context()
    await state.create_property("topic").set(ctx, "kept")
    await state.save_changes(ctx)
    ctx = _context()
    assert await state.create_property("topic").get(ctx) == "kept"
    await state.save_changes(ctx)

    assert writes == [KEY]
