"""Bot state that is encoded once per save: a JSON codec for dialog state and drop-in BotState subclasses.

botbuilder's `BotState` detects changes by flattening the whole state through jsonpickle when it loads, again
when it saves, and once more after writing; the storage then jsonpickles it a fourth time. Here the state is
encoded once per save, and that text serves both as the change check and as what the storage writes.

The codec writes jsonpickle's format, compacted (issue 15 §2, bytes per turn): no spaces after separators, and the
few botbuilder classes dialog state is made of tagged by their class name (`"py/object": "DialogState"`) instead of
their module path. Rows in jsonpickle's own form (earlier builds) read here unchanged and are rewritten compact at
their next save. It handles only plain JSON values and those classes; for anything else (other classes, tuples,
shared references, non-string keys) it hands the whole item to jsonpickle, as before. A build older than this one
cannot read the compact rows (a rollback starts those conversations' dialogs afresh: the turn error resets them).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Protocol, runtime_checkable

import jsonpickle
from botbuilder.core import BotAssert, BotState, TurnContext
from botbuilder.core import ConversationState as _ConversationState
from botbuilder.core import UserState as _UserState
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.prompts import PromptOptions

from assistant import fast_json

ETAG = "e_tag"
_DIALOG_CLASSES = (DialogState, DialogInstance, PromptOptions)
# class → the "py/object" tag written for it: its name (jsonpickle records module + qualified name, ~50 bytes)
_CLASSES: dict[type, str] = {cls: cls.__qualname__ for cls in _DIALOG_CLASSES}
# tag → class: the names, and the module paths of rows in jsonpickle's own form
_BY_PATH: dict[str, Any] = {
    **{f"{cls.__module__}.{cls.__qualname__}": cls for cls in _DIALOG_CLASSES},
    **{name: cls for cls, name in _CLASSES.items()},
}
_OBJECT_KEY = '"py/object'


class _NotPlain(Exception):
    """The value needs jsonpickle: a class, shape or shared reference the JSON codec does not cover."""


def _flatten(value: Any, seen: set[int]) -> Any:
    """`value` as jsonpickle's flattened form; `seen` holds the containers met so far (jsonpickle refs repeats)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:  # exact types: no subclasses
        return value
    if id(value) in seen:
        raise _NotPlain
    seen.add(id(value))
    if kind is dict:
        return _flatten_dict(value, {}, seen)
    if kind is list:
        return [_flatten(item, seen) for item in value]
    path = _CLASSES.get(kind)
    if path is None:
        raise _NotPlain
    return _flatten_dict(vars(value), {"py/object": path}, seen)


def _flatten_dict(items: dict[Any, Any], out: dict[str, Any], seen: set[int]) -> dict[str, Any]:
    for key, item in items.items():
        if type(key) is not str or key.startswith("py/"):  # jsonpickle would stringify or tag these
            raise _NotPlain
        out[key] = _flatten(item, seen)
    return out


def _restore(obj: dict[str, Any]) -> Any:
    path = obj.get("py/object")
    if path is None:
        return obj
    cls = _BY_PATH.get(path) if isinstance(path, str) else None
    if cls is None or next(iter(obj)) != "py/object":  # jsonpickle writes the tag first
        raise _NotPlain
    del obj["py/object"]
    instance = cls.__new__(cls)  # as jsonpickle restores: no __init__, attributes as stored
    instance.__dict__.update(obj)
    return instance


def _without_etag(item: Any) -> Any:
    """The item as stored: the e-tag lives in its own column, never in the encoded text."""
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if k != ETAG}
    if hasattr(item, ETAG):
        item = copy.copy(item)
        try:
            delattr(item, ETAG)
        except AttributeError:  # class-level attribute, not an instance one
            pass
    return item


def encode_item(item: Any) -> str:
    """The stored text for a state item (without its e-tag): jsonpickle's format, compact (module docstring)."""
    item = _without_etag(item)
    try:
        flat = _flatten(item, set())
    except (_NotPlain, RecursionError):
        return str(jsonpickle.encode(item))
    return fast_json.dumps_ascii(flat)


def decode_item(data: str, *, ours: bool = False) -> tuple[Any, bool]:
    """The item stored as `data`, and whether `data` is exactly `encode_item(item)` (so need not be redone).

    Text with no jsonpickle tags other than the known classes' "py/object" decodes as JSON: every other tag
    (py/id, py/tuple, py/reduce, …) starts with `"py/` too, so the counts differ and jsonpickle takes over.
    `ours`: the caller knows `data` is an `encode_item` output (it wrote that very row), so the check that
    re-encodes it is skipped.
    """
    if data.count('"py/') == data.count(_OBJECT_KEY):
        try:
            item = json.loads(data, object_hook=_restore)
        except _NotPlain:
            pass
        else:  # the same JSON in our formatting (an older row may differ: spacing, class paths, float syntax)
            return item, ours or fast_json.dumps_ascii(fast_json.loads(data)) == data
    return jsonpickle.decode(data), False


