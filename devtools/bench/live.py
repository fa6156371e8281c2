"""[live] a full sweep of the live checks against the slow simulated tenant, against its slowest single check, and
the API calls it spends."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from devtools.bench.report import Row

if TYPE_CHECKING:
    from bot.settings import Settings


async def bench_live(settings: Settings, tmp: Path, quick: bool) -> list[Row]:
    """Full sweep wall time against the slow simulated tenant versus its slowest single check, and API calls."""
    from bot.wiring import SqliteDatabase, build_live_checks
    from devtools.demo import _serve, demo_settings
    from devtools.sandbox import load_scenario

    latency = 0.1 if quick else 0.5
    scenario = load_scenario("slow", overrides={"latency_s": latency})
    runner, port = await _serve(scenario, 0)
    database = SqliteDatabase(tmp / "live.db")
    try:
        live_settings = demo_settings(settings, scenario, port)
        live = build_live_checks(live_settings.model_copy(update={"live_cache_ttl": 0.0}), database)
        try:
            t0 = time.perf_counter()
            sweep = await live.sweep(inputs={"referral_id": "c5fb0000-0000-4000-8000-000000000001"})
            sweep_ms = (time.perf_counter() - t0) * 1000
            singles = []
            for result in sweep.results:
                t1 = time.perf_counter()
                await live.sweep(ids=[result.id], inputs={"referral_id": "c5fb0000-0000-4000-8000-000000000001"})
                singles.append((time.perf_counter() - t1) * 1000)
        finally:
            await live.close()
    finally:
        await database.aclose()
        await runner.cleanup()
    slowest = max(singles)
    return [
        Row("live", f"sweep wall time ({latency:g} s per call)", "ms", sweep_ms, slowest, 1.2 * slowest),
        Row("live", "API calls per sweep", "calls", sweep.api_calls, len(sweep.results)),
    ]
