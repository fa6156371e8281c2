"""The bench's figures: a `Row` per figure (value, baseline, target), latency and CPU statistics per bot, and the
table (or one JSON object) they are printed as."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

BUDGET_MS = 1.5
BUDGET_TPS = 1000 / BUDGET_MS
BASELINES = {
    "matcher": "rapidfuzz process.extractOne(query, all phrasings, scorer=WRatio) over the same KB",
    "turn": "bare echo bot, same FixedCloudAdapter.process_activity + expectReplies, same loop",
    "escalation": "a FAQ question in a fresh conversation, same in-process assistant, alternating with the escalation"
    " turns",
    "http": "bare echo bot server, same FixedCloudAdapter; rows 'vs Agents SDK echo': the Microsoft 365 Agents SDK"
    " 1.9 echo sample (AgentApplication, aiohttp CloudAdapter, anonymous), target 0.5× its CPU (issue 15 §3); rows"
    " 'vs bare aiohttp': an aiohttp handler with no bot that POSTs one reply to the connector. Each its own process,"
    " same fake connector, same load, in blocks alternating with the assistant's; CPU per turn is the median of 4"
    " blocks",
    "outbox": "the same Send turn's acknowledgement reaching the user's conversation at the same fake connector",
    "memory": "bare echo bot process, same conversations",
    "startup": "the bare aiohttp handler's process, started and asked the same way",
    "live": "the slowest single check run alone (sweep) / one call per check (calls), same simulated tenant",
}


@dataclass(frozen=True)
class Row:
    """One figure with its baseline and target (an upper bound unless `higher`); `note`: one line saying what it
    measures, printed under it."""

    section: str
    name: str
    unit: str
    value: float
    baseline: float
    target: float | None = None
    higher: bool = False
    note: str | None = None

    def ok(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.higher else self.value <= self.target


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _ratio(r: Row) -> float | None:
    return r.value / r.baseline if r.baseline else None  # RSS growth of a few conversations can be 0


def report(rows: list[Row], meta: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out: dict[str, Any] = {"meta": meta}
        for r in rows:
            out.setdefault(r.section, {})[r.name] = {"value": r.value, "unit": r.unit, "target": r.target,
                "target_is": "min" if r.higher else "max", "baseline": r.baseline, "ratio": _ratio(r),
                "ok": r.ok(), "note": r.note}  # fmt: skip
        print(json.dumps(out, ensure_ascii=False))
        return
    print("cosell-bot bench: " + ", ".join(f"{k}={v}" for k, v in meta.items()))
    width = max([38, *(len(r.name) for r in rows)])
    for section, baseline in BASELINES.items():
        print(f"\n[{section}] baseline: {baseline}")
        print(f"  {'figure':<{width}} {'value':>9} {'unit':<8} {'target':>9} {'':<4} {'baseline':>9} {'ratio':>7}")
        for r in (r for r in rows if r.section == section):
            target = "—" if r.target is None else ("≥ " if r.higher else "≤ ") + _fmt(r.target)
            verdict = {True: "ok", False: "MISS", None: ""}[r.ok()]
            cells = f"{_fmt(r.value):>9} {r.unit:<8} {target:>9} {verdict:<4} {_fmt(r.baseline):>9}"
            ratio = _ratio(r)
            print(f"  {r.name:<{width}} {cells} {'—' if ratio is None else f'{ratio:.2f}×':>7}")
            if r.note:
                print(f"    ↳ {r.note}")


def latency_stats(latencies: list[float], wall_s: float, cpu_s: float) -> dict[str, float]:
    lat, n = sorted(latencies), len(latencies)
    return {"p50": lat[n // 2] * 1000, "p99": lat[n * 99 // 100] * 1000, "tps": n / wall_s, "cpu": cpu_s * 1000 / n}


def turn_rows(section: str, label: str, faq: dict[str, float], echo: dict[str, float], saturated: bool) -> list[Row]:
    """Latency, throughput and CPU per turn; throughput has a target only where the server is the bottleneck."""
    tps = BUDGET_TPS if saturated else None
    return [
        Row(section, f"{label} p50", "ms", faq["p50"], echo["p50"], BUDGET_MS if section == "turn" else None),
        Row(section, f"{label} p99", "ms", faq["p99"], echo["p99"]),
        Row(section, f"{label} throughput", "turns/s", faq["tps"], echo["tps"], tps, higher=True),
        Row(section, f"{label} CPU per turn", "ms", faq["cpu"], echo["cpu"], BUDGET_MS),
    ]
