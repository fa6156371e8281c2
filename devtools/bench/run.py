"""`run_bench`: every section on the shared dev set (the project's own evaluation set when the shared one is not
beside the repository), then the table. Speed is reported, never asserted."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools.bench.escalation import bench_escalation
from devtools.bench.live import bench_live
from devtools.bench.matcher import bench_matcher
from devtools.bench.memory import bench_memory
from devtools.bench.outbox import bench_outbox
from devtools.bench.over_http import bench_http
from devtools.bench.report import Row, report
from devtools.bench.soak import report_soak, soak
from devtools.bench.startup import bench_startup
from devtools.bench.turns import Case, bench_turns, in_child, own_db

if TYPE_CHECKING:
    from bot.settings import Settings


async def _sections(settings: Settings, tmp: Path, cases: list[Case], quick: bool, meta: dict[str, Any]) -> list[Row]:
    # the matcher runs in a child as well: a 10k-entry heap, even freed, slows every later turn in this process
    rows, meta["synthetic_kb_build_s"] = await in_child(bench_matcher, [c["text"] for c in cases], quick)
    faq = [c for c in cases if c["kind"] == "match"]  # the turn sections' workload: real FAQ questions
    rows += await bench_turns(own_db(settings, tmp / "turns.db"), faq, quick)
    rows += await bench_escalation(own_db(settings, tmp / "escalation.db"), faq, quick)
    rows += await bench_http(settings, tmp, faq, quick)
    rows += await bench_outbox(settings, tmp, quick)
    rows += await bench_memory(settings, tmp, faq, quick)
    rows += bench_startup(tmp, faq, quick)
    return rows + await bench_live(settings, tmp, quick)


def run_bench(settings: Settings, *, as_json: bool, quick: bool) -> int:
    """Run every section and print the table (or one JSON object). Speed is reported here, never asserted."""
    from bot.evaluation import OWN_SET, SHARED_DEV_SET, load_cases

    t0, dev_set = time.perf_counter(), SHARED_DEV_SET if SHARED_DEV_SET.exists() else OWN_SET
    cases = load_cases(dev_set)
    meta: dict[str, Any] = {"quick": quick, "cpus": os.cpu_count(), "queries": len(cases), "set": dev_set.name}
    with tempfile.TemporaryDirectory(prefix="cosell-bench-") as tmp:
        rows = asyncio.run(_sections(settings, Path(tmp), cases, quick, meta))
    meta["elapsed_s"] = round(time.perf_counter() - t0, 1)
    report(rows, meta, as_json)
    return 0


def run_soak_bench(settings: Settings, conversations: int, *, as_json: bool) -> int:
    """`bench --soak N`: the soak alone, on the evaluation set's FAQ questions (`devtools.bench.soak`)."""
    from bot.evaluation import OWN_SET, SHARED_DEV_SET, load_cases

    if conversations < 1:
        raise SystemExit("bench --soak: N must be at least 1")
    cases = [c for c in load_cases(SHARED_DEV_SET if SHARED_DEV_SET.exists() else OWN_SET) if c["kind"] == "match"]
    with tempfile.TemporaryDirectory(prefix="cosell-soak-") as tmp:
        report_soak(soak(settings, Path(tmp), cases, conversations), as_json)
    return 0
