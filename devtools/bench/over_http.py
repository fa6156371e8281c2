"""[http] `/api/messages` over HTTP: the assistant and three baselines (the botbuilder echo bot, the Microsoft 365
Agents SDK echo agent and a bare aiohttp handler, baselines.py), each in its own server process, replying to one fake
Bot Connector, under the same load at several concurrencies, in blocks alternating between the four."""

from __future__ import annotations

import asyncio
import gc
import itertools
import resource
import socket
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools.bench.baselines import agents_echo_app, bare_app
from devtools.bench.report import Row, latency_stats, turn_rows
from devtools.bench.turns import Case, build_host, in_child, locale_of, own_db

if TYPE_CHECKING:
    import aiohttp
    from aiohttp import web

    from bot.settings import Settings


async def _listen(app: web.Application, port: int = 0, **kwargs: Any) -> tuple[web.AppRunner, int]:
    from aiohttp import web

    runner = web.AppRunner(app, **kwargs)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, int(runner.addresses[0][1])


def serve(kind: str, settings: Settings, port: int) -> None:
    """Child entry: serve `kind` (`faq` the assistant, `echo` botbuilder's echo bot, `agents` the Agents SDK's echo
    agent, `bare` the bare aiohttp handler) on 127.0.0.1:`port`. GET /bench/control reports CPU time, POST stops."""
    from aiohttp import web

    async def main() -> None:
        stop = asyncio.Event()

        async def control(request: web.Request) -> web.Response:
            if request.method == "POST":
                stop.set()
            usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads, µs resolution (/proc/stat has ticks)
            return web.json_response({"cpu_s": usage.ru_utime + usage.ru_stime})

        if kind in ("faq", PG):
            gc.disable()  # as `cosell-bot serve` does, until tune_gc_for_serving
            from bot.app import create_app, tune_gc_for_serving
            from bot.telemetry import start_telemetry

            start_telemetry(settings)  # as `cosell-bot serve` does (nothing without a connection string)
            app = create_app(settings)
            tune_gc_for_serving()  # as `cosell-bot serve` does
        elif kind == "agents":
            app = agents_echo_app()
        elif kind == "bare":
            app = bare_app()
        else:
            host, app = build_host(kind, settings), web.Application()
            app.router.add_post("/api/messages", lambda request: host.adapter.process(request, host.bot))
            app.on_cleanup.append(lambda _: host.close())
        app.router.add_route("*", "/bench/control", control)
        runner, _ = await _listen(app, port)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())


def message(service_url: str, conversation: str, user: str, text: str, locale: str = "en-US") -> dict[str, Any]:
    """A Direct Line message activity for `/api/messages`, replies to go to `service_url` (normal delivery)."""
    return {"type": "message", "id": uuid.uuid4().hex, "channelId": "directline", "serviceUrl": service_url,
            "conversation": {"id": conversation}, "from": {"id": user}, "recipient": {"id": "cosell-bot"},
            "text": text, "locale": locale, "timestamp": datetime.now(UTC).isoformat()}  # fmt: skip


async def post(session: aiohttp.ClientSession, base: str, body: dict[str, Any]) -> None:
    """POST `body` to the server at `base`; raises unless it was accepted (a turn failing inside the bot still is)."""
    async with session.post(f"{base}/api/messages", json=body) as resp:
        await resp.read()
        if resp.status >= 300:
            raise RuntimeError(f"/api/messages answered HTTP {resp.status}: {await resp.text()}")


async def _load(session: aiohttp.ClientSession, base: str, service_url: str, cases: list[Case], conc: int, n: int,
                tag: str) -> tuple[list[float], float]:  # fmt: skip
    """`n` message turns (normal delivery) from `conc` workers, each in its own conversation."""
    latencies: list[float] = []
    counter = itertools.count()

    async def worker(w: int) -> None:
        while (i := next(counter)) < n:
            case = cases[i % len(cases)]
            body = message(service_url, f"{tag}-c{conc}-w{w}", f"user-{w}", case["text"], locale_of(case))
            start = time.perf_counter()
            await post(session, base, body)
            latencies.append(time.perf_counter() - start)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(conc)))
    return latencies, time.perf_counter() - t0


class Served:
    """A `serve` child on a free port, and an HTTP session to it (`started`/`stopped` around use)."""

    def __init__(self, kind: str, settings: Settings, limit: int) -> None:
        import aiohttp

        with socket.socket() as sock:  # a free port for the child, which cannot hand its own back while serving
            sock.bind(("127.0.0.1", 0))
            self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._child = asyncio.create_task(in_child(serve, kind, settings, int(self.base.rsplit(":", 1)[1])))
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))

    async def cpu(self, method: str = "GET") -> float:
        """The child's CPU seconds so far (POST also tells it to stop)."""
        async with self.session.request(method, f"{self.base}/bench/control") as resp:
            return float((await resp.json())["cpu_s"])

    async def started(self) -> Served:
        import aiohttp

        while True:  # until the child listens, or raises what stopped it
            try:
                await (self.cpu() if not self._child.done() else self._child)
                return self
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)

    async def stopped(self) -> None:
        try:
            if not self._child.done():
                await self.cpu("POST")
            await self._child
        finally:
            await self.session.close()


