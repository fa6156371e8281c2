"""The encrypted msal token cache's rows in the bot's SQLite database: the `TokenCacheStore` port (`assistant.ports`,
declared by `tenant.auth.entra`).

Table `token_cache(name, blob, updated_at)`, one row per cache name (`msal:<client id>`). The blobs arrive already
Fernet-encrypted by `tenant.auth.entra`: this module stores bytes and never sees a token. The table and its rows are
the ones the token cache always used, so databases written before the cache moved into `tenant/` keep their sign-ins.
"""

from __future__ import annotations

from datetime import UTC, datetime

from stores.sqlite.database import SqliteDatabase

_SCHEMA = "CREATE TABLE IF NOT EXISTS token_cache (name TEXT PRIMARY KEY, blob BLOB NOT NULL, updated_at TEXT)"
_UPSERT = (
    "INSERT INTO token_cache (name, blob, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT(name) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at"
)


class SqliteTokenCacheStore:
    """`TokenCacheStore` on the shared `SqliteDatabase` (one short statement per load or save).

    The table is created on first use, not on construction: wiring builds a store whether or not a cache key is
    configured, and without one nothing should touch the database.
    """

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._ready = False

    def load(self, name: str) -> bytes | None:
        """The blob stored under `name`, or None when there is none."""
        self._ensure_schema()
        rows = self._database.query("SELECT blob FROM token_cache WHERE name = ?", (name,))
        return bytes(rows[0][0]) if rows else None

    def save(self, name: str, blob: bytes) -> None:
        """Store `blob` under `name` (replacing the previous one), stamped with the time in UTC."""
        self._ensure_schema()
        with self._database.transaction() as conn:
            conn.execute(_UPSERT, (name, blob, datetime.now(UTC).isoformat()))

    def _ensure_schema(self) -> None:
        # msal persists from worker threads, so two threads may both get here: IF NOT EXISTS makes that harmless
        if not self._ready:
            with self._database.transaction() as conn:
                conn.execute(_SCHEMA)
            self._ready = True
