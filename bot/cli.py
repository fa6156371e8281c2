"""`cosell-bot`: serve the assistant, chat with it in the terminal, ask it questions, score it, benchmark it, report on
its use."""

from __future__ import annotations

import argparse

from bot.commands import cases, diagnose, evaluate, login, package, report, retention, serve, terminal
from bot.commands.common import devtools


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="cosell-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve.register(sub)
    terminal.register(sub)  # chat, ask
    package.register(sub)  # teams-package
    tools = devtools()
    if tools is not None:  # bench and sandbox (developer tools, not the product)
        tools.register(sub)
    diagnose.register(sub)  # diagnose, trace
    login.register(sub)
    cases.register(sub)  # cases list / show / resolve / retry
    retention.register(sub)  # purge, forget
    report.register(sub)  # report
    evaluate.register(sub)  # eval
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `cosell-bot`."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
