"""Conversation and user state in SQLite: the `StateStore` port (`assistant.ports`) with real e-tag checks.

Table `state(key, etag, data, updated_at)`, one row per key, `data` the host's encoded text stored as is (the
botbuilder adapter, `bot/sdk/storage.py`, writes jsonpickle's format there, as the bot always did).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from assistant.ports import StateChange, StateConflict, StoredState
from stores.sqlite.database import SqliteDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    etag TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT
)
"""
_UPSERT = (
    "INSERT INTO state (key, etag, data, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET"
    " etag = excluded.etag, data = excluded.data, updated_at = excluded.updated_at"
)
_INSERT_NEW = "INSERT INTO state (key, etag, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING"
_UPDATE_IF_MATCH = "UPDATE state SET etag = ?, data = ?, updated_at = ? WHERE key = ? AND etag = ?"


class SqliteStateStore:
    """The `StateStore` port on an embedded SQLite file; it opens, and owns, the process's `SqliteDatabase`.

    - `write` with an e-tag updates only if the stored e-tag still matches; without one it only inserts a new key
      (two concurrent first turns must not overwrite each other); "*" writes unconditionally. A conflict raises
      `StateConflict`; one call is all or nothing.

    E-tags are 128 random bits in hex rather than counters: a per-key counter restarts when a key
    is deleted and re-created, so a stale writer could match the new row (ABA); a random tag cannot.
    They come from `random` (seeded from the OS, reseeded in forked children), not `uuid4`: a tag must be
    unique, not unpredictable, and `os.urandom` is a system call per write.
    """

    def __init__(self, path: str | Path) -> None:
        self.database = SqliteDatabase(path)
        with self.database.transaction() as conn:
            conn.execute(_SCHEMA)

    async def read(self, keys: Iterable[str]) -> dict[str, StoredState]:
        """The stored items of `keys`, in the database's row order; missing keys are absent from the result."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.database.query(f"SELECT key, etag, data FROM state WHERE key IN ({marks})", wanted)
        return {key: StoredState(data, etag) for key, etag, data in rows}

    async def write(self, changes: Mapping[str, StateChange]) -> dict[str, str]:
        """Save items in one transaction and return their new e-tags; raise `StateConflict` if any e-tag check
        fails (and then write nothing)."""
        if not changes:
            return {}
        now = datetime.now(UTC).isoformat()
        planned = [(key, change, f"{random.getrandbits(128):032x}") for key, change in changes.items()]
        with self.database.transaction() as conn:
            for key, (data, expected), new_etag in planned:
                if expected == "*":
                    cursor = conn.execute(_UPSERT, (key, new_etag, data, now))
                elif expected:
                    cursor = conn.execute(_UPDATE_IF_MATCH, (new_etag, data, now, key, expected))
                else:
                    cursor = conn.execute(_INSERT_NEW, (key, new_etag, data, now))
                if cursor.rowcount != 1:
                    raise StateConflict(key)
        return {key: new_etag for key, _change, new_etag in planned}

    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the items for `keys` (missing keys are ignored)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        marks = ",".join("?" * len(wanted))
        with self.database.transaction() as conn:
            conn.execute(f"DELETE FROM state WHERE key IN ({marks})", wanted)

    def ping(self) -> bool:
        """Readiness check: True if the database answers."""
        return self.database.ping()

    def close(self) -> None:
        """Close the underlying connection (shared with the stores built on this one's `database`)."""
        self.database.close()
