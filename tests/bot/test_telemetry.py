"""Telemetry (bot/telemetry.py, bot/telemetry_export.py, tenant/telemetry.py, assistant/telemetry.py): with the SDK's
in-memory span exporter and metric reader installed as `serve` installs Azure Monitor's, a real turn over HTTP, a
retried turn, a live-check sweep against the simulated tenant and the outbox produce their spans, attributes and
metrics; a turn with secret-looking text leaves it in no span and no metric; without a connection string nothing is
set up, exported or logged (in a fresh interpreter); with one, the Azure Monitor exporters are configured (and send
nothing: the test only looks at them).

The OpenTelemetry API takes global providers once per process: this module installs them once, and uninstruments and
switches the recording off when it is done, so the rest of the suite runs as without telemetry.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import Counter, Histogram, ObservableGauge, UpDownCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot import telemetry_export
from bot.app import create_app
from bot.local import LocalConversation
from bot.telemetry import known_activity_type, known_channel
from bot.wiring import build_assistant, build_live_checks
from devtools.demo import start_demo
from stores.sqlite.database import SqliteDatabase
from tests.assistant.test_outbox import FakeTarget, drain, make_bundle, make_case, wire
from tests.bot.test_turn_retry import QUESTION, _OtherInstance

REPO = Path(__file__).resolve().parents[2]
SECRET = "Hunter2-Zq81xVw"  # what a user pasted: it must reach no span and no metric
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
DELTA = {
    kind: AggregationTemporality.DELTA for kind in (Counter, UpDownCounter, Histogram, ObservableGauge)
}  # fmt: skip


@dataclass
class Recorded:
    """What the installed providers recorded since `reset()`."""

    spans: InMemorySpanExporter
    reader: InMemoryMetricReader

    def reset(self) -> None:
        self.spans.clear()
        self.reader.get_metrics_data()  # delta temporality: collecting starts afresh

    def finished(self, name: str | None = None) -> list[ReadableSpan]:
        return [span for span in self.spans.get_finished_spans() if name is None or span.name == name]

    def metrics(self) -> tuple[dict[str, list[tuple[dict[str, Any], Any]]], str]:
        """Each metric's points (attributes, point) since the last call, and all of it as JSON."""
        data = self.reader.get_metrics_data()
        points: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        points.setdefault(metric.name, []).append((dict(point.attributes or {}), point))
        return points, data.to_json() if data else ""


def total(points: list[tuple[dict[str, Any], Any]], **match: Any) -> float:
    """The sum of the counter points (or the count of the histogram points) whose attributes include `match`."""
    wanted = [point for attributes, point in points if all(attributes.get(k) == v for k, v in match.items())]
    return sum(getattr(point, "count", None) or getattr(point, "value", 0) for point in wanted)


@pytest.fixture(scope="module")
def installed() -> Iterator[Recorded]:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader(preferred_temporality=DELTA)
    telemetry = telemetry_export.build(spans, reader, batch=False)
    telemetry_export.install(telemetry)
    yield Recorded(spans, reader)
    telemetry_export.uninstrument()
    telemetry.tracer_provider.shutdown()  # later spans go nowhere


@pytest.fixture
def recorded(installed: Recorded) -> Recorded:
    installed.reset()
    return installed


def _message(text: str, service_url: str, conversation: str = "conv/telemetry") -> dict[str, Any]:
    return {
        "type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": service_url,
        "conversation": {"id": conversation}, "from": {"id": "user-1", "name": "Ada"},
        "recipient": {"id": "bot-1"}, "locale": "en-US", "text": text,
    }  # fmt: skip


async def test_a_turn_over_http_has_its_spans_and_metrics(
    recorded, aiohttp_client, settings, knowledge, fake_connector
):
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    resp = await client.post("/api/messages", json=_message("Solution ID is required", fake_connector.url))
    assert resp.status in (200, 201)

    [server] = [s for s in recorded.finished("POST /api/messages")]
    [turn] = recorded.finished("cosell.turn")
    [verdict] = recorded.finished("cosell.match")
    assert turn.parent is not None and turn.parent.span_id == server.context.span_id
    assert verdict.parent is not None and verdict.parent.span_id == turn.context.span_id
    assert dict(turn.attributes or {}) == {
        "cosell.channel": "msteams",
        "cosell.activity.type": "message",
        "cosell.conversation.id": "conv/telemetry",
        "cosell.turn.attempts": 1,
        "cosell.outcome": "ok",
    }
    match = dict(verdict.attributes or {})
    assert match["cosell.match.kind"] == "answer" and match["cosell.match.entry"]
    assert match["cosell.match.via"] in ("fingerprint", "fuzzy", "learned")
    assert 0 < match["cosell.match.confidence"] <= 1
    replies = [s for s in recorded.finished() if s.parent and s.parent.span_id == turn.context.span_id]
    assert any(s.kind.name == "CLIENT" for s in replies), "the reply POST to the Bot Connector is a child of the turn"

    points, _ = recorded.metrics()
    assert total(points["cosell.turns"], **{"cosell.channel": "msteams", "cosell.outcome": "ok"}) == 1
    assert total(points["cosell.turn.duration"], **{"cosell.outcome": "ok"}) == 1
    assert total(points["cosell.match.verdicts"], **{"cosell.match.kind": "answer"}) == 1
    assert total(points["http.server.duration"]) >= 1  # the aiohttp server instrumentation's own


