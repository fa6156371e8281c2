"""The periodic purge every serving instance runs beside the outbox (`bot.app`'s lifecycle): the `Retention` port
deletes what is older than the retention settings every `COSELL_PURGE_INTERVAL_S` seconds.

A purge that fails is logged and tried again at the next interval: it never stops the instance. Its counts are
logged at INFO as table names and numbers only (no ids, no user text). Several instances purging the same database
at once is harmless (`stores.sql.retention`: every delete is idempotent and re-checks its condition).
"""

from __future__ import annotations

import asyncio
import logging
import time

from assistant.ports import Retention

log = logging.getLogger(__name__)

FIRST_AFTER_S = 300.0  # the first purge after start-up comes at most this soon (or after one interval, if shorter)


def describe(counts: dict[str, int]) -> str:
    """`state=3 transcript=12 … (15 rows)`: the counts of a purge or an erasure, for a log line."""
    return " ".join(f"{table}={n}" for table, n in counts.items()) + f" ({sum(counts.values())} rows)"


async def purge_once(retention: Retention) -> dict[str, int] | None:
    """One purge; its counts, or None when it failed (logged with its traceback, never raised)."""
    started = time.monotonic()
    try:
        counts = await retention.purge()
    except Exception:
        log.exception("purge failed; the next one is in an interval")
        return None
    log.info("purge: deleted %s in %.0f ms", describe(counts), (time.monotonic() - started) * 1000)
    return counts


async def purge_periodically(
    retention: Retention, interval_s: float, stop: asyncio.Event, *, first_after_s: float | None = None
) -> None:
    """Purge every `interval_s` seconds until `stop` is set. The first purge comes `first_after_s` after the start
    (default: the interval, at most `FIRST_AFTER_S`: an instance restarted more often than the interval purges
    still), not at once: start-up stays as fast as it was."""
    if interval_s <= 0:  # no periodic purge (COSELL_PURGE_INTERVAL_S=0)
        return
    delay = min(interval_s, FIRST_AFTER_S) if first_after_s is None else first_after_s
    while not await _stopped(stop, delay):
        await purge_once(retention)
        delay = interval_s


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Wait for `stop` at most `seconds`: True when it was set."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
