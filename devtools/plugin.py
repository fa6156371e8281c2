"""The devtools' side of `cosell-bot`: the `bench` and `sandbox` sub-commands and what `--demo` needs.

Found by `cosell-bot` (`bot/commands/common.py`) through the `cosell_bot.devtools` entry point, so the product
never imports devtools.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from devtools.demo import attach_demo, demo_settings, free_port, start_demo
from devtools.sandbox import Scenario, UnknownScenario, load_scenario, scenario_names

__all__ = ["UnknownScenario", "attach_demo", "demo_settings", "free_port", "register", "scenario", "start_demo"]


def scenario(name: str) -> Scenario:
    """The sandbox scenario `name`; exits 2 naming the valid ones when unknown."""
    try:
        return load_scenario(name)
    except UnknownScenario:
        raise SystemExit(unknown(name)) from None


def unknown(name: str | None) -> int:
    """Say that `name` is no scenario; the exit code."""
    print(f"unknown sandbox scenario {name!r}; valid: {', '.join(scenario_names())}", file=sys.stderr)
    return 2


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.commands.common import settings_or_exit
    from bot.log_setup import configure_logging
    from devtools.bench.run import run_bench

    configure_logging("WARNING")
    if args.soak is not None:
        from devtools.bench.run import run_soak_bench

        return run_soak_bench(settings_or_exit(), args.soak, as_json=args.json)
    return run_bench(settings_or_exit(), as_json=args.json, quick=args.quick)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.log_setup import configure_logging
    from devtools.sandbox import HOST, base_urls, create_sandbox_app
    from devtools.sandbox.salesforce import SANDBOX_SF_CLIENT_ID, SANDBOX_SF_CLIENT_SECRET

    try:
        chosen = load_scenario(args.scenario)
    except UnknownScenario:
        return unknown(args.scenario)
    configure_logging("INFO")
    print(f"sandbox (simulated tenant, test and demo only) scenario {chosen.name}: {chosen.description}")
    for system, url in base_urls(args.port).items():
        print(f"  {system}: {url}")
    print(
        f"  salesforce OAuth (client credentials): {base_urls(args.port)['salesforce']}/services/oauth2/token "
        f"client_id={SANDBOX_SF_CLIENT_ID} client_secret={SANDBOX_SF_CLIENT_SECRET}"
    )
    print("any non-empty 'Authorization: Bearer x' is accepted; Ctrl-C to stop", flush=True)
    web.run_app(create_sandbox_app(chosen), host=HOST, port=args.port, print=None)
    return 0


def register(sub: Any) -> None:
    """Add `bench` and `sandbox` to `cosell-bot`'s sub-commands."""
    bench = sub.add_parser("bench", help="measure matcher, turn cost, escalation, HTTP throughput and memory")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    bench.add_argument(
        "--soak", nargs="?", type=int, const=50_000, metavar="N",
        help="only the soak: N conversations (default 50,000) × 3 turns at 16 concurrent, retention on",
    )  # fmt: skip
    bench.set_defaults(func=cmd_bench)
    sandbox = sub.add_parser(
        "sandbox", help="serve a simulated tenant on 127.0.0.1 for tests and demos (not a product feature)"
    )
    sandbox.add_argument("--scenario", required=True, help="scenario file name in devtools/sandbox/scenarios/")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.set_defaults(func=cmd_sandbox)
