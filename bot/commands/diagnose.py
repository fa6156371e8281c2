"""`cosell-bot diagnose` (the live checks' sweep) and `trace` (one referral or opportunity, hop by hop), against the
configured tenant or, with `--demo`, the simulated one; exit 1 when something fails."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING, Any

from assistant import messages
from assistant.presenters.marks import mark, status_word
from bot.commands.common import demo_scenario, settings_or_exit, start_demo
from bot.log_setup import configure_logging
from bot.settings import Settings
from knowledge.loader import KnowledgeBase, load_kb
from tenant.base import Fix, Status
from tenant.trace import trace_from

if TYPE_CHECKING:
    from tenant.runner import Sweep


def _mark(status: str) -> str:
    """The status mark (`assistant.presenters.marks`), padded where a terminal draws the emoji one column short, and
    its word, then a dash: "✅ OK —"."""
    found = mark(status)
    return f"{found + ' ' if found.endswith(chr(0xFE0F)) else found} {status_word(status, 'en')} —"


async def _sweep(settings: Settings, demo: str | None, area: str | None, inputs: dict[str, str]) -> Sweep:
    """One sweep of the live checks (all of them, or an area's) with `inputs`: what `diagnose` prints and `trace`
    shows hop by hop, so both reach the same verdicts."""
    from bot.wiring import build_live_checks, open_database

    running = await start_demo(settings, demo)
    live_settings = running.settings if running else settings
    database = open_database(live_settings)
    live = build_live_checks(live_settings, database)
    try:
        return await live.sweep(area=area, inputs=inputs)
    finally:
        await live.close()
        await database.aclose()
        if running:
            await running.stop()


def _fix_line(fix: Fix, kb: KnowledgeBase) -> str:
    """How to fix a finding, in words: the FAQ entry's title and the fix's name, never their ids."""
    parts = []
    if fix.entry and fix.entry in kb.by_id:
        parts.append(f"see “{messages.entry_name(kb.get(fix.entry), 'en')}”")
    if fix.action:
        parts.append(f"or let the assistant {messages.fix_text(fix.action, 'name', 'en')}")
    return " ".join(parts)


async def _diagnose(
    settings: Settings, area: str | None, demo: str | None, as_json: bool, inputs: dict[str, str]
) -> int:
    sweep = await _sweep(settings, demo, area, inputs)
    if as_json:
        checks = [
            {
                "id": r.id,
                "title": r.title,
                "system": r.system.value,
                "status": r.status.value,
                "summary": r.summary,
                "evidence": r.evidence,
                "entries": list(r.entries),
                "fix": r.fix.model_dump() if r.fix else None,
            }
            for r in sweep.results
        ]
        report = {"checks": checks, "elapsed_ms": round(sweep.elapsed_ms, 1), "api_calls": sweep.api_calls}
        print(json.dumps(report, ensure_ascii=False, default=str))
    else:
        kb = load_kb()
        for r in sweep.results:
            print(f"{_mark(r.status.value)} {r.title}: {r.summary}")
            if r.status is Status.fail and r.fix and (line := _fix_line(r.fix, kb)):
                print(f"     fix: {line}")
        for warning in sweep.warnings:
            print(f"⚠️  {warning}")
        print(f"{len(sweep.results)} checks in {sweep.elapsed_ms:.0f} ms, {sweep.api_calls} API calls")
    return 1 if any(r.status.value in ("fail", "error") for r in sweep.results) else 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    configure_logging("WARNING")
    inputs = {k: v for k, v in {"referral_id": args.referral, "opportunity_id": args.opportunity}.items() if v}
    try:
        demo_scenario(args.demo)
    except SystemExit as exc:  # an unknown scenario: 2, the valid ones named
        return int(exc.code or 2)
    return asyncio.run(_diagnose(settings, args.area, args.demo, args.json, inputs))


async def _trace(settings: Settings, referral: str | None, opportunity: str | None, demo: str | None) -> dict[str, Any]:
    inputs = {"referral_id": referral} if referral else {"opportunity_id": opportunity or ""}
    sweep = await _sweep(settings, demo, None, inputs)
    trace = trace_from(sweep.results, referral)
    return {"referral_id": trace.referral_id, "broken_at": trace.broken_at,
            "hops": [h.model_dump() for h in trace.hops]}  # fmt: skip


def cmd_trace(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    configure_logging("WARNING")
    demo_scenario(args.demo)
    report = asyncio.run(_trace(settings, args.referral, args.opportunity, args.demo))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        kb = load_kb()
        for n, hop in enumerate(report["hops"], 1):
            entry = hop["entry"]
            extra = f"  (see “{messages.entry_name(kb.get(entry), 'en')}”)" if entry in kb.by_id else ""
            print(f"{n}. {_mark(hop['status'])} {hop['name']}: {hop['detail']}{extra}")
    return 1 if report["broken_at"] else 0


def register(sub: Any) -> None:
    """Add `diagnose` and `trace`."""
    diagnose = sub.add_parser("diagnose", help="run the live checks against the configured tenant")
    diagnose.add_argument("--json", action="store_true")
    diagnose.add_argument("--area", choices=["prerequisites", "configuration", "maintenance"])
    diagnose.add_argument("--referral", help="a Partner Center referral id to cross-check")
    diagnose.add_argument("--opportunity", help="a CRM opportunity id to cross-check")
    diagnose.add_argument("--demo", metavar="SCENARIO", help="run against the simulated tenant (test/demo tool)")
    diagnose.set_defaults(func=cmd_diagnose)
    trace = sub.add_parser("trace", help="hop-by-hop sync trace of one referral or CRM opportunity")
    target = trace.add_mutually_exclusive_group(required=True)
    target.add_argument("--referral", help="Partner Center referral id")
    target.add_argument("--opportunity", help="CRM opportunity id (the CRM ID on the referral)")
    trace.add_argument("--json", action="store_true")
    trace.add_argument("--demo", metavar="SCENARIO", help="against the simulated tenant (test/demo tool)")
    trace.set_defaults(func=cmd_trace)
