"""`cosell-bot bench --soak [N]`: N conversations (default 50,000) of 3 turns each, 16 at a time, in process through
the real assistant on its SQLite default, with retention on: the purge runs every few seconds beside the turns (as
`serve` runs it, `bot.purge.purge_once`) with a short window, so the database stays bounded. It reports turns/s over
the first and the last 5,000 turns (and their ratio: does a long run slow down?), the database's size and bytes per
turn kept, and RSS at the start and the end. Speed is reported, never asserted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools.bench.memory import _rss_mib
from devtools.bench.turns import Case, in_child, locale_of, own_db
from stores.sqlite.database import file_bytes

if TYPE_CHECKING:
    from bot.settings import Settings

CONVERSATIONS = 50_000
TURNS = 3  # per conversation
CONCURRENCY = 16
WINDOW = 5_000  # turns in the first and in the last throughput window
RETAIN_S = 30.0  # what the purge keeps: the last half minute of conversations
PURGE_EVERY_S = 5.0


def _shifted_clock(retain_s: float) -> Any:
    """A clock for `SqlRetention(days=1)` under which "older than a day" means "older than `retain_s` seconds"."""
    ahead = timedelta(days=1) - timedelta(seconds=retain_s)
    return lambda: datetime.now(UTC) + ahead


def run_soak(settings: Settings, cases: list[Case], conversations: int) -> dict[str, Any]:
    """Child entry: the soak on the database at `settings.database_path`; its figures."""
    return asyncio.run(_soak(settings, cases, conversations))


async def _soak(settings: Settings, cases: list[Case], conversations: int) -> dict[str, Any]:
    from bot.local import LocalConversation
    from bot.purge import purge_once
    from bot.wiring import build_assistant
    from stores.sql.retention import SqlRetention

    host = build_assistant(settings)
    retention = SqlRetention(host.database, days=1, case_days=1, clock=_shifted_clock(RETAIN_S))
    rss0, done, purged = _rss_mib(), [], {"runs": 0, "rows": 0}
    counter, flight = itertools.count(), {"now": 0, "max": 0}  # conversations begun and not yet ended

    async def worker() -> None:
        while (c := next(counter)) < conversations:
            flight["now"] += 1
            flight["max"] = max(flight["max"], flight["now"])
            case = cases[c % len(cases)]
            chat = LocalConversation(host, locale_of(case), conversation_id=f"soak-{c}", user_id=f"user-{c % 997}")
            for t in range(TURNS):
                if not (await chat.say(cases[(c + t * 7) % len(cases)]["text"])).replies:
                    raise RuntimeError("the assistant did not reply")
                done.append(time.perf_counter())
                # An in-process turn on SQLite never suspends (every call is synchronous), so without this the first
                # worker ran every conversation and the purge's timer fired only after the last turn; a served turn
                # ends at its socket, where the loop runs everything else that is due.
                await asyncio.sleep(0)
            flight["now"] -= 1

    async def purging(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), PURGE_EVERY_S)
            except TimeoutError:
                counts = await purge_once(retention)
                purged["runs"] += 1
                purged["rows"] += sum((counts or {}).values())

    stop = asyncio.Event()
    purge_task = asyncio.create_task(purging(stop))
    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    finally:
        stop.set()
        await purge_task
    wall = time.perf_counter() - t0
    [(kept,)] = await host.database.query("SELECT COUNT(*) FROM transcript WHERE direction = 'in'")
    live = await _live_bytes(host.database)
    rss1 = _rss_mib()
    await host.close()
    figures = _figures(t0, wall, done, int(kept), file_bytes(Path(settings.database_path)), rss0, rss1, purged)
    return figures | {"live_bytes": live, "live_bytes_per_turn_kept": round(live / kept) if kept else None,
                      "in_flight_max": flight["max"]}  # fmt: skip


async def _live_bytes(db: Any) -> int:
    """The bytes of the database's pages in use: its size less the free pages the purge left (SQLite reuses them for
    new rows; at the end of a pass the purge gives back all but a reserve: `SqliteDatabase.release_free_pages`)."""
    [(pages,)] = await db.query("PRAGMA page_count")
    [(free,)] = await db.query("PRAGMA freelist_count")
    [(size,)] = await db.query("PRAGMA page_size")
    return (int(pages) - int(free)) * int(size)


def _figures(t0: float, wall: float, done: list[float], kept: int, disk: int, rss0: float, rss1: float,
             purged: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    n, window = len(done), max(1, min(WINDOW, len(done) // 3))
    first = window / (done[window - 1] - t0)
    last = window / (done[-1] - done[-window - 1]) if n > window else first
    return {
        "turns": n,
        "wall_s": round(wall, 2),
        "turns_per_s": round(n / wall, 1),
        "window_turns": window,
        "first_turns_per_s": round(first, 1),
        "last_turns_per_s": round(last, 1),
        "last_vs_first": round(last / first, 3),
        "db_bytes": disk,
        "turns_kept": kept,
        "bytes_per_turn_kept": round(disk / kept) if kept else None,
        "rss_start_mib": round(rss0, 1),
        "rss_end_mib": round(rss1, 1),
        "purges": purged["runs"],
        "purged_rows": purged["rows"],
    }


def soak(settings: Settings, tmp: Path, cases: list[Case], conversations: int) -> dict[str, Any]:
    """The soak in a freshly spawned interpreter (its RSS is its own), on a database of its own in `tmp`."""
    own = own_db(settings, tmp / "soak.db")
    figures: dict[str, Any] = asyncio.run(in_child(run_soak, own, cases, conversations))
    return {"conversations": conversations, "turns_each": TURNS, "concurrency": CONCURRENCY, "retain_s": RETAIN_S,
            "purge_every_s": PURGE_EVERY_S, **figures}  # fmt: skip


def report_soak(out: dict[str, Any], as_json: bool) -> None:
    """One JSON object (`{"soak": …}`), or the figures as lines."""
    if as_json:
        print(json.dumps({"soak": out}))
        return
    print(
        f"cosell-bot bench --soak: {out['conversations']:,} conversations × {out['turns_each']} turns at"
        f" {out['concurrency']} concurrent, in process, SQLite, retention on (purge every {out['purge_every_s']:g} s"
        f" keeping {out['retain_s']:g} s)"
    )
    w = out["window_turns"]
    print(f"  turns                  {out['turns']:,} in {out['wall_s']:,} s ({out['turns_per_s']:,} turns/s),"
          f" at most {out['in_flight_max']} conversations in flight")  # fmt: skip
    print(f"  first {w:,} turns       {out['first_turns_per_s']:,} turns/s")
    print(f"  last {w:,} turns        {out['last_turns_per_s']:,} turns/s ({out['last_vs_first']:.2f}× the first)")
    print(f"  database               {out['db_bytes'] / 2**20:,.1f} MiB (file + WAL), {out['turns_kept']:,} turns kept")
    per, live = out["bytes_per_turn_kept"], out["live_bytes_per_turn_kept"]
    print(
        f"  bytes per turn kept    {'—' if per is None else f'{per:,} B ({per / 1024:.2f} KiB)'} of the file;"
        f" {'—' if live is None else f'{live:,} B ({live / 1024:.2f} KiB)'} of the pages in use"
        f" ({out['live_bytes'] / 2**20:,.1f} MiB: the rest are free pages, reused for new rows until the purge gives"
        " them back at the end of a pass)"
    )
    print(f"  RSS                    {out['rss_start_mib']:,} MiB at start, {out['rss_end_mib']:,} MiB at end")
    print(f"  purges                 {out['purges']} ({out['purged_rows']:,} rows deleted, while the turns ran)")
