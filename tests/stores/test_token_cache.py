"""The token cache's rows (stores/sql/token_cache.py): the `TokenCacheStore` port on both engines, round trip, and an
SQLite database written before the cache moved into tenant/ (same `token_cache` table, same encryption) still signs
in."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from stores.sql.database import Database
from stores.sql.token_cache import SqlTokenCacheStore
from stores.sqlite.database import SqliteDatabase
from tenant.auth.entra import EncryptedTokenCache, EntraConfig, MsalApps, cache_key

CLIENT = "66666666-7777-8888-9999-000000000000"
TENANT = "11111111-2222-3333-4444-555555555555"
SECRET = "s3cr3t-client-value"
# The statements the token cache used while it lived in bot/auth.py, kept verbatim: the rows they wrote must still load.
OLD_SCHEMA = "CREATE TABLE IF NOT EXISTS token_cache (name TEXT PRIMARY KEY, blob BLOB NOT NULL, updated_at TEXT)"
OLD_UPSERT = (
    "INSERT INTO token_cache (name, blob, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT(name) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at"
)


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[SqliteDatabase]:
    db = SqliteDatabase(tmp_path / "tokens.db")
    yield db
    db.close()


async def test_round_trip_and_replace(database: Database) -> None:
    store = SqlTokenCacheStore(database)  # msal saves from a worker thread: the database's sync side
    assert store.load("msal:a") is None

    store.save("msal:a", b"\x00first")
    store.save("msal:b", b"other")
    store.save("msal:a", b"second")

    assert store.load("msal:a") == b"second" and store.load("msal:b") == b"other"
    rows = database.sync_query("SELECT name, blob, updated_at FROM token_cache ORDER BY name")
    assert [(name, bytes(blob)) for name, blob, _ in rows] == [("msal:a", b"second"), ("msal:b", b"other")]
    assert all(datetime.fromisoformat(stamp).tzinfo is not None for _, _, stamp in rows)  # UTC, with its offset
    assert SqlTokenCacheStore(database).load("msal:a") == b"second"  # another store on the same database


def test_a_database_written_by_the_old_code_is_read(sqlite_database: SqliteDatabase) -> None:
    database = sqlite_database
    # the key the old code derived from the client secret (HKDF-SHA256, this salt, the client id as info)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cosell-bot/token-cache/v1", info=CLIENT.encode())
    key = base64.urlsafe_b64encode(hkdf.derive(SECRET.encode()))
    accounts = {"uid.utid-login.microsoftonline.com-utid": {"username": "admin@contoso.example"}}
    serialized = json.dumps({"Account": accounts})
    with database.sync_transaction() as conn:
        conn.execute(OLD_SCHEMA)
        conn.execute(
            OLD_UPSERT, (f"msal:{CLIENT}", Fernet(key).encrypt(serialized.encode()), "2024-01-01T00:00:00+00:00")
        )

    store = SqlTokenCacheStore(database)
    config = EntraConfig(client_id=CLIENT, tenant_id=TENANT, client_secret=SecretStr(SECRET))
    assert cache_key(config) == key
    assert Fernet(key).decrypt(store.load(f"msal:{CLIENT}") or b"") == serialized.encode()

    apps = MsalApps(config, store)  # what the live checks build: the same row, decrypted with the same key
    assert isinstance(apps.cache, EncryptedTokenCache) and apps.persistent
    assert json.loads(apps.cache.serialize())["Account"] == accounts

    apps.cache.has_state_changed = True  # as msal marks it after a new token
    apps.persist()
    assert [name for (name,) in database.sync_query("SELECT name FROM token_cache")] == [f"msal:{CLIENT}"]  # updated
    assert json.loads(Fernet(key).decrypt(store.load(f"msal:{CLIENT}") or b""))["Account"] == accounts
