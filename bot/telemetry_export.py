"""The OpenTelemetry SDK side of telemetry, imported only when telemetry is on (`bot.telemetry.start_telemetry`):
the providers with the service's resource, the Azure Monitor exporters, the privacy filter every span passes on its
way out, and the instrumentation of aiohttp (server and client) and httpx.

`azure_monitor(settings)` builds (nothing global yet, nothing sent); `install(telemetry)` makes it this process's
telemetry: the global providers (settable once per process: the OpenTelemetry API refuses a second), the
instrumentations, and the turn and matcher records of `bot.telemetry`.

Privacy (`PrivateSpanExporter`): the instrumentations put a request's full URL on its span; a query string carries a
Direct Line token (`/stream?t=…`), a signed link (`?sig=`), API filters with ids, so it is cut from `http.url`,
`http.target`, `url.full` and `url.query`. An exception event keeps its type, not its message or stack (they quote
the caller's data, a KeyError its key), and an error status its exception type. The logs keep the tracebacks.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Sampler
from opentelemetry.trace import Status

from bot import telemetry as host_telemetry
from bot.settings import Settings

SERVICE = "cosell-connectors-assistant"  # Application Insights' cloud role name
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full")
_QUERY_ATTRIBUTES = ("url.query",)
_EXCEPTION_KEPT = frozenset({"exception.type", "exception.escaped"})


@dataclass
class Telemetry:
    """The providers of this process and where they send (`span_exporter` is the one behind the privacy filter);
    `shutdown()` exports what is pending and stops them."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    span_exporter: SpanExporter
    metric_reader: MetricReader
    endpoint: str = ""  # where it is exported (a host name), for the start-up log line

    def shutdown(self) -> None:
        """Flush and stop both providers."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def service_resource() -> Resource:
    """service.name and service.version (OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME, the SDK's own, still apply)."""
    try:
        version = metadata.version("cosell-connectors-assistant")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "0+unknown"
    return Resource.create({SERVICE_NAME: SERVICE, SERVICE_VERSION: version})


def build(
    span_exporter: SpanExporter, metric_reader: MetricReader, *, batch: bool = True, sampler: Sampler | None = None
) -> Telemetry:
    """Providers sending spans through `PrivateSpanExporter(span_exporter)` (batched off the event loop, or one by
    one when `batch` is False: tests) and metrics through `metric_reader`; `sampler` decides which traces are
    recorded (None: the SDK's default, all of them)."""
    resource = service_resource()
    tracer_provider = TracerProvider(resource=resource, sampler=sampler)
    private = PrivateSpanExporter(span_exporter)
    tracer_provider.add_span_processor(BatchSpanProcessor(private) if batch else SimpleSpanProcessor(private))
    meter_provider = MeterProvider(resource=resource, metric_readers=[metric_reader])
    return Telemetry(tracer_provider, meter_provider, span_exporter, metric_reader)


def azure_monitor(settings: Settings, **options: Any) -> Telemetry:
    """Providers exporting to the Application Insights resource of `settings`' connection string: spans in batches,
    metrics every 60 s (delta temporality, the exporter's choice). `options` go to both exporters (e.g.
    `disable_offline_storage`; by default failed batches wait in a temporary folder and are retried).

    Traces are sampled by `telemetry_sample_ratio` with Application Insights' own sampler: the decision follows the
    trace id (a turn's spans are kept or dropped together) and each kept item says its rate, so the portal's counts
    are scaled back up. Metrics are not sampled."""
    from azure.monitor.opentelemetry.exporter import (
        ApplicationInsightsSampler,
        AzureMonitorMetricExporter,
        AzureMonitorTraceExporter,
    )

    connection = settings.applicationinsights_connection_string.get_secret_value()
    spans = AzureMonitorTraceExporter(connection_string=connection, **options)
    reader = PeriodicExportingMetricReader(AzureMonitorMetricExporter(connection_string=connection, **options))
    telemetry = build(spans, reader, sampler=ApplicationInsightsSampler(settings.telemetry_sample_ratio))
    telemetry.endpoint = ingestion_host(connection)
    return telemetry


def ingestion_host(connection_string: str) -> str:
    """The host telemetry goes to: the connection string's IngestionEndpoint, else Azure's global one."""
    parts = dict(part.split("=", 1) for part in connection_string.split(";") if "=" in part)
    endpoint = {key.strip().casefold(): value.strip() for key, value in parts.items()}.get("ingestionendpoint", "")
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    return host or "dc.services.visualstudio.com"


def install(telemetry: Telemetry) -> None:
    """Make `telemetry` this process's: the global providers, the aiohttp and httpx instrumentations (before the app
    is built: the server instrumentation wraps `web.Application`), the turn and matcher records."""
    trace.set_tracer_provider(telemetry.tracer_provider)
    metrics.set_meter_provider(telemetry.meter_provider)
    instrument()
    host_telemetry.activate()


def instrument() -> None:
    """Instrument aiohttp (server and client) and httpx, once per process (a repeated call changes nothing)."""
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    with warnings.catch_warnings():
        # the server instrumentation subclasses web.Application to add its middleware, which aiohttp 3.x frowns on
        warnings.filterwarnings("ignore", "Inheritance class _InstrumentedApplication", DeprecationWarning)
        if not AioHttpServerInstrumentor().is_instrumented_by_opentelemetry:
            AioHttpServerInstrumentor().instrument()
    if not AioHttpClientInstrumentor().is_instrumented_by_opentelemetry:
        AioHttpClientInstrumentor().instrument()
    if not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry:
        HTTPXClientInstrumentor().instrument()


def uninstrument() -> None:
    """Undo `instrument()` and stop recording turns and verdicts (tests: the rest of the suite runs uninstrumented)."""
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for instrumentor in (AioHttpServerInstrumentor(), AioHttpClientInstrumentor(), HTTPXClientInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    host_telemetry.activate(False)


class PrivateSpanExporter(SpanExporter):
    """Passes spans to `inner` without URL query strings, exception messages and stacks (see the module doc)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([private_span(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def private_span(span: ReadableSpan) -> ReadableSpan:
    """`span` as it may leave the process: the same span when there was nothing to cut, else a copy."""
    attributes = dict(span.attributes or {})
    cut = {key: str(attributes[key]).split("?", 1)[0] for key in _URL_ATTRIBUTES if "?" in str(attributes.get(key, ""))}
    cut |= {key: "" for key in _QUERY_ATTRIBUTES if attributes.get(key)}
    exceptions = any(event.name == "exception" for event in span.events)
    description = span.status.description
    if not (cut or exceptions or (description and ":" in description)):
        return span
    events = [
        Event(event.name, {k: v for k, v in (event.attributes or {}).items() if k in _EXCEPTION_KEPT}, event.timestamp)
        if event.name == "exception"
        else event
        for event in span.events
    ]
    status = Status(span.status.status_code, description.split(":", 1)[0] if description else None)
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes | cut,
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
