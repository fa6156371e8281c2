"""`cosell-bot serve`: the web app (Web Chat page, Bot Framework endpoint `/api/messages`), refusing a non-loopback
bind with auth off unless the lab flag is given."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from typing import Any

from bot.commands.common import demo_scenario, demo_tools, settings_or_exit
from bot.log_setup import configure_logging


def cmd_serve(args: argparse.Namespace) -> int:
    gc.disable()  # until the app is built: `tune_gc_for_serving` says why, and turns it back on
    from aiohttp import web

    from bot.app import create_app, tune_gc_for_serving

    overrides = {"allow_remote_without_auth": True} if args.allow_remote_without_auth else {}
    settings = settings_or_exit(host=args.host, port=args.port, **overrides)
    configure_logging(settings.log_level)
    problem = settings.bind_problem()
    if problem:
        print(f"cosell-bot serve: {problem}", file=sys.stderr)
        return 2
    if not settings.auth_enabled and not settings.loopback_only:
        logging.getLogger("bot").warning(
            "LAB MODE: listening on %s with Bot Framework auth OFF: anyone who can reach this address can use the "
            "bot; no live findings or fixes are shown to them (COSELL_ALLOW_REMOTE_WITHOUT_AUTH)",
            settings.bind_host,
        )
    demo = demo_scenario(args.demo)
    if demo is not None:
        tools = demo_tools()
        sandbox_port = tools.free_port()
        settings = tools.demosettings_or_exit(settings, demo, sandbox_port)
    logging.getLogger("bot").info(
        "serving on http://%s:%d/ (Web Chat page; Bot Framework endpoint /api/messages, auth %s, database %s)",
        settings.bind_host,
        settings.port,
        "on" if settings.auth_enabled else "off",
        settings.database_path,
    )
    from bot.telemetry import start_telemetry

    telemetry = start_telemetry(settings)  # before the app: the server instrumentation wraps web.Application
    app = create_app(settings)
    if demo is not None:
        tools.attach_demo(app, demo, sandbox_port)
        logging.getLogger("bot").info("demo: live checks use the simulated tenant %r (test/demo tool)", demo.name)
    tune_gc_for_serving()
    web.run_app(app, host=settings.bind_host, port=settings.port, print=None)
    if telemetry is not None:
        telemetry.shutdown()  # export what is pending
    return 0


def register(sub: Any) -> None:
    """Add `serve`."""
    serve = sub.add_parser("serve", help="run the web app (POST /api/messages)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--allow-remote-without-auth",
        action="store_true",
        help="lab only: listen on a non-loopback --host with Bot Framework auth off (refused otherwise)",
    )
    serve.add_argument("--demo", metavar="SCENARIO", help="live checks against the simulated tenant (test/demo tool)")
    serve.set_defaults(func=cmd_serve)