async def test_no_user_text_nor_query_in_spans_or_metrics(
    recorded, aiohttp_client, settings, knowledge, fake_connector
):
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    text = f"my password is {SECRET} and my GitHub token {TOKEN}, why does the referral not sync?"
    assert (await client.post("/api/messages", json=_message(text, fake_connector.url))).status in (200, 201)
    assert fake_connector.calls  # answered
    await client.get(f"/healthz?t={TOKEN}&note={SECRET}")  # a query string, as a Direct Line stream URL carries

    spans = recorded.finished()
    assert {"cosell.turn", "cosell.match", "GET /healthz"} <= {s.name for s in spans}
    _, metrics_json = recorded.metrics()
    exported = "\n".join(span.to_json() for span in spans) + metrics_json
    assert SECRET not in exported and TOKEN not in exported
    [health] = recorded.finished("GET /healthz")
    assert dict(health.attributes or {})["http.url"].endswith("/healthz")  # the query cut


async def test_a_retried_turn_counts_its_attempts(recorded, settings) -> None:  # type: ignore[no-untyped-def]
    assistant = build_assistant(settings)
    talk = LocalConversation(assistant)
    await talk.say("hello")
    _OtherInstance(assistant.storage.store, 1)
    await talk.say(QUESTION)
    _OtherInstance(assistant.storage.store, 10)
    await talk.say(QUESTION)
    await assistant.close()

    outcomes = [(s.attributes or {}).get("cosell.outcome") for s in recorded.finished("cosell.turn")]
    attempts = [(s.attributes or {}).get("cosell.turn.attempts") for s in recorded.finished("cosell.turn")]
    assert outcomes == ["ok", "ok", "conflict"] and attempts == [1, 2, 3]
    points, _ = recorded.metrics()
    assert total(points["cosell.turns"], **{"cosell.outcome": "conflict"}) == 1


async def test_a_sweep_against_the_simulated_tenant_counts_calls_latency_and_throttles(recorded, make_settings) -> None:  # type: ignore[no-untyped-def]
    for scenario in ("healthy", "throttled"):
        running = await start_demo(make_settings(), scenario)
        database = SqliteDatabase(running.settings.database_path)
        live = build_live_checks(running.settings, database)
        try:
            sweep = await live.sweep(inputs={"referral_id": "c5fb0000-0000-4000-8000-000000000001"})
            points, _ = recorded.metrics()
        finally:
            await live.close()
            database.close()
            await running.stop()
        calls = points["cosell.live.calls"]
        assert total(calls) == sweep.api_calls > 0
        assert total(points["cosell.live.call.duration"]) == sweep.api_calls
        assert {attributes["cosell.system"] for attributes, _ in calls} >= {"partner_center", "dataverse"}
        throttled = total(points.get("cosell.live.throttles", []))
        circuits = {a["cosell.system"]: p.value for a, p in points["cosell.live.circuit.state"] if p.value}
        if scenario == "healthy":
            assert throttled == 0 and total(calls, **{"cosell.outcome": "200"}) == sweep.api_calls and not circuits
        else:
            assert throttled == total(calls, **{"cosell.outcome": "429"}) > sweep.api_calls / 2  # not Graph, Salesforce
            assert 2 in circuits.values(), "a system that kept throttling has its circuit open"

    [healthy, _throttled] = recorded.finished("cosell.live.sweep")
    checks = [s for s in recorded.finished("cosell.live.check") if s.parent.span_id == healthy.context.span_id]
    assert checks and all((s.attributes or {})["cosell.check.status"] for s in checks)
    http = [s for s in recorded.finished() if s.kind.name == "CLIENT" and s.parent in [c.context for c in checks]]
    assert http, "the httpx instrumentation's spans sit under the checks"
    assert all("?" not in str((s.attributes or {}).get("http.url", "")) for s in http)
    assert any(e.name == "circuit opened" for s in recorded.finished("cosell.live.check") for e in s.events)


