"""Versioned schema migrations for both engines: `MIGRATIONS`, applied in order by `migrate` and recorded in
`schema_migrations` (version, name, applied_at). A database is at version N when migrations 1..N are recorded.

Migration 1 is every store's tables as the stores created them before migrations existed, with `IF NOT EXISTS`: an
SQLite file written by an earlier build is adopted as it is (its tables stay, the version is recorded). A later change
to a table is a new migration with both engines' statements, never an edit of an applied one (a test checks that the
recorded names still match). On PostgreSQL, `migrate` holds an advisory lock for the whole run, so two instances
starting together apply each migration once.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

from stores.sql.database import Dialect, SyncConnection

#: the advisory lock key of the migrations (any constant: "cosell" as an integer)
_LOCK = 0x636F73656C6C


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: Dialect) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


_SQLITE_1 = (
    # state (stores/sql/state.py)
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, etag TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT)",
    # transcripts: `id` is the rowid (no AUTOINCREMENT: no sqlite_sequence write per insert)
    "CREATE TABLE IF NOT EXISTS transcript (id INTEGER PRIMARY KEY, channel_id TEXT NOT NULL,"
    " conversation_id TEXT NOT NULL, activity_id TEXT, type TEXT, timestamp TEXT, data TEXT NOT NULL,"
    " direction TEXT NOT NULL CHECK (direction IN ('in', 'out')))",
    "CREATE INDEX IF NOT EXISTS transcript_conversation ON transcript (channel_id, conversation_id, id)",
    # journal
    "CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,"
    " conversation_id TEXT NOT NULL, entry_id TEXT NOT NULL, helpful INTEGER NOT NULL, lang TEXT NOT NULL)",
    # handoff: written by builds before support cases; kept so their databases open unchanged
    "CREATE TABLE IF NOT EXISTS handoff (ref TEXT PRIMARY KEY, at TEXT NOT NULL, channel_id TEXT NOT NULL,"
    " conversation_id TEXT NOT NULL, lang TEXT NOT NULL, summary TEXT NOT NULL, status TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS checklist (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,"
    " conversation_id TEXT NOT NULL, area TEXT NOT NULL, results TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS remediation (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,"
    " conversation_id TEXT NOT NULL, user_id TEXT NOT NULL, action TEXT NOT NULL, before TEXT NOT NULL,"
    " after TEXT NOT NULL, result TEXT NOT NULL, detail TEXT)",
    # cases, bundles, events, outbox (AUTOINCREMENT: an outbox id is never reused, a late settle lands nowhere else)
    "CREATE TABLE IF NOT EXISTS cases (ref TEXT PRIMARY KEY,"
    " status TEXT NOT NULL CHECK (status IN ('open', 'taken', 'resolved')), created TEXT NOT NULL,"
    " updated TEXT NOT NULL, channel_id TEXT NOT NULL, conversation_id TEXT NOT NULL, thread_id TEXT,"
    " data TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS cases_created ON cases (created)",
    "CREATE INDEX IF NOT EXISTS cases_status ON cases (status, created)",
    "CREATE INDEX IF NOT EXISTS cases_conversation ON cases (channel_id, conversation_id, created)",
    "CREATE INDEX IF NOT EXISTS cases_thread ON cases (thread_id)",
    "CREATE TABLE IF NOT EXISTS case_bundles (ref TEXT PRIMARY KEY, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS case_events (ref TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL,"
    " kind TEXT NOT NULL, author TEXT, text TEXT NOT NULL, PRIMARY KEY (ref, seq))",
    "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL,"
    " target TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at TEXT NOT NULL, owner TEXT, lease_until TEXT, last_error TEXT,"
    " delivered_at TEXT, detail TEXT NOT NULL DEFAULT '{}', UNIQUE (ref, target, key))",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_at)",
    # API call counts, token cache
    "CREATE TABLE IF NOT EXISTS api_calls (day TEXT NOT NULL, system TEXT NOT NULL, calls INTEGER NOT NULL,"
    " PRIMARY KEY (day, system))",
    "CREATE TABLE IF NOT EXISTS token_cache (name TEXT PRIMARY KEY, blob BLOB NOT NULL, updated_at TEXT)",
)

# the same tables in PostgreSQL's types: identity columns for the rowids, BYTEA for the blob; `cases.row_id` is the
# insertion order SQLite's rowid gives (the tie-break of cases created in the same microsecond)
_IDENTITY = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
_POSTGRESQL_1 = tuple(
    s.replace("id INTEGER PRIMARY KEY AUTOINCREMENT", f"id {_IDENTITY}")
    .replace("id INTEGER PRIMARY KEY,", f"id {_IDENTITY},")
    .replace("blob BLOB", "blob BYTEA")
    .replace("cases (ref TEXT PRIMARY KEY,", "cases (row_id BIGINT GENERATED ALWAYS AS IDENTITY, ref TEXT PRIMARY KEY,")
    for s in _SQLITE_1
    if "EXISTS handoff" not in s  # no PostgreSQL database was ever written by those builds
)

# 3 (2 is another change's): the user of each transcript row, so `cosell-bot forget` finds a person's conversations
# (the user's `from.id` on "in" rows, `recipient.id` on "out" rows; written by the store from now on, backfilled
# here from the stored JSON), and the indexes the periodic purge reads instead of whole tables (`stores.sql.retention`)
_INDEXES_2 = (
    "CREATE INDEX IF NOT EXISTS transcript_user ON transcript (user_id)",
    # a conversation's last activity from the index alone (the purge's sweep never reads the activities' JSON); it
    # replaces migration 1's (channel_id, conversation_id, id), which served only reads of a whole conversation
    # (they sort its rows by id now): one index more per transcript row would cost every turn (~13 µs measured)
    "CREATE INDEX IF NOT EXISTS transcript_last ON transcript (channel_id, conversation_id, timestamp)",
    "DROP INDEX IF EXISTS transcript_conversation",
    "CREATE INDEX IF NOT EXISTS state_updated ON state (updated_at)",
    "CREATE INDEX IF NOT EXISTS cases_resolved ON cases (status, updated)",
    "CREATE INDEX IF NOT EXISTS feedback_at ON feedback (at)",
    "CREATE INDEX IF NOT EXISTS checklist_at ON checklist (at)",
    "CREATE INDEX IF NOT EXISTS remediation_at ON remediation (at)",
    "CREATE INDEX IF NOT EXISTS remediation_user ON remediation (user_id)",
)
_SQLITE_2 = (
    "ALTER TABLE transcript ADD COLUMN user_id TEXT",
    "UPDATE transcript SET user_id = CASE WHEN json_valid(data) THEN json_extract(data,"
    " CASE direction WHEN 'in' THEN '$.from.id' ELSE '$.recipient.id' END) END",
    *_INDEXES_2,
)
_POSTGRESQL_2 = (
    # the backfill of a large table may take longer than the connections' statement timeout: not this transaction
    "SET LOCAL statement_timeout = 0",
    "ALTER TABLE transcript ADD COLUMN IF NOT EXISTS user_id TEXT",
    "UPDATE transcript SET user_id = CASE direction WHEN 'in' THEN data::json #>> '{from,id}'"
    " ELSE data::json #>> '{recipient,id}' END",
    *_INDEXES_2,
)

# 3: the embedded Direct Line's conversations, their bounded histories and their tokens (`stores.sql.directline`),
# shared by every instance: a Web Chat conversation works whichever instance serves its poll or its WebSocket.
# Tokens are kept as their SHA-256 (a database reader cannot join a conversation with them); times are Unix seconds.
_SQLITE_3 = (
    "CREATE TABLE IF NOT EXISTS dl_conversation (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, locale TEXT,"
    " vouched INTEGER NOT NULL, started INTEGER NOT NULL DEFAULT 0, count INTEGER NOT NULL DEFAULT 0,"
    " last_ms INTEGER NOT NULL DEFAULT 0, kept INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0,"
    " touched REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS dl_conversation_touched ON dl_conversation (touched)",
    "CREATE TABLE IF NOT EXISTS dl_activity (conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " size INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (conversation_id, seq))",
    "CREATE TABLE IF NOT EXISTS dl_token (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    " conversation_id TEXT NOT NULL, kind TEXT NOT NULL, expires_at REAL NOT NULL, parent TEXT, since INTEGER)",
    "CREATE INDEX IF NOT EXISTS dl_token_conversation ON dl_token (conversation_id, kind, id)",
    "CREATE INDEX IF NOT EXISTS dl_token_expires ON dl_token (expires_at)",
)
_POSTGRESQL_3 = tuple(
    s.replace("id INTEGER PRIMARY KEY,", f"id {_IDENTITY},")
    .replace("last_ms INTEGER", "last_ms BIGINT")
    .replace("size INTEGER NOT NULL DEFAULT 0", "size BIGINT NOT NULL DEFAULT 0")
    .replace(" REAL ", " DOUBLE PRECISION ")
    for s in _SQLITE_3
)

# 4: what the assistant made of each turn, on the turn's incoming transcript row (NULL on every other row), for
# `cosell-bot report` (`stores.sql.analytics`): the matcher's verdict, the entry whose answer was shown, the live
# checks shown (JSON `[[check id, system, status], ...]`). Columns of the row the turn writes anyway: no statement, no
# index and no transaction more per turn, and the transcript's retention and erasure cover them (they go with the row).
# No index on the timestamp: the report scans its window, rarely; an index would cost every turn's insert.
_TURN_FACTS_4 = (
    "ALTER TABLE transcript ADD COLUMN verdict TEXT",
    "ALTER TABLE transcript ADD COLUMN entry_id TEXT",
    "ALTER TABLE transcript ADD COLUMN checks TEXT",
)

# 5: compact transcripts (`stores.sql.transcript_codec`): the bot's content shared between rows, stored once per
# distinct content in `transcript_part` (its digest in `transcript.part`; the partial index finds a part's rows, for
# deleting the parts no row refers to any more); rows written before stay as they are and read back unchanged
_PART_INDEX = "CREATE INDEX IF NOT EXISTS transcript_part_ref ON transcript (part) WHERE part IS NOT NULL"
_SQLITE_5 = (
    "ALTER TABLE transcript ADD COLUMN part TEXT",
    # WITHOUT ROWID: the digest is the key, stored once (not in a table and again in its primary-key index)
    "CREATE TABLE IF NOT EXISTS transcript_part (hash TEXT PRIMARY KEY, data TEXT NOT NULL, used_at TEXT NOT NULL)"
    " WITHOUT ROWID",
    _PART_INDEX,
)
_POSTGRESQL_5 = (
    "ALTER TABLE transcript ADD COLUMN IF NOT EXISTS part TEXT",
    "CREATE TABLE IF NOT EXISTS transcript_part (hash TEXT PRIMARY KEY, data TEXT NOT NULL, used_at TEXT NOT NULL)",
    _PART_INDEX,
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the stores' tables", _SQLITE_1, _POSTGRESQL_1),
    Migration(2, "transcript user ids; retention indexes", _SQLITE_2, _POSTGRESQL_2),
    Migration(3, "the embedded Direct Line's conversations, histories and tokens", _SQLITE_3, _POSTGRESQL_3),
    Migration(4, "turn facts on transcript rows (verdict, entry, live checks)", _TURN_FACTS_4, _TURN_FACTS_4),
    Migration(5, "compact transcripts: shared parts", _SQLITE_5, _POSTGRESQL_5),
)

_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)"
)


def migrate(conn: SyncConnection, dialect: Dialect, *, lock: Callable[[], AbstractContextManager[object]]) -> list[int]:
    """Apply the migrations `conn`'s database has not recorded, each in its own transaction (`lock()` opens one);
    return the versions applied. On PostgreSQL an advisory lock held for the transaction serialises instances."""
    applied: list[int] = []
    for migration in MIGRATIONS:
        with lock():
            if dialect == "postgresql":
                conn.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK,))
            conn.execute(_TABLE)
            done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations").rows}
            if migration.version in done:
                continue
            for statement in migration.statements(dialect):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
            applied.append(migration.version)
    return applied


def version(conn: SyncConnection) -> int:
    """The highest migration recorded (0 before any)."""
    rows = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").rows
    return int(rows[0][0])
