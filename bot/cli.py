"""`cosell-bot`: serve the assistant, chat with it in the terminal, ask it questions, benchmark it."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.log_setup import configure_logging
from bot.settings import Settings, describe_error


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        raise SystemExit(2) from exc


def _locale(lang: str | None) -> str:
    return "it-IT" if (lang or "").casefold().startswith("it") else "en-US"


def _devtools() -> Any | None:
    """The developer tools (bench, sandbox, `--demo`), found through their entry point so that nothing in the
    product imports them; None when they are not installed."""
    from importlib.metadata import entry_points

    for point in entry_points(group="cosell_bot.devtools"):
        try:
            return point.load()
        except ImportError:
            return None
    return None


def _demo_tools() -> Any:
    tools = _devtools()
    if tools is None:
        print(
            "--demo needs the developer tools: install the project with its dev extra (scripts/bootstrap)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return tools


async def _start_demo(settings: Settings, demo: str | None) -> Any:
    return await _demo_tools().start_demo(settings, demo) if demo else None


def _demo_scenario(name: str | None) -> Any:
    """The sandbox scenario for `--demo NAME`, or None; exits 2 naming the valid ones when unknown."""
    return _demo_tools().scenario(name) if name else None


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app, tune_gc_for_serving

    overrides = {"allow_remote_without_auth": True} if args.allow_remote_without_auth else {}
    settings = _settings(host=args.host, port=args.port, **overrides)
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
    demo = _demo_scenario(args.demo)
    if demo is not None:
        tools = _demo_tools()
        sandbox_port = tools.free_port()
        settings = tools.demo_settings(settings, demo, sandbox_port)
    logging.getLogger("bot").info(
        "serving on http://%s:%d/ (Web Chat page; Bot Framework endpoint /api/messages, auth %s, database %s)",
        settings.bind_host,
        settings.port,
        "on" if settings.auth_enabled else "off",
        settings.database_path,
    )
    app = create_app(settings)
    if demo is not None:
        tools.attach_demo(app, demo, sandbox_port)
        logging.getLogger("bot").info("demo: live checks use the simulated tenant %r (test/demo tool)", demo.name)
    tune_gc_for_serving()
    web.run_app(app, host=settings.bind_host, port=settings.port, print=None)
    return 0


async def _chat(settings: Settings, locale: str, demo: str | None = None) -> None:
    from bot.local import LocalConversation
    from bot.wiring import build_assistant

    running = await _start_demo(settings, demo)
    assistant = build_assistant(running.settings if running else settings)
    try:
        convo = LocalConversation(assistant, locale=locale, channel_id="test")
        print((await convo.start()).text, end="\n\n")
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, _read_line)
            if line is None or line.strip().casefold() in {"/quit", "/exit", "exit", "quit"}:
                break
            if line.strip():
                print((await convo.say(line.strip())).text, end="\n\n")
    finally:
        await assistant.close()
        if running:
            await running.stop()


def _read_line() -> str | None:
    try:
        return input("you> ")
    except EOFError:
        return None


def cmd_chat(args: argparse.Namespace) -> int:
    settings = _settings()
    configure_logging("WARNING")
    _demo_scenario(args.demo)
    asyncio.run(_chat(settings, _locale(args.locale), args.demo))
    return 0


async def _ask(
    settings: Settings, questions: Iterable[str], locale: str, as_json: bool, demo: str | None = None
) -> None:
    from bot.local import LocalConversation
    from bot.wiring import build_assistant

    running = await _start_demo(settings, demo)
    assistant = build_assistant(running.settings if running else settings)
    try:
        for question in questions:
            # one fresh conversation per question: answers must not depend on the previous line
            outcome = await LocalConversation(assistant, locale=locale).say(question)
            m = outcome.match
            if not as_json:
                print(outcome.text, end="\n\n", flush=True)
                continue
            record = {
                "text": question,
                "lang": m.lang if m else None,
                "entry": m.entry if m and m.kind == "answer" else None,
                "confidence": m.confidence if m else 0.0,
                "alternatives": list(m.alternatives) if m and m.kind == "clarify" else [],
                "answer": outcome.text,
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
    finally:
        await assistant.close()
        if running:
            await running.stop()


def cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings()
    configure_logging("WARNING")
    questions = [args.question] if args.question else (line.rstrip("\n") for line in sys.stdin if line.strip())
    _demo_scenario(args.demo)
    asyncio.run(_ask(settings, questions, _locale(args.locale), args.json, args.demo))
    return 0


def cmd_teams_package(args: argparse.Namespace) -> int:
    from bot.channels.teams_package import (
        DEFAULT_NAME,
        DEFAULT_VERSION,
        Developer,
        TeamsPackageError,
        build_manifest,
        build_package,
    )

    defaults = Developer()
    developer = Developer(
        name=args.developer or defaults.name,
        website_url=args.website or defaults.website_url,
        privacy_url=args.privacy or defaults.privacy_url,
        terms_url=args.terms or defaults.terms_url,
    )
    manifest = build_manifest(
        args.app_id,
        name=args.name or DEFAULT_NAME,
        full_name=args.full_name,
        developer=developer,
        version=args.app_version or DEFAULT_VERSION,
    )
    try:
        package = build_package(manifest)
    except TeamsPackageError as exc:
        print(
            f"refused: the Teams app package is invalid ({len(exc.problems)} problems), nothing written",
            file=sys.stderr,
        )
        print("\n".join(f"  {problem}" for problem in exc.problems), file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".partial")
    partial.write_bytes(package)
    partial.replace(args.out)  # never leave a half-written zip where Teams admins look for it
    print(f"wrote {args.out} (manifest {manifest['manifestVersion']}, version {manifest['version']})")
    if developer.placeholders:
        print(f"warning: replace the example.com placeholders: {', '.join(developer.placeholders)}", file=sys.stderr)
    return 0


_MARKS = {"pass": "✅", "warn": "⚠️ ", "fail": "❌", "skipped": "⏭️ ", "error": "❗"}


async def _diagnose(
    settings: Settings, area: str | None, demo: str | None, as_json: bool, inputs: dict[str, str]
) -> int:
    from bot.wiring import SqliteDatabase, build_live_checks

    running = await _start_demo(settings, demo)
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
            print(f"{_MARKS.get(r.status.value, '•')} {r.title}: {r.summary}")
            if r.fix and r.fix.entry:
                print(f"     fix: see FAQ entry {r.fix.entry}" + (f" (action: {r.fix.action})" if r.fix.action else ""))
        for warning in sweep.warnings:
            print(f"⚠️  {warning}")
        print(f"{len(sweep.results)} checks in {sweep.elapsed_ms:.0f} ms, {sweep.api_calls} API calls")
    return 1 if any(r.status.value in ("fail", "error") for r in sweep.results) else 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    settings = _settings()
    configure_logging("WARNING")
    inputs = {k: v for k, v in {"referral_id": args.referral, "opportunity_id": args.opportunity}.items() if v}
    try:
        _demo_scenario(args.demo)
    except SystemExit as exc:  # an unknown scenario: 2, the valid ones named
        return int(exc.code or 2)
    return asyncio.run(_diagnose(settings, args.area, args.demo, args.json, inputs))


async def _trace(settings: Settings, referral: str | None, opportunity: str | None, demo: str | None) -> dict[str, Any]:
    from bot.wiring import SqliteDatabase, build_live_checks
    from tenant.trace import trace_opportunity, trace_referral

    running = await _start_demo(settings, demo)
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
    settings = _settings()
    configure_logging("WARNING")
    _demo_scenario(args.demo)
    report = asyncio.run(_trace(settings, args.referral, args.opportunity, args.demo))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        marks = {"ok": "✅", "broken": "❌", "unknown": "❔"}
        for n, hop in enumerate(report["hops"], 1):
            extra = f"  (see FAQ entry {hop['entry']})" if hop["entry"] else ""
            print(f"{n}. {marks[hop['status']]} {hop['name']}: {hop['detail']}{extra}")
    return 1 if report["broken_at"] else 0


def cmd_login(args: argparse.Namespace) -> int:
    from bot.live import entra_config
    from bot.wiring import SqliteDatabase, SqliteTokenCacheStore
    from tenant.auth.entra import AuthNotConfigured, login, msal_configured, uses_app_only
    from tenant.base import LiveCheckError, System

    settings = _settings()
    configure_logging("WARNING")
    system = System(args.system)
    config = entra_config(settings)
    if not msal_configured(config):
        print(
            "login needs an Entra app registration: set COSELL_LIVE_CLIENT_ID and COSELL_LIVE_TENANT_ID",
            file=sys.stderr,
        )
        return 2
    if uses_app_only(config, system):
        print(f"{system.value} uses app-only tokens (client secret configured): no sign-in needed")
        return 0
    database = SqliteDatabase(settings.database_path)
    try:
        username = login(config, SqliteTokenCacheStore(database), system)
    except AuthNotConfigured as exc:
        print(f"login: {exc}", file=sys.stderr)
        return 2
    except LiveCheckError as exc:
        print(f"login failed: {exc}", file=sys.stderr)
        return 1
    finally:
        database.close()
    print(f"signed in to {system.value} as {username}; the token cache is stored encrypted in the database")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="cosell-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
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
    chat = sub.add_parser("chat", help="talk to the assistant in the terminal")
    chat.add_argument("--locale", default="en-US")
    chat.add_argument("--demo", metavar="SCENARIO", help="live checks against the simulated tenant (test/demo tool)")
    chat.set_defaults(func=cmd_chat)
    ask = sub.add_parser("ask", help="one turn per question (argument, or one per line on stdin)")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--locale", default="en-US")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--demo", metavar="SCENARIO", help="live checks against the simulated tenant (test/demo tool)")
    ask.set_defaults(func=cmd_ask)
    teams = sub.add_parser("teams-package", help="build the Teams app package (manifest.json + icons, zipped)")
    teams.add_argument("--app-id", required=True, help="the bot's Microsoft App ID (a GUID)")
    teams.add_argument("--out", type=Path, default=Path("var/teams-app.zip"))
    teams.add_argument("--name", help="short name, at most 30 characters (default: Co-sell Connectors Assistant)")
    teams.add_argument("--full-name", help="full name, at most 100 characters (default: the short name)")
    teams.add_argument("--app-version", help="the app's version, default 1.0.0: raise it for every re-upload")
    teams.add_argument("--developer", help="developer name, at most 32 characters")
    teams.add_argument("--website", help="developer website (https)")
    teams.add_argument("--privacy", help="privacy statement URL (https)")
    teams.add_argument("--terms", help="terms of use URL (https)")
    teams.set_defaults(func=cmd_teams_package)
    tools = _devtools()
    if tools is not None:  # bench and sandbox (developer tools, not the product)
        tools.register(sub)
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
    login = sub.add_parser("login", help="device-code sign-in to a system for delegated live checks (Entra ID)")
    login.add_argument("system", choices=["partner_center", "power_automate", "dataverse", "graph", "power_platform"])
    login.set_defaults(func=cmd_login)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `cosell-bot`."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
