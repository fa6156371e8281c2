"""API call counting per system per UTC day, in the bot's database: the `CallCounter` port (`tenant.base`).

The paid co-sell connector includes about 10K API calls a day, and no API reads that quota: the calls this bot
makes on the admin's behalf are counted here, and the live-check runner reads its daily budget from this counter.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime

from assistant.ports import System
from stores.sql.database import Database, DatabaseError
from stores.sql.state import SqlStateStore

log = logging.getLogger(__name__)

_INCREMENT = (
    "INSERT INTO api_calls (day, system, calls) VALUES (?, ?, ?) "
    "ON CONFLICT(day, system) DO UPDATE SET calls = api_calls.calls + excluded.calls"
)


def _utc_today() -> date:
    return datetime.now(UTC).date()


class SqlCallCounter:
    """`CallCounter` on the shared `Database`: one upsert per `add`, shared by every instance."""

    def __init__(self, db: Database | SqlStateStore, *, today: Callable[[], date] = _utc_today) -> None:
        self._db = db.database if isinstance(db, SqlStateStore) else db
        self._today = today

    async def add(self, system: System, calls: int = 1) -> None:
        """Record `calls` calls made to `system` today (UTC)."""
        if calls <= 0:
            return
        try:
            async with self._db.transaction() as conn:
                await conn.execute(_INCREMENT, (self._today().isoformat(), str(system), calls))
        except (DatabaseError, sqlite3.Error):
            # the call has already been made: losing one count must not turn it into a failed check
            log.warning("could not count %d call(s) to %s", calls, system, exc_info=True)

    async def today(self, system: System) -> int:
        """Calls recorded for `system` today (UTC)."""
        return await self.on(self._today(), system)

    async def on(self, day: date, system: System) -> int:
        """Calls recorded for `system` on `day`."""
        rows = await self._db.query(
            "SELECT calls FROM api_calls WHERE day = ? AND system = ?", (day.isoformat(), str(system))
        )
        return int(rows[0][0]) if rows else 0

    async def usage(self, day: date | None = None) -> dict[str, int]:
        """Calls per system on `day` (default today), for reports and the admin's status command."""
        rows = await self._db.query(
            "SELECT system, calls FROM api_calls WHERE day = ? ORDER BY system", ((day or self._today()).isoformat(),)
        )
        return {str(system): int(calls) for system, calls in rows}
