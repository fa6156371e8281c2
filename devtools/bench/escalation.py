"""[escalation] what escalating costs the server, in process: the CPU of a turn in a conversation that is with support
(an open case: the message is added to the case and acknowledged, `dialogs/support_mode.py`) and of the Send turn (the
bundle built from the transcript, the case stored and its delivery queued, the reference sent), against FAQ turns in
the same loop. Also what the [outbox] section shares: how a case is opened, and the Teams support channel settings.

Every case is opened through the real bot and dialogs, as a user would: "talk to a person", a description (the
preview), "send". The Teams target is enabled, so each change queues its delivery as in production, but no outbox
runs here: delivering is the [outbox] section's, and its CPU is not a turn's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from devtools.bench.report import BUDGET_MS, Row
from devtools.bench.turns import Case, build_host, run_turn

if TYPE_CHECKING:
    from bot.settings import Settings

# "talk to a person" → the description question; the description → the preview; "send" → the case reference
OPEN_CASE = ("talk to a person", "The Partner Center to Dynamics flow stopped creating referrals since Monday", "send")
CASE_REF = re.compile(r"CS-[A-Z0-9]{6}")
NOWHERE = "http://127.0.0.1:9"  # the discard port: a support channel nothing is delivered to (no outbox runs)


def with_support_channel(settings: Settings, service_url: str) -> Settings:
    """`settings` with the Teams support channel behind `service_url` (the fake connector, or `NOWHERE`)."""
    return settings.model_copy(
        update={
            "support_teams_channel_id": "19:bench-support@thread.tacv2",
            "support_teams_service_url": service_url,
            "support_teams_tenant_id": "bench-tenant",
        }
    )


async def _cpu(turn: Awaitable[Any]) -> tuple[float, Any]:
    """The CPU seconds of one turn (this process, all threads; a coroutine runs only once awaited), and its result."""
    c0 = time.process_time()
    out = await turn
    return time.process_time() - c0, out


async def _open_case(host: Any, conversation: str) -> tuple[Any, str, float]:
    """A case opened through the dialog: the conversation, the case reference and the Send turn's CPU seconds."""
    from bot.local import LocalConversation

    talk = LocalConversation(host, "en-US", conversation_id=conversation)
    for text in OPEN_CASE[:-1]:
        await talk.say(text)
    cpu, out = await _cpu(talk.say(OPEN_CASE[-1]))
    if (ref := CASE_REF.search(out.text)) is None:
        raise RuntimeError(f"Send opened no case; the bot said {out.text[:200]!r}")
    return talk, ref.group(), cpu


async def bench_escalation(settings: Settings, cases: list[Case], quick: bool) -> list[Row]:
    """Per case: open it (the Send turn timed), then `per_case` messages to support, each after a FAQ question in a
    fresh conversation, the same question (a slow spell hits both alike). Means of CPU per turn, in µs."""
    n, per_case, warm = (8, 3, 2) if quick else (200, 5, 10)
    host = build_host("faq", with_support_channel(settings, NOWHERE))
    cpu: dict[str, list[float]] = {"faq": [], "support": [], "send": []}
    try:
        for i in range(warm + n):
            talk, ref, send = await _open_case(host, f"escalation-{i}")
            spent: dict[str, list[float]] = {"faq": [], "support": [], "send": [send]}
            for j in range(per_case):
                case = cases[(i * per_case + j) % len(cases)]
                faq, replies = await _cpu(run_turn(host, case, f"faq-{i}-{j}"))
                support, out = await _cpu(talk.say(case["text"]))
                if not replies or ref not in out.text:
                    raise RuntimeError(f"turn {j} of case {ref}: no FAQ reply, or the message did not go to support")
                spent["faq"].append(faq)
                spent["support"].append(support)
            if i >= warm:
                for kind, seconds in spent.items():
                    cpu[kind] += seconds
    finally:
        await host.close()
    us = {kind: sum(seconds) * 1e6 / len(seconds) for kind, seconds in cpu.items()}
    turns = len(cpu["support"])
    return [
        Row("escalation", "with-support turn CPU", "µs", us["support"], us["faq"], BUDGET_MS * 1000,
            note=f"{turns} messages to {n} open cases: each added to its case (delivery queued) and acknowledged"),
        Row("escalation", "Send turn CPU", "µs", us["send"], us["faq"],
            note=f"{n} cases opened by the dialog: bundle from the transcript, case stored, delivery queued, ref sent"),
    ]  # fmt: skip
