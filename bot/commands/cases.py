"""`cosell-bot cases`: support cases for staff without Teams — list, show (JSON, or the HTML bundle), resolve (the
user is told and asked for a rating, the Teams card is refreshed) and retry (failed deliveries pending again)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from bot.commands.common import settings_or_exit
from bot.log_setup import configure_logging


def _row(case: Any) -> dict[str, Any]:
    return {
        "ref": case.ref,
        "status": case.status,
        "created": case.created.isoformat(),
        "channel": case.channel_id,
        "user": case.user_name,
        "taken_by": case.taken_by,
        "summary": case.summary,
    }


async def _list(support: Any, args: argparse.Namespace) -> int:
    cases = await support.cases.list_cases(args.status, limit=args.limit)
    if args.json:
        print(json.dumps([_row(c) for c in cases], ensure_ascii=False, indent=2))
        return 0
    for case in cases:
        who = f" · {case.taken_by}" if case.taken_by else ""
        when = f"{case.created:%Y-%m-%d %H:%M}"
        print(f"{case.ref}  {case.status:<8} {when}  {case.channel_id}{who}  {case.summary}")
    if not cases:
        print("no cases")
    return 0


async def _show(support: Any, case: Any, args: argparse.Namespace) -> int:
    from assistant.handoff.bundle import CaseBundle
    from assistant.handoff.render import bundle_html

    raw = await support.cases.bundle(case.ref) or {}
    bundle = CaseBundle.model_validate(raw).model_copy(update={"status": case.status})
    if args.html:
        await asyncio.to_thread(Path(args.html).write_text, bundle_html(bundle), encoding="utf-8")
        print(f"wrote {args.html}")
    elif args.json:
        print(json.dumps(bundle.to_json(), ensure_ascii=False, indent=2))
    else:
        print(json.dumps(_row(case), ensure_ascii=False, indent=2))
        for item in await support.cases.deliveries(case.ref):
            error = f" ({item.last_error})" if item.last_error else ""
            print(f"  {item.target:<14} {item.key:<28} {item.status} after {item.attempts} tries{error}")
    return 0


async def _change(support: Any, case: Any, args: argparse.Namespace) -> int:
    from assistant.handoff.model import utcnow

    if args.action == "retry":
        print(f"{await support.cases.retry(case.ref, utcnow())} deliveries pending again")
    else:
        by = args.by or f"{getpass.getuser()} (cli)"
        case = await support.desk.resolve(case.ref, by, args.note)
        print(f"{case.ref} resolved by {by}")
    await support.outbox.run_once()  # deliver now; a serving instance would pick up the rest too
    return 0


async def _run(args: argparse.Namespace) -> int:
    from bot.wiring import build_assistant

    assistant = build_assistant(settings_or_exit())
    support = assistant.support
    try:
        if args.action == "list":
            return await _list(support, args)
        case = await support.cases.get(args.ref)
        if case is None:
            print(f"no case {args.ref}", file=sys.stderr)
            return 1
        if args.action == "show":
            return await _show(support, case, args)
        return await _change(support, case, args)
    finally:
        await assistant.close()


def cmd_cases(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    return asyncio.run(_run(args))


def register(sub: Any) -> None:
    """Add `cases list|show|resolve|retry`."""
    cases = sub.add_parser("cases", help="support cases: list, show, resolve, retry deliveries")
    actions = cases.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="cases, newest first")
    listing.add_argument("--status", choices=["open", "taken", "resolved"])
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--limit", type=int, default=100)
    show = actions.add_parser("show", help="one case: its state and deliveries, its bundle as JSON or HTML")
    show.add_argument("ref")
    form = show.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="the cosell.case.v1 bundle")
    form.add_argument("--html", metavar="FILE", help="write the bundle as an HTML page")
    resolve = actions.add_parser("resolve", help="resolve a case: the user is told and asked for a rating")
    resolve.add_argument("ref")
    resolve.add_argument("--note", help="what was done (the user reads it)")
    resolve.add_argument("--by", help="who resolved it (default: your login name)")
    retry = actions.add_parser("retry", help="make a case's failed deliveries pending again")
    retry.add_argument("ref")
    for parser in (cases, listing, show, resolve, retry):
        parser.set_defaults(func=cmd_cases)
