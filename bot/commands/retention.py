"""`cosell-bot purge` and `cosell-bot forget`: bounded, private storage by hand — the purge of what is older than the
retention settings (each serving instance also runs it periodically: `bot.purge`), and the erasure of one person's
data (a right-to-erasure request). Both print the rows per table; `--dry-run` counts without changing anything.

Exit codes: 0 done (also when nothing matched), 1 the database failed, 2 invalid settings or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from bot.commands.common import settings_or_exit
from bot.log_setup import configure_logging
from bot.settings import Settings

Action = Callable[[Any], Awaitable[dict[str, int]]]  # given the `Retention` port


def _print_counts(title: str, counts: dict[str, int], nothing: str) -> None:
    print(title)
    width = max((len(table) for table in counts), default=5)
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>8}")
    total = sum(counts.values())
    print(f"  {'total':<{width}}  {total:>8}")
    if not total:
        print(nothing)


async def _with_retention(settings: Settings, action: Action) -> dict[str, int]:
    from bot.wiring import open_database, open_retention

    database = open_database(settings)
    try:
        return await action(open_retention(settings, database))
    finally:
        await database.aclose()


def _run(command: str, action: Action) -> dict[str, int] | None:
    """`action` on the configured database; None (the reason on stderr) when the database failed."""
    from bot.wiring import DatabaseError

    settings = settings_or_exit()  # exits 2 naming an invalid setting, before anything opens
    try:
        return asyncio.run(_with_retention(settings, action))
    except (DatabaseError, sqlite3.Error) as exc:
        print(f"cosell-bot {command}: the database failed: {exc}", file=sys.stderr)
        return None


def _compact(settings: Settings) -> tuple[int, int] | None:
    """`purge --compact`: the SQLite file rewritten without its free pages; its sizes before and after (None on
    PostgreSQL, whose autovacuum reclaims space by itself)."""
    from bot.wiring import SqliteDatabase, file_bytes

    if settings.database_url.get_secret_value():
        return None
    database = SqliteDatabase(settings.database_path)
    try:
        before = file_bytes(database.path)
        database.compact()
    finally:
        database.close()
    return before, file_bytes(database.path)


def cmd_purge(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    if args.compact and args.dry_run:
        print("cosell-bot purge: --compact changes the file, --dry-run changes nothing: choose one", file=sys.stderr)
        return 2
    counts = _run("purge", lambda retention: retention.purge(dry_run=args.dry_run))
    if counts is None:
        return 1
    title = "purge --dry-run: would delete (rows)" if args.dry_run else "purge: deleted (rows)"
    _print_counts(title, counts, "nothing is older than the retention")
    if args.compact:
        try:
            sizes = _compact(settings_or_exit())
        except (sqlite3.Error, OSError) as exc:
            print(f"cosell-bot purge: compacting the database failed: {exc}", file=sys.stderr)
            return 1
        if sizes is None:
            print("compact: nothing to do on PostgreSQL (its autovacuum reclaims the space)")
        else:
            print(f"compact: the SQLite file went from {sizes[0] / 2**20:,.1f} MiB to {sizes[1] / 2**20:,.1f} MiB")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    user = args.user.strip()
    if not user:
        print("cosell-bot forget: --user needs a user id", file=sys.stderr)
        return 2
    counts = _run("forget", lambda retention: retention.forget(user, dry_run=args.dry_run))
    if counts is None:
        return 1
    title = "forget --dry-run: would erase (rows)" if args.dry_run else "forget: erased (rows)"
    _print_counts(title, counts, "nothing is stored for this user")
    return 0


def register(sub: Any) -> None:
    """Add `purge` and `forget`."""
    purge = sub.add_parser("purge", help="delete what is older than the retention settings (rows per table)")
    purge.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
    purge.add_argument(
        "--compact",
        action="store_true",
        help="then rewrite the SQLite file without its free pages (once, with no instance serving: it holds writers"
        " off while it copies the file; a file made by this build gives its free pages back at every purge anyway)",
    )
    purge.set_defaults(func=cmd_purge)
    forget = sub.add_parser("forget", help="erase one person's data everywhere (a right-to-erasure request)")
    forget.add_argument("--user", required=True, metavar="ID", help="the user's channel id (Bot Framework from.id)")
    forget.add_argument("--dry-run", action="store_true", help="count what would be erased, change nothing")
    forget.set_defaults(func=cmd_forget)
