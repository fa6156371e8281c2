"""[memory] a probe process per bot: RSS after many one-turn conversations, and the database bytes they left
(start-up is timed in startup.py, as `serve` to the first 200)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools.bench.report import Row
from devtools.bench.turns import Case, build_host, in_child, own_db, run_turn
from stores.sqlite.database import file_bytes

if TYPE_CHECKING:
    from bot.settings import Settings


BYTES_TARGET_KIB = 1.5  # issue 15 §2: compact transcripts, at most 1.5 KiB per turn on disk


def _json_bytes(activities: list[Any]) -> int:
    return sum(len(json.dumps(a.serialize(), ensure_ascii=False)) for a in activities)


def _rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


def probe(kind: str, settings: Settings, cases: list[Case], n: int) -> dict[str, float]:
    """Child entry: RSS after `n` one-turn conversations, and how it grew after the first."""

    async def main() -> dict[str, float]:
        host = build_host(kind, settings)
        replies = await run_turn(host, cases[0], "memory-0")
        rss0 = _rss_mib()
        wire = _json_bytes(replies)
        for i in range(1, n):
            wire += _json_bytes(await run_turn(host, cases[i % len(cases)], f"memory-{i}"))
        rss = _rss_mib()
        await host.close()
        growth = (rss - rss0) * 1024 / max(n - 1, 1)
        return {"rss_mib": rss, "growth_kib": growth, "wire_kib": wire / n / 1024}

    return asyncio.run(main())


async def bench_memory(settings: Settings, tmp: Path, cases: list[Case], quick: bool) -> list[Row]:
    """A probe process per bot, one after the other."""
    n, out = 500 if quick else 10_000, {}
    for kind in ("faq", "echo"):
        out[kind] = await in_child(probe, kind, own_db(settings, tmp / f"memory-{kind}.db"), cases, n)
    faq, echo = out["faq"], out["echo"]
    disk = file_bytes(tmp / "memory-faq.db") / n / 1024
    note = (
        "the SQLite file and its WAL after the conversations above, per one-turn conversation, against the JSON of"
        " the replies those turns sent (what a transcript of them holds as sent); target 1.5 KiB (issue 15 §2)"
    )
    return [
        Row("memory", "database bytes per turn", "KiB", disk, faq["wire_kib"], BYTES_TARGET_KIB, note=note),
        Row("memory", f"RSS after {n:,} conversations", "MiB", faq["rss_mib"], echo["rss_mib"], 150),
        Row("memory", "growth per conversation", "KiB", faq["growth_kib"], echo["growth_kib"]),
    ]
