"""Calls to the tenant's systems, counted per sweep and per day, and the systems' display names: what the check
runner and the sign-in need of the HTTP edge (`tenant.clients.transport`) without loading an HTTP client library.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from tenant.base import CallCounter, System

SYSTEM_NAMES: dict[System, str] = {
    System.partner_center: "Partner Center",
    System.power_automate: "Power Automate",
    System.dataverse: "Dataverse",
    System.power_platform: "Power Platform admin",
    System.graph: "Microsoft Graph",
    System.salesforce: "Salesforce",
}


def system_name(system: System) -> str:
    """The display name of `system` for user-facing messages."""
    return SYSTEM_NAMES.get(system, str(system))


@dataclass
class CallTally:
    """Calls made inside one `count_calls()` scope (a sweep), and the counter to forward them to."""

    counter: CallCounter | None = None
    calls: Counter[System] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """All calls counted in this scope."""
        return sum(self.calls.values())


_TALLY: ContextVar[CallTally | None] = ContextVar("live_call_tally", default=None)


@contextmanager
def count_calls(counter: CallCounter | None = None) -> Iterator[CallTally]:
    """Count every `send()` attempt made in this context (tasks created inside inherit it).

    `counter` is used for attempts whose `send()` got no counter of its own, so clients need not carry one.
    """
    tally = CallTally(counter)
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


async def count_call(system: System, counter: CallCounter | None) -> None:
    """Count one attempt on `system`: in the `count_calls()` scope it is made in, and on `counter` (else the
    scope's)."""
    tally = _TALLY.get()
    if tally is not None:
        tally.calls[system] += 1
        counter = counter or tally.counter
    if counter is not None:
        await counter.add(system)