async def test_escalations_and_deliveries_are_counted(recorded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = SqliteDatabase(tmp_path / "cases.db")
    from stores.sql.cases import SqlCaseStore

    good, bad = FakeTarget("teams"), FakeTarget("webhook")
    bad.fail_always(RuntimeError(SECRET))
    desk, outbox = wire(SqlCaseStore(database), good, bad)
    await desk.open(make_case(), make_bundle())
    await drain(outbox)
    database.close()

    points, metrics_json = recorded.metrics()
    assert total(points["cosell.cases.opened"]) == 1
    assert total(points["cosell.outbox.delivered"], **{"cosell.target": "teams"}) == 1
    assert total(points["cosell.outbox.failed"], **{"cosell.target": "webhook", "cosell.retry": True}) == 1
    assert total(points["cosell.outbox.delivery.duration"], **{"cosell.target": "teams"}) == 1
    deliveries = {(s.attributes or {})["cosell.target"]: s for s in recorded.finished("cosell.outbox.deliver")}
    assert (deliveries["teams"].attributes or {})["cosell.outcome"] == "delivered"
    assert (deliveries["webhook"].attributes or {})["cosell.outcome"] == "retrying"
    assert SECRET not in metrics_json + "".join(s.to_json() for s in recorded.finished())


def test_channels_and_activity_types_are_bounded() -> None:
    assert known_channel("msteams") == "msteams" and known_channel(None) == "other"
    assert known_channel("x" * 500) == "other"
    assert known_activity_type("invoke") == "invoke" and known_activity_type("my secret text") == "other"


def test_with_a_connection_string_the_azure_monitor_exporters_are_configured(make_settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter, AzureMonitorTraceExporter
    from opentelemetry import trace

    for switch in ("STATSBEAT_DISABLED_ALL", "CONTROLPLANE_DISABLED", "SDKSTATS_DISABLED"):
        monkeypatch.setenv(f"APPLICATIONINSIGHTS_{switch}", "true")  # the exporter's own calls home, off here
    key = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    connection = f"InstrumentationKey={key};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"
    settings = make_settings(applicationinsights_connection_string=connection, telemetry_sample_ratio=0.25)
    assert key not in repr(settings)
    before = trace.get_tracer_provider()

    built = telemetry_export.azure_monitor(settings, disable_offline_storage=True)
    try:
        assert isinstance(built.span_exporter, AzureMonitorTraceExporter)
        assert built.span_exporter._instrumentation_key == key  # noqa: SLF001  # nothing public says where it goes
        assert isinstance(built.metric_reader._exporter, AzureMonitorMetricExporter)  # noqa: SLF001
        assert built.endpoint == "westeurope-5.in.applicationinsights.azure.com"
        assert built.tracer_provider.sampler.get_description() == "ApplicationInsightsSampler0.25"
        resource = built.tracer_provider.resource.attributes
        assert resource["service.name"] == "cosell-connectors-assistant" and resource["service.version"]
        assert trace.get_tracer_provider() is before, "building installs nothing"
    finally:
        built.shutdown()  # nothing was recorded on these providers: nothing is sent


def test_a_connection_string_must_name_an_instrumentation_key(make_settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="Application Insights connection string"):
        make_settings(applicationinsights_connection_string="https://example.invalid/")
    assert telemetry_export.ingestion_host("InstrumentationKey=x") == "dc.services.visualstudio.com"


_WITHOUT = """
import asyncio, json, logging, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.name)
logging.basicConfig(level=logging.DEBUG, handlers=[Keep()], force=True)
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
original = web.Application
from opentelemetry import metrics, trace
from bot.app import create_app
from bot.settings import Settings
from bot.telemetry import active, start_telemetry
settings = Settings(_env_file=None, database_path=sys.argv[1])
started = start_telemetry(settings)
async def turn():
    async with TestClient(TestServer(create_app(settings))) as client:
        body = {"type": "message", "id": "a1", "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9",
                "conversation": {"id": "c1"}, "from": {"id": "u1"}, "recipient": {"id": "b1"},
                "deliveryMode": "expectReplies", "text": "Solution ID is required"}
        return (await client.post("/api/messages", json=body)).status
status = asyncio.run(turn())
print(json.dumps({
    "started": started is not None, "status": status, "active": active(),
    "providers": [type(trace.get_tracer_provider()).__name__, type(metrics.get_meter_provider()).__name__],
    "imported": sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.instrumentation",
                                                                 "azure.monitor"))),
    "patched": web.Application is not original,
    "logged": sorted({n for n in records if n.startswith(("opentelemetry", "azure", "bot.telemetry"))}),
}))
"""


def test_without_a_connection_string_nothing_is_set_up_exported_or_logged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    unset = ("COSELL_", "MICROSOFTAPP", "APPLICATIONINSIGHTS")
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith(unset)}
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT, str(tmp_path / "bot.db")],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "started": False, "status": 200, "active": False, "providers": ["ProxyTracerProvider", "_ProxyMeterProvider"],
        "imported": [], "patched": False, "logged": [],
    }  # fmt: skip
    assert not done.stderr.strip()


async def test_a_traced_turn_leaves_no_cyclic_garbage(recorded, settings, knowledge) -> None:  # type: ignore[no-untyped-def]
    """As tests/bot/sdk/test_turn_context.py asks of a turn without telemetry: `serve` raises the collector's
    threshold (`tune_gc_for_serving`), so a turn must leave nothing for it with telemetry on too."""
    assistant = build_assistant(settings, knowledge=knowledge)
    chat = LocalConversation(assistant, locale="en-US")
    try:
        await chat.say("Solution ID is required")
        gc.collect()
        gc.disable()
        try:
            outcome = await chat.say("none of the co-sell flows turn on after importing the solution")
            del outcome
            leftover = gc.collect()
        finally:
            gc.enable()
    finally:
        await assistant.close()
    assert recorded.finished("cosell.turn") and leftover == 0
