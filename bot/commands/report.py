"""`cosell-bot report [--days N] [--html FILE] [--json]`: the usage report in Copilot Studio's vocabulary
(`assistant.analytics`) on the configured database — sessions engaged / resolved / escalated / abandoned, helpful %
and escalation rate per entry and area, unanswered questions grouped (redacted), live-check failure rates. Text on
stdout; `--json` the figures as JSON; `--html FILE` also writes the page with its charts.

Exit codes: 0 done, 1 the database failed or the file could not be written, 2 invalid settings or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

from bot.commands.common import settings_or_exit
from bot.log_setup import configure_logging
from bot.settings import Settings


async def _report(settings: Settings, days: int) -> Any:
    from bot.report import usage_report
    from bot.wiring import open_analytics, open_database
    from knowledge.loader import load_kb

    database = open_database(settings)
    try:
        return await usage_report(open_analytics(database), load_kb(), days)
    finally:
        await database.aclose()


def cmd_report(args: argparse.Namespace) -> int:
    from assistant.analytics.page import report_html
    from assistant.analytics.render import report_text
    from bot.report import MAX_DAYS
    from bot.wiring import DatabaseError

    configure_logging("WARNING")
    if not 1 <= args.days <= MAX_DAYS:
        print(f"cosell-bot report: --days must be 1-{MAX_DAYS}", file=sys.stderr)
        return 2
    settings = settings_or_exit()
    try:
        report = asyncio.run(_report(settings, args.days))
    except (DatabaseError, sqlite3.Error) as exc:
        print(f"cosell-bot report: the database failed: {exc}", file=sys.stderr)
        return 1
    if args.html is not None:
        try:
            Path(args.html).write_text(report_html(report), encoding="utf-8")
        except OSError as exc:
            print(f"cosell-bot report: cannot write {args.html}: {exc.strerror}", file=sys.stderr)
            return 1
    print(report.model_dump_json(indent=2) if args.json else report_text(report), end="\n" if args.json else "")
    if args.html is not None and not args.json:
        print(f"HTML report with charts: {args.html}")
    return 0


def register(sub: Any) -> None:
    """Add `report`."""
    report = sub.add_parser("report", help="usage report: sessions, answers, unanswered questions, live checks")
    report.add_argument("--days", type=int, default=7, metavar="N", help="the last N days (default 7)")
    report.add_argument("--html", metavar="FILE", help="also write the HTML report with its charts to FILE")
    report.add_argument("--json", action="store_true", help="print the figures as JSON")
    report.set_defaults(func=cmd_report)
