"""The live checks' telemetry, through the OpenTelemetry API alone.

The SDK and its exporters belong to the host (`bot/telemetry.py` installs them when Azure Monitor is configured);
until then every call here is the API's no-op. What is recorded is named by system, check id, status code and
outcome kind only: never a URL, a query, a header or a body (they carry ids, filters and tokens).

- `cosell.live.calls` (counter): requests sent to a system, by outcome (the HTTP status, `timeout`, `unreachable`);
- `cosell.live.call.duration` (histogram, seconds): their latency, per system;
- `cosell.live.throttles` (counter): 429 answers, per system;
- `cosell.live.circuit.state` (observable gauge): 0 closed, 1 half-open (the next call tests the system), 2 open
  (calls refused until the cooldown ends), per configured system of every live `CheckRunner`;
- spans `cosell.live.sweep` and `cosell.live.check` (`tenant.runner`), with the HTTP client spans beneath them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Protocol

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import Span

from tenant.base import System

SYSTEM = "cosell.system"
OUTCOME = "cosell.outcome"
# seconds: an API call takes from tens of milliseconds to the per-check timeout (4 s by default)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

tracer = trace.get_tracer("cosell.tenant")
_meter = metrics.get_meter("cosell.tenant")
_calls = _meter.create_counter(
    "cosell.live.calls", unit="{call}", description="Requests the live checks sent, per system and outcome"
)
_latency = _meter.create_histogram(
    "cosell.live.call.duration",
    unit="s",
    description="Time a live-check request took, per system",
    explicit_bucket_boundaries_advisory=LATENCY_BUCKETS,
)
_throttles = _meter.create_counter(
    "cosell.live.throttles", unit="{response}", description="429 (Too Many Requests) answers, per system"
)


class Circuit(IntEnum):
    """A system's circuit breaker as the gauge reports it."""

    closed = 0
    half_open = 1  # the cooldown is over: the next call decides
    open = 2


class CircuitSource(Protocol):
    """What the gauge reads: a runner's circuit per configured system (`CheckRunner.circuits`)."""

    def circuits(self) -> Mapping[System, Circuit]: ...


_sources: weakref.WeakSet[CircuitSource] = weakref.WeakSet()


def record_call(system: System, outcome: str, seconds: float) -> None:
    """One request to `system`: `outcome` is its HTTP status ("200", "429", ...), "timeout" or "unreachable"."""
    name = system.value
    _calls.add(1, {SYSTEM: name, OUTCOME: outcome})
    _latency.record(seconds, {SYSTEM: name})
    if outcome == "429":
        _throttles.add(1, {SYSTEM: name})


def describe_sweep(span: Span, *, area: str | None, checks: int, ran: int, cached: int, api_calls: int) -> None:
    """A `cosell.live.sweep` span's attributes: how many checks were selected, run and served from the cache."""
    if span.is_recording():
        span.set_attributes(
            {
                "cosell.live.area": area or "",
                "cosell.live.checks": checks,
                "cosell.live.run": ran,
                "cosell.live.cached": cached,
                "cosell.live.api_calls": api_calls,
            }
        )


def describe_check(span: Span, *, check_id: str, system: System, status: str, elapsed_ms: float) -> None:
    """A `cosell.live.check` span's attributes: which check, on which system, with what status."""
    if span.is_recording():
        span.set_attributes(
            {
                "cosell.check.id": check_id,
                SYSTEM: system.value,
                "cosell.check.status": status,
                "cosell.check.elapsed_ms": round(elapsed_ms, 1),
            }
        )


def circuit_changed(system: System, change: str, failures: int | None = None) -> None:
    """An event on the current span (the check's): `system`'s circuit "opened" or "closed"."""
    attributes: dict[str, str | int] = {SYSTEM: system.value}
    if failures is not None:
        attributes["cosell.failures"] = failures
    trace.get_current_span().add_event(f"circuit {change}", attributes)


def watch_circuits(source: CircuitSource) -> None:
    """Report `source`'s circuits on the gauge for as long as it lives (held weakly)."""
    _sources.add(source)


def _observe_circuits(_options: CallbackOptions) -> Iterable[Observation]:
    # called from the metric reader's thread: `circuits()` copies what it reads
    for source in list(_sources):
        for system, state in source.circuits().items():
            yield Observation(int(state), {SYSTEM: system.value})


_meter.create_observable_gauge(
    "cosell.live.circuit.state",
    callbacks=[_observe_circuits],
    unit="1",
    description="Circuit breaker per system: 0 closed, 1 half-open, 2 open (calls refused)",
)
