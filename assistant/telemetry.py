"""Escalation telemetry through the OpenTelemetry API alone (the host installs the SDK and exporters, or nothing,
and then every call here is the API's no-op). Attributes are target names, outcome kinds and case references: never
what a user or an engineer wrote.

- `cosell.cases.opened` (counter): support cases opened, by the conversation's language;
- `cosell.outbox.delivered` / `cosell.outbox.failed` (counters): outbox deliveries per target (`failed` also says
  whether the item will be tried again);
- `cosell.outbox.delivery.duration` (histogram, seconds): the time a target took, per target and outcome;
- a `cosell.outbox.deliver` span per delivery, with the HTTP client span of the target beneath it.
"""

from __future__ import annotations

from opentelemetry import metrics, trace

TARGET = "cosell.target"
OUTCOME = "cosell.outcome"
# seconds: a webhook or a Bot Connector post takes from tens of milliseconds to the targets' 10-30 s timeouts
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

tracer = trace.get_tracer("cosell.assistant")
_meter = metrics.get_meter("cosell.assistant")
_opened = _meter.create_counter("cosell.cases.opened", unit="{case}", description="Support cases opened")
_delivered = _meter.create_counter(
    "cosell.outbox.delivered", unit="{delivery}", description="Outbox items delivered, per target"
)
_failed = _meter.create_counter(
    "cosell.outbox.failed", unit="{delivery}", description="Outbox deliveries that failed, per target and retry"
)
_duration = _meter.create_histogram(
    "cosell.outbox.delivery.duration",
    unit="s",
    description="Time a delivery target took, per target and outcome",
    explicit_bucket_boundaries_advisory=LATENCY_BUCKETS,
)


def case_opened(lang: str) -> None:
    """A support case was stored (`SupportDesk.open`)."""
    _opened.add(1, {"cosell.lang": lang})


def delivered(target: str, seconds: float) -> None:
    """An outbox item reached `target` in `seconds`."""
    _delivered.add(1, {TARGET: target})
    _duration.record(seconds, {TARGET: target, OUTCOME: "delivered"})


def delivery_failed(target: str, seconds: float | None, *, retry: bool) -> None:
    """An outbox item did not reach `target` (`seconds`: how long the target took; None: it was never tried)."""
    _failed.add(1, {TARGET: target, "cosell.retry": retry})
    if seconds is not None:
        _duration.record(seconds, {TARGET: target, OUTCOME: "failed"})
