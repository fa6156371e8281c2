"""Conversation and user state: the `StateStore` port (`assistant.ports`) with real e-tag checks, on either engine.

Table `state(key, etag, data, updated_at)`, one row per key, `data` the host's encoded text stored as is (the
botbuilder adapter, `bot/sdk/storage.py`, writes jsonpickle's format there, as the bot always did).
"""

from __future__ import annotations

import os
import random
from base64 import urlsafe_b64encode
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from assistant.ports import StateChange, StateConflict, StoredState
from stores.sql.database import Database
from stores.sqlite.database import SqliteDatabase

_ETAGS = random.Random()
os.register_at_fork(after_in_child=_ETAGS.seed)  # a forked child must not repeat its parent's tags


def state_stamp(value: datetime) -> str:
    """A row's `updated_at`: UTC to the second, `2026-05-01T09:30:00Z`. Text order is time order, also against
    rows of earlier builds (`isoformat`, microseconds and `+00:00`): only the retention reads it, by days, so the
    second is precise enough, and the row and its index entry are 24 bytes shorter than with `isoformat`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_etag() -> str:
    """96 random bits, base64url: 16 characters (hex took 32, for 128 bits)."""
    return urlsafe_b64encode(_ETAGS.randbytes(12)).decode("ascii")


_UPSERT = (
    "INSERT INTO state (key, etag, data, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET"
    " etag = excluded.etag, data = excluded.data, updated_at = excluded.updated_at"
)
_INSERT_NEW = "INSERT INTO state (key, etag, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING"
_UPDATE_IF_MATCH = "UPDATE state SET etag = ?, data = ?, updated_at = ? WHERE key = ? AND etag = ?"


def _statement(key: str, change: StateChange, new_etag: str, now: str) -> tuple[str, tuple[str, ...], str]:
    """The statement that writes `change` under `key` with its e-tag rule: (sql, parameters, the new e-tag)."""
    data, expected = change
    if expected == "*":
        return _UPSERT, (key, new_etag, data, now), new_etag
    if expected:
        return _UPDATE_IF_MATCH, (new_etag, data, now, key, expected), new_etag
    return _INSERT_NEW, (key, new_etag, data, now), new_etag


class SqlStateStore:
    """The `StateStore` port on a `Database`; given a path, it opens (and owns) an SQLite one.

    - `write` with an e-tag updates only if the stored e-tag still matches; without one it only inserts a new key
      (two concurrent first turns must not overwrite each other); "*" writes unconditionally. A conflict raises
      `StateConflict`; one call is all or nothing.

    E-tags are 96 random bits (16 characters of base64url) rather than counters: a per-key counter restarts when a
    key is deleted and re-created, so a stale writer could match the new row (ABA); a random tag cannot (two of a
    key's tags meet with odds of 2^-96). 96 bits, not 128 in hex: 16 bytes less in every state row, which is written
    at every turn (issue 15 §2, bytes per turn).
    They come from a `random.Random` of this module's own (seeded from the OS, reseeded in forked children), not
    `uuid4`: a tag must be unique, not unpredictable, and `os.urandom` is a system call per write. Its own
    generator, not the `random` module's: a write on another thread must not move anyone else's random state
    (Hypothesis, for one, fails a test whose strategy sees the global state move).
    """

    def __init__(self, database: Database | str | Path) -> None:
        self.database: Database = database if not isinstance(database, str | Path) else SqliteDatabase(database)

    async def read(self, keys: Iterable[str]) -> dict[str, StoredState]:
        """The stored items of `keys`, in the database's row order; missing keys are absent from the result."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = await self.database.query(f"SELECT key, etag, data FROM state WHERE key IN ({marks})", wanted)
        return {key: StoredState(data, etag) for key, etag, data in rows}

    async def write(self, changes: Mapping[str, StateChange]) -> dict[str, str]:
        """Save items in one transaction and return their new e-tags; raise `StateConflict` if any e-tag check
        fails (and then write nothing)."""
        if not changes:
            return {}
        now = state_stamp(datetime.now(UTC))
        planned = [(key, *_statement(key, change, _new_etag(), now)) for key, change in changes.items()]
        if len(planned) == 1:  # the usual turn: one statement, atomic by itself (its e-tag check is in its WHERE)
            [(key, sql, params, new_etag)] = planned
            if (await self.database.execute(sql, params)).rowcount != 1:
                raise StateConflict(key)
            return {key: new_etag}
        async with self.database.transaction() as conn:
            for key, sql, params, _new in planned:
                if (await conn.execute(sql, params)).rowcount != 1:
                    raise StateConflict(key)
        return {key: new_etag for key, _sql, _params, new_etag in planned}

    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the items for `keys` (missing keys are ignored)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        marks = ",".join("?" * len(wanted))
        async with self.database.transaction() as conn:
            await conn.execute(f"DELETE FROM state WHERE key IN ({marks})", wanted)

    async def ping(self) -> bool:
        """Readiness check: True if the database answers."""
        return await self.database.ping()

    async def aclose(self) -> None:
        """Close the underlying database (shared with the stores built on this one's `database`)."""
        await self.database.aclose()
