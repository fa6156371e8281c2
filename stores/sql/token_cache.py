"""The encrypted msal token cache's rows in the bot's database: the `TokenCacheStore` port (declared by
`tenant.auth.entra`), on the database's sync side (msal saves the cache from the worker thread it runs in).

Table `token_cache(name, blob, updated_at)`, one row per cache name (`msal:<client id>`). The blobs arrive already
Fernet-encrypted by `tenant.auth.entra`: this module stores bytes and never sees a token. The table and its rows are
the ones the token cache always used, so databases written before the cache moved into `tenant/` keep their sign-ins.
"""

from __future__ import annotations

from datetime import UTC, datetime

from stores.sql.database import Database

_UPSERT = (
    "INSERT INTO token_cache (name, blob, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT(name) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at"
)


class SqlTokenCacheStore:
    """`TokenCacheStore` on the shared `Database` (one short statement per load or save)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def load(self, name: str) -> bytes | None:
        """The blob stored under `name`, or None when there is none."""
        rows = self._database.sync_query("SELECT blob FROM token_cache WHERE name = ?", (name,))
        return bytes(rows[0][0]) if rows else None

    def save(self, name: str, blob: bytes) -> None:
        """Store `blob` under `name` (replacing the previous one), stamped with the time in UTC."""
        with self._database.sync_transaction() as conn:
            conn.execute(_UPSERT, (name, blob, datetime.now(UTC).isoformat()))
