"""The escalation figures of `cosell-bot bench` at their quick sizes: the CPU of a turn with support and of the Send
turn (devtools/bench/escalation.py), and the time from Send to the case card in the support channel
(devtools/bench/outbox.py). Each produces plausible numbers and leaves the cases it opened as the product would;
speed itself is reported by the bench, never asserted."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.wiring import SqliteDatabase, open_case_store
from devtools.bench.escalation import bench_escalation
from devtools.bench.outbox import bench_outbox
from devtools.bench.report import Row, report
from devtools.bench.turns import own_db

FAQ = [
    {"kind": "match", "lang": "en", "text": "Solution ID is required"},
    {"kind": "match", "lang": "it", "text": "il flusso non si attiva dopo l'importazione"},
    {"kind": "match", "lang": "en", "text": "what licenses do I need for the connector?"},
]


def _sane(row: Row, *, most: float) -> None:
    assert math.isfinite(row.value) and 0 < row.value < most, row
    assert math.isfinite(row.baseline) and 0 < row.baseline < most, row
    assert row.note, row


async def _cases(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Each stored case's outbox items, as (target, status), by reference."""
    database = SqliteDatabase(path)
    try:
        store = open_case_store(database)
        return {c.ref: [(i.target, i.status) for i in await store.deliveries(c.ref)] for c in await store.list_cases()}
    finally:
        database.close()


async def test_escalation_turns_cost_plausible_cpu_and_open_real_cases(settings: Settings, tmp_path: Path) -> None:
    rows = await bench_escalation(own_db(settings, tmp_path / "escalation.db"), FAQ, quick=True)

    assert [(r.section, r.name, r.unit) for r in rows] == [
        ("escalation", "with-support turn CPU", "µs"),
        ("escalation", "Send turn CPU", "µs"),
    ]
    for row in rows:
        _sane(row, most=1_000_000)  # µs: a second of CPU for one turn would be a hang, not a figure
    assert rows[0].baseline == rows[1].baseline  # both against the same FAQ turns
    cases = await _cases(tmp_path / "escalation.db")
    assert len(cases) == 10  # 8 measured, 2 to warm up
    for items in cases.values():  # queued for the support channel (no outbox runs there): the case card, 3 messages
        assert items == [("teams", "pending")] * 4


async def test_send_to_support_card_is_timed_through_the_served_outbox(settings: Settings, tmp_path: Path) -> None:
    rows = await bench_outbox(settings, tmp_path, quick=True)

    median, p95 = rows
    assert (median.section, median.name, median.unit) == ("outbox", "Send → support card, median", "ms")
    assert (p95.section, p95.name, p95.unit) == ("outbox", "Send → support card, p95", "ms")
    for row in rows:
        _sane(row, most=10_000)  # ms: each wait gives up after 10 s
    assert median.value <= p95.value and median.baseline <= p95.baseline
    cases = await _cases(tmp_path / "outbox.db")
    assert len(cases) == 6  # 5 measured, 1 to warm up
    assert all(items == [("teams", "delivered")] for items in cases.values())


def test_report_prints_a_figures_note_under_it_and_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        Row("escalation", "Send turn CPU", "µs", 1100.0, 800.0, note="cases opened by the dialog"),
        Row("turn", "in-process turn p50", "ms", 0.8, 0.14, 1.5),
    ]
    report(rows, {"quick": True}, as_json=False)
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if "Send turn CPU" in line)
    assert "1,100" in lines[at] and "1.38×" in lines[at] and lines[at + 1].strip() == "↳ cases opened by the dialog"
    assert not any("↳" in line for line in lines[at + 2 :])  # a figure without a note prints none

    report(rows, {"quick": True}, as_json=True)
    out = json.loads(capsys.readouterr().out)
    assert out["escalation"]["Send turn CPU"]["note"] == "cases opened by the dialog"
    assert out["turn"]["in-process turn p50"]["note"] is None
