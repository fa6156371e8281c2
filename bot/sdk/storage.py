"""botbuilder's `Storage` over the `StateStore` port (`assistant.ports`): items in, encoded text and e-tags out.

The store keeps opaque text and e-tags; this adapter turns botbuilder's state items into that text with
`bot/sdk/state.py`'s codec (jsonpickle's format, encoded once per save) and back, and carries the e-tags on the items
(dict key "e_tag" or attribute `e_tag`) as botbuilder expects.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from botbuilder.core import Storage

from assistant.ports import StateChange, StateStore
from bot.sdk.state import ETAG, decode_item, encode_item

log = logging.getLogger(__name__)

_WRITTEN_KEYS = 4096  # conversations whose last write this adapter remembers (see StateStorage._written)


class StateStorage(Storage):
    """`botbuilder.core.Storage` on a `StateStore`, with real e-tag checks.

    - `read` returns each item with its current e-tag (dict key "e_tag" or attribute `e_tag`).
    - `write` with an e-tag updates only if the stored e-tag still matches; without an e-tag it
      only inserts a new key (two concurrent first turns must not overwrite each other); "*"
      writes unconditionally. A conflict raises `StateConflict`; one call is all or nothing.
    - Values are stored in jsonpickle's format, because BotState stores DialogState/DialogInstance objects;
      `bot/sdk/state.py`'s codec writes and reads dialog state without going through jsonpickle.
    - `read_encoded`/`write_encoded` let `bot/sdk/state.py`'s BotState reuse the stored text to detect changes.
    """

    def __init__(self, store: StateStore) -> None:
        super().__init__()
        self.store = store
        # key → e-tag of the row this adapter last wrote there, whose text is therefore `encode_item`'s own;
        # a row still carrying that e-tag needs no exactness check when read back (most recent keys only)
        self._written: OrderedDict[str, str] = OrderedDict()

    async def read(self, keys: Iterable[str]) -> dict[str, Any]:
        """Load the stored items for `keys`; missing keys are absent from the result."""
        items: dict[str, Any] = {}
        for key, (data, etag) in (await self.store.read(keys)).items():
            item, _exact = decode_item(data)
            _set_etag(item, etag)
            items[key] = item
        return items

    async def read_encoded(self, keys: Iterable[str]) -> dict[str, tuple[Any, str]]:
        """As `read`, with each item's `encode_item` text: the stored one unless that is in an older form."""
        items: dict[str, tuple[Any, str]] = {}
        for key, (data, etag) in (await self.store.read(keys)).items():
            item, exact = decode_item(data, ours=self._written.get(key) == etag)
            encoded = data if exact else encode_item(item)
            _set_etag(item, etag)
            items[key] = (item, encoded)
        return items

    async def write(self, changes: dict[str, Any]) -> None:
        """Save items in one transaction; raise `StateConflict` if any e-tag check fails."""
        await self.write_encoded({key: (item, encode_item(item)) for key, item in changes.items()})

    async def write_encoded(self, changes: dict[str, tuple[Any, str]]) -> None:
        """As `write`, for items whose `encode_item` text the caller already has."""
        if not changes:
            return
        etags = await self.store.write(
            {key: StateChange(data, _get_etag(item)) for key, (item, data) in changes.items()}
        )
        # only after the store committed, so a failed call leaves every item untouched
        for key, (item, _data) in changes.items():
            new_etag = etags[key]
            _set_etag(item, new_etag)
            self._written[key] = new_etag
            self._written.move_to_end(key)
        while len(self._written) > _WRITTEN_KEYS:
            self._written.popitem(last=False)

    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the items for `keys` (missing keys are ignored)."""
        await self.store.delete(keys)


def _get_etag(item: Any) -> str | None:
    etag = item.get(ETAG) if isinstance(item, dict) else getattr(item, ETAG, None)
    return str(etag) if etag else None


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item[ETAG] = etag
        return
    try:
        item.e_tag = etag
    except (AttributeError, TypeError, ValueError):
        # primitives, slotted or frozen objects cannot carry an e-tag: they get no concurrency check
        log.debug("cannot attach e_tag to %s", type(item).__name__)
