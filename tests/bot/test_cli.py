"""The command line (bot/cli.py): every sub-command is there, in the order `--help` lists them."""

from __future__ import annotations

from bot.cli import build_parser


def test_sub_commands_keep_their_order() -> None:
    usage = build_parser().format_usage()
    commands = "serve,chat,ask,teams-package,bench,sandbox,diagnose,trace,login,cases,purge,forget,report,eval,train"
    assert "{" + commands + "}" in usage
