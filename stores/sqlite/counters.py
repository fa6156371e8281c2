"""API call counting per system per UTC day, in the bot's SQLite database: the `CallCounter` port (`assistant.ports`).

The paid co-sell connector includes about 10K API calls a day, and no API reads that quota: the calls this bot
makes on the admin's behalf are counted here, and the live-check runner reads its daily budget from this counter.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime

from assistant.ports import System
from stores.sqlite.database import SqliteDatabase
from stores.sqlite.state import SqliteStateStore

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_calls (
    day TEXT NOT NULL,
    system TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (day, system)
)
"""
_INCREMENT = (
    "INSERT INTO api_calls (day, system, calls) VALUES (?, ?, ?) "
    "ON CONFLICT(day, system) DO UPDATE SET calls = calls + excluded.calls"
)


def _utc_today() -> date:
    return datetime.now(UTC).date()


class SqliteCallCounter:
    """`CallCounter` on the shared `SqliteDatabase`: one upsert per `add` (tens of µs, run on the event loop)."""

    def __init__(self, db: SqliteDatabase | SqliteStateStore, *, today: Callable[[], date] = _utc_today) -> None:
        self._db = db.database if isinstance(db, SqliteStateStore) else db
        self._today = today
        with self._db.transaction() as conn:
            conn.execute(_SCHEMA)

    def add(self, system: System, calls: int = 1) -> None:
        """Record `calls` calls made to `system` today (UTC)."""
        if calls <= 0:
            return
        try:
            with self._db.transaction() as conn:
                conn.execute(_INCREMENT, (self._today().isoformat(), str(system), calls))
        except sqlite3.Error:
            # the call has already been made: losing one count must not turn it into a failed check
            log.warning("could not count %d call(s) to %s", calls, system, exc_info=True)

    def today(self, system: System) -> int:
        """Calls recorded for `system` today (UTC)."""
        return self.on(self._today(), system)

    def on(self, day: date, system: System) -> int:
        """Calls recorded for `system` on `day`."""
        rows = self._db.query(
            "SELECT calls FROM api_calls WHERE day = ? AND system = ?", (day.isoformat(), str(system))
        )
        return int(rows[0][0]) if rows else 0

    def usage(self, day: date | None = None) -> dict[str, int]:
        """Calls per system on `day` (default today), for reports and the admin's status command."""
        rows = self._db.query(
            "SELECT system, calls FROM api_calls WHERE day = ? ORDER BY system", ((day or self._today()).isoformat(),)
        )
        return {str(system): int(calls) for system, calls in rows}
