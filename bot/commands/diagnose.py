"""`cosell-bot diagnose` (the live checks' sweep) and `trace` (one referral or opportunity, hop by hop), against the
configured tenant or, with `--demo`, the simulated one; exit 1 when something fails."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from assistant.presenters.marks import mark, status_word
from bot.commands.common import demo_scenario, settings_or_exit, start_demo
from bot.log_setup import configure_logging
from bot.settings import Settings


def _mark(status: str) -> str:
    """The status mark (`assistant.presenters.marks`), padded where a terminal draws the emoji one column short, and
    its word, then a dash: "✅ OK —"."""
    found = mark(status)
    return f"{found + ' ' if found.endswith(chr(0xFE0F)) else found} {status_word(status, 'en')} —"


async def _diagnose(
    settings: Settings, area: str | None, demo: str | None, as_json: bool, inputs: dict[str, str]
) -> int:
    from bot.wiring import SqliteDatabase, build_live_checks

    running = await start_demo(settings, demo)
    live_settings = running.settings if running else settings
    database = SqliteDatabase(live_settings.database_path)
    live = build_live_checks(live_settings, database)
    try:
        sweep = await live.sweep(area=area, inputs=inputs)
    finally:
        await live.close()
        database.close()
        if running:
            await running.stop()
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
        for r in sweep.results:
            print(f"{_mark(r.status.value)} {r.title}: {r.summary}")
            if r.fix and r.fix.entry:
                print(f"     fix: see FAQ entry {r.fix.entry}" + (f" (action: {r.fix.action})" if r.fix.action else ""))
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
    from bot.wiring import SqliteDatabase, build_live_checks
    from tenant.trace import trace_opportunity, trace_referral

    running = await start_demo(settings, demo)
    live_settings = running.settings if running else settings
    database = SqliteDatabase(live_settings.database_path)
    live = build_live_checks(live_settings, database)
    try:
        if referral:
            trace = await trace_referral(live.clients, referral)
        else:
            trace = await trace_opportunity(live.clients, opportunity or "")
    finally:
        await live.close()
        database.close()
        if running:
            await running.stop()
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
        for n, hop in enumerate(report["hops"], 1):
            extra = f"  (see FAQ entry {hop['entry']})" if hop["entry"] else ""
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
