"""[turn] in-process turns: the assistant and the echo baseline as bench hosts, one expectReplies turn, and FAQ
turns against echo turns in one loop. Also what the other sections share: a host's settings (auth off, its own
database) and running a section's work in a freshly spawned interpreter."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools.bench.report import Row, latency_stats, turn_rows

if TYPE_CHECKING:
    from bot.settings import Settings

Case = dict[str, Any]


@dataclass
class EchoHost:
    """A bare botbuilder echo bot on the same adapter as the assistant."""

    adapter: Any
    bot: Any

    async def close(self) -> None:
        await self.adapter.close()


def build_host(kind: str, settings: Settings) -> Any:
    """The assistant (`faq`) or the echo baseline; imports botbuilder on first use."""
    if kind == "faq":
        from bot.wiring import build_assistant

        return build_assistant(settings)
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication

    from bot.adapter import FixedCloudAdapter

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(turn_context.activity.text)

    auth = ConfigurationBotFrameworkAuthentication(settings.bot_auth_config())
    return EchoHost(FixedCloudAdapter(auth, max_body_bytes=settings.max_body_bytes), EchoBot())


def locale_of(case: Case) -> str:
    return "it-IT" if case.get("lang") == "it" else "en-US"


async def run_turn(host: Any, case: Case, conversation: str) -> list[Any]:
    """One expectReplies turn: `LocalConversation.say` for the assistant, the same steps by hand for the echo
    (importing `bot.local` would load the whole assistant into the echo baseline's process)."""
    from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, DeliveryModes

    if not isinstance(host, EchoHost):
        from bot.local import LocalConversation

        return (await LocalConversation(host, locale_of(case), conversation_id=conversation).say(case["text"])).replies
    activity = Activity(
        type="message", id=uuid.uuid4().hex, channel_id="directline", service_url="http://127.0.0.1:0/local",
        conversation=ConversationAccount(id=conversation), from_property=ChannelAccount(id="u", role="user"),
        recipient=ChannelAccount(id="cosell-bot", role="bot"), locale=locale_of(case),
        timestamp=datetime.now(UTC), delivery_mode=DeliveryModes.expect_replies, text=case["text"],
    )  # fmt: skip
    response = await host.adapter.process_activity("", activity, host.bot.on_turn)
    return [Activity().deserialize(a) for a in response.body["activities"]]


async def bench_turns(settings: Settings, cases: list[Case], quick: bool) -> list[Row]:
    """FAQ turns through `LocalConversation` against echo turns, one fresh conversation per question."""
    n, warm = (100, 10) if quick else (1_500, 100)
    stats = {}
    for kind in ("faq", "echo"):
        host, latencies = build_host(kind, settings), []
        try:
            for i in range(warm):
                await run_turn(host, cases[i % len(cases)], f"warm-{i}")
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(n):
                start = time.perf_counter()
                if not await run_turn(host, cases[i % len(cases)], f"turn-{i}"):
                    raise RuntimeError(f"the {kind} bot did not reply")
                latencies.append(time.perf_counter() - start)
            stats[kind] = latency_stats(latencies, time.perf_counter() - t0, time.process_time() - c0)
        finally:
            await host.close()
    return turn_rows("turn", "in-process turn", stats["faq"], stats["echo"], saturated=True)


async def in_child(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in a freshly spawned interpreter, whose CPU time, RSS and start-up are then its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)


def own_db(settings: Settings, path: Path) -> Settings:
    """`settings` with auth off (no token requests, no network) and a SQLite file of its own."""
    from pydantic import SecretStr

    return settings.model_copy(update={"app_id": "", "app_password": SecretStr(""), "database_path": path})