# the servers, in the order their blocks alternate, and the baselines' names in the rows; "faq-pg" is the assistant on
# a throwaway PostgreSQL server (devtools/pgserver.py), there when this machine has PostgreSQL's binaries
KINDS = ("faq", "echo", "agents", "bare")
PG = "faq-pg"
OTHER_BASELINES = {"agents": "Agents SDK echo", "bare": "bare aiohttp"}
AGENTS_TARGET = 0.5  # issue 15 §3: a FAQ turn over HTTP ≤ 0.5× the Agents SDK echo agent's CPU
PG_TARGET = 1.5  # issue 15 §3: on PostgreSQL ≤ 1.5× the SQLite turn


async def _blocks(servers: dict[str, Served], service_url: str, cases: list[Case], conc: int, n: int,
                  blocks: int) -> dict[str, dict[str, float]]:  # fmt: skip
    """`n` turns per server at `conc`, in `blocks` blocks alternating between the servers, so that a slow spell of
    a shared machine hits all alike. CPU per turn is the median block's; latency and throughput pool the blocks.
    Conversation ids start with the server's kind, so each one's replies can be told apart at the connector."""
    runs: dict[str, list[tuple[list[float], float, float]]] = {kind: [] for kind in servers}
    for b in range(blocks):
        for kind, server in servers.items():
            cpu0 = await server.cpu()
            latencies, wall = await _load(server.session, server.base, service_url, cases, conc, n // blocks,
                                          f"{kind}-b{b}")  # fmt: skip
            runs[kind].append((latencies, wall, await server.cpu() - cpu0))
    out = {}
    for kind, done in runs.items():
        pooled = [x for latencies, _, _ in done for x in latencies]
        stats = latency_stats(pooled, sum(wall for _, wall, _ in done), 0.0)
        stats["cpu"] = statistics.median(cpu * 1000 / len(latencies) for latencies, _, cpu in done)
        out[kind] = stats
    return out


def _rows(c: int, out: dict[str, dict[str, float]]) -> list[Row]:
    """At concurrency `c`: the assistant's latency, throughput and CPU against the botbuilder echo bot, then its p50
    and CPU per turn against the Agents SDK echo agent (target: half its CPU) and the bare aiohttp handler."""
    faq, rows = out["faq"], turn_rows("http", f"concurrency {c}", out["faq"], out["echo"], saturated=c >= 16)
    for kind, name in OTHER_BASELINES.items():
        base = out[kind]
        rows += [
            Row("http", f"concurrency {c} p50 vs {name}", "ms", faq["p50"], base["p50"]),
            Row("http", f"concurrency {c} CPU per turn vs {name}", "ms", faq["cpu"], base["cpu"],
                AGENTS_TARGET * base["cpu"] if kind == "agents" else None),
        ]  # fmt: skip
    if (pg := out.get(PG)) is not None:
        note = "the assistant on PostgreSQL vs on SQLite: the bot process's CPU (the database server's is its own)"
        rows += [
            Row("http", f"concurrency {c} p50 on PostgreSQL", "ms", pg["p50"], faq["p50"]),
            Row("http", f"concurrency {c} CPU per turn on PostgreSQL", "ms", pg["cpu"], faq["cpu"],
                PG_TARGET * faq["cpu"], note=note),
        ]  # fmt: skip
    return rows


async def bench_http(settings: Settings, tmp: Path, cases: list[Case], quick: bool) -> list[Row]:
    """The assistant and the three baselines, each in its own server process, replying to a fake Bot Connector."""
    from pydantic import SecretStr

    from devtools import pgserver
    from devtools.fake_connector import FakeConnector

    levels, n, blocks = ((1, 4), 50, 1) if quick else ((1, 16, 64), 1200, 4)
    connector = await FakeConnector().start()
    postgres = pgserver.PostgresServer().start() if pgserver.available() else None
    kinds = (*KINDS, PG) if postgres is not None else KINDS
    url, servers, out = connector.url, {}, {}
    try:
        for kind in kinds:
            own = own_db(settings, tmp / f"http-{kind}.db")
            if kind == PG and postgres is not None:
                own = own.model_copy(update={"database_url": SecretStr(postgres.fresh())})
            servers[kind] = Served(kind, own, max(levels))
        for kind, server in servers.items():
            await server.started()
            warm = max(n // 4, 2 * max(levels))
            await _load(server.session, server.base, url, cases, max(levels), warm, f"{kind}-warm")
        for conc in levels:
            out[conc] = await _blocks(servers, url, cases, conc, n, blocks)
    finally:  # every child stopped and awaited, even when one of them failed
        stops = await asyncio.gather(*(server.stopped() for server in servers.values()), return_exceptions=True)
        await connector.stop()
        if postgres is not None:
            postgres.stop()
        if failed := next((e for e in stops if isinstance(e, BaseException)), None):
            raise failed
    turns = len(levels) * (n // blocks) * blocks
    for kind in kinds:  # a turn failing inside a bot still answers 2xx: count what reached the connector
        replies = sum(c.status == 200 and (c.conversation_id or "").startswith(f"{kind}-b") for c in connector.calls)
        if replies < turns:
            raise RuntimeError(f"the fake connector got {replies} replies from {kind!r} for {turns} turns")
    return [r for c in levels for r in _rows(c, out[c])]
