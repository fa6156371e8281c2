"""[outbox] how long support waits for a case: the wall time from the user's Send turn to the Teams support channel
receiving the case card, through the outbox as `serve` runs it.

The assistant serves in its own process (`create_app`, whose lifecycle runs `support.outbox.run(stop)`), with the
Teams support channel at a fake Bot Connector in this process. Each case is opened over `/api/messages` with normal
delivery ("talk to a person", a description, "send"); the desk wakes the outbox when the case is stored, and the
outbox posts the card (`POST /v3/conversations`). Both ends are stamped by the fake connector's clock, here: the
acknowledgement reaching the user's conversation (the baseline) and the card reaching the channel.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

from devtools.bench.escalation import CASE_REF, OPEN_CASE, with_support_channel
from devtools.bench.over_http import Served, message, post
from devtools.bench.report import Row
from devtools.bench.turns import own_db

if TYPE_CHECKING:
    from bot.settings import Settings
    from devtools.fake_connector import ConnectorCall, FakeConnector

CARD_TARGET_MS = 1000.0  # well inside the outbox's 5 s poll: a desk that failed to wake it would show here
_WAIT_S = 10.0


def _text(call: ConnectorCall) -> str:
    return str(call.activity.get("text") or "")


async def _case(server: Served, connector: FakeConnector, conversation: str) -> tuple[float, float]:
    """Open a case in `conversation`; ms from POSTing Send to its acknowledgement and to its card at the connector."""
    for text in OPEN_CASE[:-1]:
        await post(server.session, server.base, message(connector.url, conversation, "bench-user", text))
    t0 = time.perf_counter()
    send = asyncio.ensure_future(
        post(server.session, server.base, message(connector.url, conversation, "bench-user", OPEN_CASE[-1]))
    )
    try:
        ack = await connector.wait_for(
            lambda c: c.conversation_id == conversation and c.at >= t0 and CASE_REF.search(_text(c)) is not None,
            _WAIT_S,
        )
        found = CASE_REF.search(_text(ack))
        assert found is not None  # the predicate matched it
        ref = found.group()
        card = await connector.wait_for(
            lambda c: c.kind == "create_conversation" and c.status == 201 and ref in str(c.activity.get("summary")),
            _WAIT_S,
        )
    finally:
        await send
    return (ack.at - t0) * 1000, (card.at - t0) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) * 95 // 100]  # as `report.latency_stats` takes its p99


async def bench_outbox(settings: Settings, tmp: Path, quick: bool) -> list[Row]:
    """`n` cases one after the other, each in a new conversation, after `warm` unmeasured ones."""
    from devtools.fake_connector import FakeConnector

    n, warm = (5, 1) if quick else (100, 5)
    connector = await FakeConnector().start()
    server = None
    try:
        server = Served("faq", with_support_channel(own_db(settings, tmp / "outbox.db"), connector.url), 1)
        await server.started()
        times = [await _case(server, connector, f"outbox-{i}") for i in range(warm + n)][warm:]
    finally:
        if server is not None:
            await server.stopped()
        await connector.stop()
    ack, card = [a for a, _ in times], [c for _, c in times]
    what = f"{n} cases: POST of Send to the fake connector receiving POST /v3/conversations with the case card"
    return [
        Row("outbox", "Send → support card, median", "ms", statistics.median(card), statistics.median(ack),
            CARD_TARGET_MS, note=what),
        Row("outbox", "Send → support card, p95", "ms", _p95(card), _p95(ack), CARD_TARGET_MS,
            note="the outbox woken by the desk as the case is stored, not by its 5 s poll"),
    ]  # fmt: skip
