"""Telemetry for the team that runs the assistant: OpenTelemetry traces and metrics, exported to Azure Monitor.

`start_telemetry(settings)` runs once at start (`serve`). Without `APPLICATIONINSIGHTS_CONNECTION_STRING` it does
nothing at all: the SDK is not even imported, no library is instrumented, the OpenTelemetry API stays the no-op it is
by default, nothing is exported and nothing is logged; the turn and the matcher then skip even the API's no-op calls
(`active()` is False), so a turn costs what it cost before telemetry. With it, `bot.telemetry_export` installs the SDK's
providers (resource: service name and version) exporting to Azure Monitor and instruments aiohttp (the server:
`/api/messages`, the embedded Direct Line, the pages; the client: replies to the Bot Connector) and httpx (the live
checks, the support webhook).

Recorded here, at the host (the live checks, escalations and deliveries record through the API where they happen:
`tenant.telemetry`, `assistant.telemetry`):

- a `cosell.turn` span per turn (`TroubleshootBot._turn_saved`): channel, activity type, conversation id, the retry
  loop's attempt count and the outcome (ok, conflict, cancelled, error); `cosell.turns` (counter) and
  `cosell.turn.duration` (histogram, seconds) by channel, activity type and outcome;
- a `cosell.match` span per matcher verdict (`Knowledge.match`): kind, via, entry id, alternatives, confidence,
  language, neighbour; `cosell.match.verdicts` (counter) by kind and via.

Attributes are ids, kinds and numbers only, never what a user wrote (channel and activity type are reduced to the
known values, else "other", so a caller cannot grow the metrics' series); `bot.telemetry_export` also cuts URL query
strings and exception messages from every span before it leaves the process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botbuilder.schema import Activity, ActivityTypes
from botframework.connector import Channels
from opentelemetry import metrics, trace
from opentelemetry.trace import Status, StatusCode

from assistant.ports import StateConflict
from bot.log_setup import safe_id
from bot.settings import Settings
from knowledge.models import Match

if TYPE_CHECKING:
    from bot.telemetry_export import Telemetry

log = logging.getLogger(__name__)

CHANNEL = "cosell.channel"
ACTIVITY_TYPE = "cosell.activity.type"
OUTCOME = "cosell.outcome"
# seconds: a FAQ turn takes about a millisecond, one with live checks up to the sweep deadline (8 s)
TURN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_CHANNELS = frozenset(value for name, value in vars(Channels).items() if not name.startswith("_"))
_ACTIVITY_TYPES = frozenset(kind.value for kind in ActivityTypes)

_tracer = trace.get_tracer("cosell.bot")
_meter = metrics.get_meter("cosell.bot")
_turns = _meter.create_counter("cosell.turns", unit="{turn}", description="Turns, by channel, type and outcome")
_turn_duration = _meter.create_histogram(
    "cosell.turn.duration",
    unit="s",
    description="Time a turn took (its retries included), by channel, type and outcome",
    explicit_bucket_boundaries_advisory=TURN_BUCKETS,
)
_verdicts = _meter.create_counter(
    "cosell.match.verdicts", unit="{verdict}", description="Matcher verdicts, by kind and route (via)"
)


@dataclass
class _Switch:
    active: bool = False


_switch = _Switch()


def active() -> bool:
    """True once telemetry is installed in this process (`bot.telemetry_export.install`)."""
    return _switch.active


def activate(on: bool = True) -> None:
    """Record turns and verdicts (`install` calls it; tests switch it back off)."""
    _switch.active = on


def start_telemetry(settings: Settings) -> Telemetry | None:
    """Set up telemetry for this process, once, before the app is built: with a connection string, providers
    exporting to Azure Monitor and the aiohttp and httpx instrumentations (returned: `shutdown()` flushes them);
    without one, nothing (None)."""
    if not settings.applicationinsights_connection_string.get_secret_value():
        return None
    from bot.telemetry_export import azure_monitor, install  # the SDK and the exporter only when used

    telemetry = azure_monitor(settings)
    install(telemetry)
    log.info("telemetry: traces and metrics exported to Azure Monitor (%s)", telemetry.endpoint)
    return telemetry


def known_channel(channel_id: object) -> str:
    """The channel id when it is one of the Bot Framework's, else "other" (metrics keep a bounded set of series)."""
    return channel_id if isinstance(channel_id, str) and channel_id in _CHANNELS else "other"


def known_activity_type(kind: object) -> str:
    """The activity type when it is one of the protocol's, else "other"."""
    return kind if isinstance(kind, str) and kind in _ACTIVITY_TYPES else "other"


@dataclass
class TurnRecord:
    """What the turn tells its span: how many times the retry loop ran it."""

    attempts: int = 1


@contextmanager
def turn_span(activity: Activity) -> Iterator[TurnRecord]:
    """The turn's span (current while the turn runs) and its metrics; the outcome comes from how the block ends."""
    record = TurnRecord()
    if not _switch.active:
        yield record
        return
    started = time.perf_counter()
    labels = {CHANNEL: known_channel(activity.channel_id), ACTIVITY_TYPE: known_activity_type(activity.type)}
    outcome = "error"
    conversation = activity.conversation.id if activity.conversation else None
    with _tracer.start_as_current_span(  # a copy: a sampler may add to the attributes it is given
        "cosell.turn", attributes=dict(labels), record_exception=False, set_status_on_exception=False
    ) as span:
        span.set_attribute("cosell.conversation.id", safe_id(conversation))
        try:
            yield record
            outcome = "ok"
        except StateConflict:
            outcome = "conflict"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception as exc:  # the type only: an exception's message can quote the caller's data
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            span.set_attribute("error.type", type(exc).__name__)
            raise
        finally:
            span.set_attributes({"cosell.turn.attempts": record.attempts, OUTCOME: outcome})
            series = {**labels, OUTCOME: outcome}
            _turns.add(1, series)
            _turn_duration.record(time.perf_counter() - started, series)


def record_match(verdict: Match, started_ns: int) -> None:
    """The matcher's verdict as a `cosell.match` span (from `started_ns`, `time.time_ns()` before matching, to now;
    a child of the turn's) and on the verdicts counter."""
    if not _switch.active:
        return
    attributes: dict[str, Any] = {
        "cosell.match.kind": verdict.kind,
        "cosell.match.via": verdict.via,
        "cosell.match.entry": verdict.entry or "",
        "cosell.match.confidence": round(verdict.confidence, 4),
        "cosell.match.alternatives": list(verdict.alternatives),
        "cosell.match.lang": verdict.lang,
        "cosell.match.neighbour": verdict.neighbour or "",
        "cosell.match.smalltalk": verdict.smalltalk or "",
    }
    _tracer.start_span("cosell.match", start_time=started_ns, attributes=attributes).end()
    _verdicts.add(1, {"cosell.match.kind": verdict.kind, "cosell.match.via": verdict.via})
