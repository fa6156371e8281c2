"""Outbox: delivers what the desk queued, to each target, with retries; safe with several instances and restarts.

Each instance runs one `Outbox`. It leases due items from the shared `CaseStore` (`claim`: atomic, so two instances
never hold the same item), hands each to its target, and settles it: delivered, or due again after an exponential
backoff with jitter (`BASE_DELAY` · 2^(attempts-1) ±20 %, at most `MAX_DELAY`), or failed for good after
`MAX_ATTEMPTS` or a failure retrying cannot fix (`DeliveryFailed(retry=False)`; `cosell-bot cases retry` makes
those pending again). An instance that dies mid-delivery leaves its lease to expire (`LEASE`); another instance
then takes the item.

Once per target: the lease keeps two instances off one item, `settle` refuses an owner whose lease was taken over,
the webhook carries an `Idempotency-Key` (case ref and item key) and the Teams target posts a case only while the
case has no support thread yet. What remains is the window between a target's answer and `settle`: a crash there
repeats the webhook call (with the same idempotency key) — at-least-once on the wire, once per key at the receiver.

Each delivery is a `cosell.outbox.deliver` span and counts as delivered or failed per target, with the target's time
(`assistant.telemetry`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from assistant.handoff import model as handoff_model
from assistant.handoff.desk import SupportDesk
from assistant.handoff.model import DeliveryFailed, OutboxItem
from assistant.ports import CaseStore, DeliveryTarget
from assistant.telemetry import OUTCOME, TARGET, delivered, delivery_failed, tracer

log = logging.getLogger(__name__)

BASE_DELAY = 2.0  # seconds before the first retry
MAX_DELAY = 600.0  # never wait longer than this between tries
JITTER = 0.2  # each wait is spread by up to ±20%, so items failed together are not all retried together
MAX_ATTEMPTS = 12  # about an hour of tries, then "failed" (kept, visible in `cases show`, retried on request)
LEASE = timedelta(seconds=120)  # longer than any one delivery (the targets time out after 10-30 s)


def backoff(attempts: int, *, jitter: float | None = None) -> float:
    """Seconds to wait after the `attempts`-th failed try: BASE_DELAY · 2^(attempts-1) ±20% jitter, at most
    MAX_DELAY (`jitter`, in [-0.2, 0.2], replaces the random draw)."""
    # the exponent is bounded first (a large count, from a high max_attempts, would overflow the float), and the
    # cap applies again after the jitter: at the cap a wait spreads downwards only, never to MAX_DELAY · 1.2
    exponent = min(max(0, attempts - 1), math.ceil(math.log2(MAX_DELAY / BASE_DELAY)))
    delay = min(MAX_DELAY, BASE_DELAY * 2**exponent)
    spread = random.uniform(-JITTER, JITTER) if jitter is None else max(-JITTER, min(JITTER, jitter))  # noqa: S311
    return float(min(MAX_DELAY, delay * (1 + spread)))


class Outbox:
    """Delivers the shared outbox's items to `targets` (by name); `run` loops until stopped, `run_once` is a pass."""

    def __init__(
        self,
        store: CaseStore,
        desk: SupportDesk,
        targets: Mapping[str, DeliveryTarget],
        *,
        owner: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._store = store
        self._desk = desk
        self._targets = dict(targets)
        self.owner = owner or f"outbox-{uuid.uuid4().hex[:8]}"
        self._max_attempts = max_attempts
        self._nudged = asyncio.Event()
        desk.on_change(self.wake)

    def wake(self) -> None:
        """Something was queued: deliver now instead of at the next poll."""
        self._nudged.set()

    async def run(self, stop: asyncio.Event, *, poll: float = 5.0) -> None:
        """Deliver until `stop` is set: at once when woken, else every `poll` seconds (other instances' items,
        retries coming due)."""
        while not stop.is_set():
            self._nudged.clear()
            try:
                while not stop.is_set() and await self.run_once():
                    pass
            except Exception:  # the store is down: keep the loop alive, try again at the next poll
                log.exception("outbox pass failed; retrying in %.0f s", poll)
            waiters = [asyncio.ensure_future(self._nudged.wait()), asyncio.ensure_future(stop.wait())]
            _, pending = await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()

    async def run_once(self, *, limit: int = 20) -> int:
        """Lease and try the items due now; return how many were tried.

        An item whose bookkeeping fails (the store raised) keeps its lease until it runs out and is tried again then;
        the pass goes on with the others rather than leaving them all leased for `LEASE`.
        """
        items = await self._store.claim(self.owner, handoff_model.utcnow(), LEASE, limit=limit)
        for item in items:
            try:
                await self._deliver(item)
            except Exception:
                log.exception("outbox: item %s of case %s not settled; tried again after its lease", item.id, item.ref)
        return len(items)

    async def _deliver(self, item: OutboxItem) -> None:
        kind = item.payload.get("kind")
        with tracer.start_as_current_span("cosell.outbox.deliver", record_exception=False) as span:
            if span.is_recording():
                span.set_attributes(
                    {
                        TARGET: item.target,
                        "cosell.case.ref": item.ref,
                        "cosell.outbox.kind": kind if isinstance(kind, str) else "",
                        "cosell.outbox.attempt": item.attempts + 1,
                    }
                )
            span.set_attribute(OUTCOME, await self._deliver_item(item))

    async def _deliver_item(self, item: OutboxItem) -> str:
        """Deliver `item` and settle it; return the outcome: delivered, retrying or failed."""
        target = self._targets.get(item.target)
        case = await self._store.get(item.ref)
        if target is None or case is None:
            why = f"no target {item.target!r} in this deployment" if target is None else "the case is gone"
            await self._store.settle(item.id, self.owner, delivered=False, error=why, next_at=None)
            delivery_failed(item.target, None, retry=False)
            log.warning("outbox item %s of case %s not deliverable: %s", item.key, item.ref, why)
            return "failed"
        started = time.perf_counter()
        try:
            bundle = await self._store.bundle(item.ref) if item.payload.get("kind") == "case.created" else None
            detail = await target.deliver(item, case, bundle)
        except DeliveryFailed as exc:
            return await self._failed(item, exc.reason, retry=exc.retry, seconds=time.perf_counter() - started)
        except Exception as exc:  # a target's bug or an unexpected client error: retry, and say which class
            log.warning("outbox: %s delivery of case %s raised %s", item.target, item.ref, type(exc).__name__)
            reason = f"unexpected {type(exc).__name__}"
            return await self._failed(item, reason, retry=True, seconds=time.perf_counter() - started)
        delivered(item.target, time.perf_counter() - started)
        answer = detail if isinstance(detail, Mapping) else {}  # a target that answered nothing did deliver
        thread = answer.get("thread")
        if isinstance(thread, dict):
            await self._keep_thread(item, thread)
        if await self._store.settle(item.id, self.owner, delivered=True, detail=_plain(answer)):
            log.info("outbox: case %s %s delivered to %s", item.ref, item.key, item.target)
        return "delivered"

    async def _keep_thread(self, item: OutboxItem, thread: dict[str, Any]) -> None:
        """Store the support thread with the case; the item is delivered even if that fails (settling it as not
        delivered would post the case a second time), and the thread stays in the item's detail."""
        try:
            await self._desk.set_thread(item.ref, thread)
        except Exception:
            log.exception("outbox: case %s posted, but its support thread could not be stored", item.ref)

    async def _failed(self, item: OutboxItem, reason: str, *, retry: bool, seconds: float) -> str:
        attempts = item.attempts + 1
        give_up = not retry or attempts >= self._max_attempts
        delivery_failed(item.target, seconds, retry=not give_up)
        next_at = None if give_up else handoff_model.utcnow() + timedelta(seconds=backoff(attempts))
        await self._store.settle(item.id, self.owner, delivered=False, error=reason, next_at=next_at)
        level = logging.ERROR if give_up else logging.WARNING
        state = "failed for good" if give_up else f"failed (try {attempts}), retrying"
        log.log(level, "outbox: case %s %s to %s %s: %s", item.ref, item.key, item.target, state, reason)
        return "failed" if give_up else "retrying"


def _plain(detail: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-safe part of a target's answer (kept with the item)."""
    return {k: v for k, v in detail.items() if isinstance(v, str | int | float | bool | dict | list) or v is None}