@runtime_checkable
class EncodedStorage(Protocol):
    """A storage that hands out and takes items together with their `encode_item` text."""

    async def read_encoded(self, keys: list[str]) -> dict[str, tuple[Any, str]]:
        """Items with their e-tags set, each with `encode_item(item)`."""
        ...

    async def write_encoded(self, changes: dict[str, tuple[Any, str]]) -> None:
        """Write items whose `encode_item` text the caller already has; same e-tag rules as `write`."""
        ...


class _CachedState:
    """Stands in for botbuilder's per-turn `CachedBotState` (same attributes), with the state's stored text
    as its `hash` (None: nothing stored, so any state counts as a change)."""

    def __init__(self, state: dict[str, Any] | None, encoded: str | None) -> None:
        self.state = state if state is not None else {}
        self.hash = encoded

    @property
    def is_changed(self) -> bool:
        return self.hash != self.compute_hash(self.state)

    def compute_hash(self, obj: object) -> str:
        return encode_item(obj)


class _EncodedBotState(BotState):
    """`load`, `save_changes` and `clear_state` with one encoding per save; the rest is botbuilder's."""

    def __init__(self, storage: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(storage, *args, **kwargs)
        self._encoded_storage = storage if isinstance(storage, EncodedStorage) else None

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        """Read the state unless this turn already read it. Unlike botbuilder, an empty state read is kept too:
        botbuilder reads again while the state is empty, so a turn that found none, then set a default, could read
        another instance's newer row in between and write its default over that row under the row's own e-tag —
        a lost update no e-tag can catch (two `serve` processes racing on one conversation showed it)."""
        BotAssert.context_not_none(turn_context)
        cached = self.get_cached_state(turn_context)
        if not force and cached is not None:
            return
        key = self.get_storage_key(turn_context)
        if self._encoded_storage is not None:
            item, encoded = (await self._encoded_storage.read_encoded([key])).get(key, (None, None))
        else:
            item = (await self._storage.read([key])).get(key)
            encoded = None if item is None else encode_item(item)
        turn_context.turn_state[self._context_service_key] = _CachedState(item, encoded)

    async def save_changes(self, turn_context: TurnContext, force: bool = False) -> None:
        """As botbuilder's: write the cached state if it changed since it was read (or if `force`)."""
        BotAssert.context_not_none(turn_context)
        cached = self.get_cached_state(turn_context)
        if not isinstance(cached, _CachedState):  # nothing loaded (or a foreign cache): botbuilder's rules
            await super().save_changes(turn_context, force)
            return
        encoded = encode_item(cached.state)
        if not force and encoded == cached.hash:
            return
        key = self.get_storage_key(turn_context)
        if self._encoded_storage is not None:
            await self._encoded_storage.write_encoded({key: (cached.state, encoded)})
        else:
            await self._storage.write({key: cached.state})
        cached.hash = encoded

    async def clear_state(self, turn_context: TurnContext) -> None:
        """As botbuilder's: an empty state that the next `save_changes` always writes."""
        BotAssert.context_not_none(turn_context)
        turn_context.turn_state[self._context_service_key] = _CachedState(None, "")  # "" is no item's encoding

    def change(self, turn_context: TurnContext) -> tuple[str, Any, str, _CachedState] | None:
        """(key, item, its encoding, the cache) when this turn changed the state it loaded, else None."""
        cached = self.get_cached_state(turn_context)
        if not isinstance(cached, _CachedState):
            return None
        encoded = encode_item(cached.state)
        if encoded == cached.hash:
            return None
        return self.get_storage_key(turn_context), cached.state, encoded, cached


def forget(turn_context: TurnContext, *states: BotState) -> None:
    """Drop what this turn loaded or changed of `states`: their next `load` reads the stored state again."""
    for state in states:
        turn_context.turn_state.pop(state._context_service_key, None)


async def save_all(turn_context: TurnContext, *states: BotState) -> None:
    """Save every changed state of the turn in one storage write: all of them or none (a `StateConflict` writes
    nothing, so the turn can be run again from what is stored). States on storages that cannot write encoded items
    together are saved one by one, as botbuilder does."""
    changes: dict[str, tuple[Any, str]] = {}
    caches: list[tuple[_CachedState, str]] = []
    storage: EncodedStorage | None = None
    for state in states:
        own = getattr(state, "_encoded_storage", None)
        if not isinstance(state, _EncodedBotState) or own is None or (storage is not None and own is not storage):
            await state.save_changes(turn_context)
            continue
        storage = own
        changed = state.change(turn_context)
        if changed is not None:
            key, item, encoded, cached = changed
            changes[key] = (item, encoded)
            caches.append((cached, encoded))
    if storage is not None and changes:
        await storage.write_encoded(changes)
        for cached, encoded in caches:
            cached.hash = encoded


class ConversationState(_EncodedBotState, _ConversationState):
    """botbuilder's `ConversationState`, encoding its state once per save."""


class UserState(_EncodedBotState, _UserState):
    """botbuilder's `UserState`, encoding its state once per save."""
