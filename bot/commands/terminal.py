"""`cosell-bot chat` and `ask`: the same bot and dialogs in process, a conversation in the terminal or one fresh
conversation per question (`--json`: one object per line)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from typing import Any

from bot.commands.common import demo_scenario, locale_tag, settings_or_exit, start_demo
from bot.log_setup import configure_logging
from bot.settings import Settings


async def _chat(settings: Settings, locale: str, demo: str | None = None) -> None:
    from bot.local import LocalConversation
    from bot.wiring import build_assistant

    running = await start_demo(settings, demo)
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
    settings = settings_or_exit()
    configure_logging("WARNING")
    demo_scenario(args.demo)
    asyncio.run(_chat(settings, locale_tag(args.locale), args.demo))
    return 0


async def _ask(
    settings: Settings, questions: Iterable[str], locale: str, as_json: bool, demo: str | None = None
) -> None:
    from bot.local import LocalConversation
    from bot.wiring import build_assistant
    from dialogs.base import message_intent

    running = await start_demo(settings, demo)
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
                "intent": message_intent(question, assistant.knowledge.handoff, m.kind if m else None),
                "answer": outcome.text,
                "findings": {r.id: r.status.value for r in outcome.findings},  # the live checks shown, by status
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
    finally:
        await assistant.close()
        if running:
            await running.stop()


def cmd_ask(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    configure_logging("WARNING")
    questions = [args.question] if args.question else (line.rstrip("\n") for line in sys.stdin if line.strip())
    demo_scenario(args.demo)
    asyncio.run(_ask(settings, questions, locale_tag(args.locale), args.json, args.demo))
    return 0


def register(sub: Any) -> None:
    """Add `chat` and `ask`."""
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
