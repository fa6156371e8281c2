"""CheckRunner: concurrency, timeouts, deadline, credentials, circuit breaker, cache, budget, order."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import pytest

from tenant.base import (
    Check,
    CheckContext,
    CheckResult,
    CredentialMissing,
    LiveCheckFailed,
    LiveCheckUnavailable,
    Status,
    System,
)
from tenant.clients.transport import make_http_client, send
from tenant.runner import CheckRunner

PC, DV, SF = System.partner_center, System.dataverse, System.salesforce


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeCounter:
    def __init__(self, today: dict[System, int] | None = None) -> None:
        self.calls: Counter[System] = Counter(today or {})

    async def add(self, system: System, calls: int = 1) -> None:
        self.calls[system] += calls

    async def today(self, system: System) -> int:
        return self.calls[system]


Body = Callable[[CheckContext], Awaitable[None]]


class Probe:
    """A check body that records its calls and then does `body` (default: nothing) before passing."""

    def __init__(self, body: Body | None = None) -> None:
        self.calls = 0
        self.contexts: list[CheckContext] = []
        self._body = body

    async def __call__(self, ctx: CheckContext, *, check_id: str, system: System) -> CheckResult:
        self.calls += 1
        self.contexts.append(ctx)
        if self._body is not None:
            await self._body(ctx)
        return CheckResult(id=check_id, title=check_id, system=system, status=Status.passed, summary="ok")


def make_check(check_id: str, probe: Probe, *, systems: Sequence[System] = (PC,), **fields: Any) -> Check:
    async def run(ctx: CheckContext) -> CheckResult:
        return await probe(ctx, check_id=check_id, system=systems[0])

    return Check(id=check_id, title=f"Check {check_id}", systems=tuple(systems), run=run, **fields)


def raising(exc: BaseException) -> Body:
    async def body(ctx: CheckContext) -> None:
        raise exc

    return body


def sleeping(seconds: float) -> Body:
    async def body(ctx: CheckContext) -> None:
        await asyncio.sleep(seconds)

    return body


def runner(checks: Sequence[Check], **overrides: Any) -> CheckRunner:
    options: dict[str, Any] = {
        "clients": {PC: "pc-client", DV: "dv-client", SF: "sf-client"},
        "credentials": {"partner_center", "dataverse", "salesforce"},
        "counter": None,
    }
    options.update(overrides)
    return CheckRunner(checks, **options)


def by_id(results: Sequence[CheckResult]) -> dict[str, CheckResult]:
    return {r.id: r for r in results}


async def test_checks_run_concurrently_and_results_keep_declaration_order() -> None:
    n = 6
    started = 0
    all_started = asyncio.Event()

    async def rendezvous(ctx: CheckContext) -> None:
        nonlocal started
        started += 1
        if started == n:
            all_started.set()
        await all_started.wait()  # serial execution would never get past this: each check would time out
        await asyncio.sleep(0.05 if started % 2 else 0.01)

    probe = Probe(rendezvous)
    checks = [make_check(f"c{i}", probe) for i in range(n)]
    begin = time.monotonic()
    sweep = await runner(checks, per_check_timeout=2.0, deadline=3.0).run()
    assert time.monotonic() - begin < 1.0  # about max(0.05), nowhere near n timeouts
    assert [r.id for r in sweep.results] == [f"c{i}" for i in range(n)]
    assert all(r.status is Status.passed for r in sweep.results)
    assert all(r.elapsed_ms > 0 for r in sweep.results)


async def test_declaration_order_even_when_ids_are_given_in_another_order() -> None:
    checks = [make_check(c, Probe()) for c in ("a", "b", "c")]
    sweep = await runner(checks).run(ids=["c", "a", "zzz"])
    assert [r.id for r in sweep.results] == ["a", "c"]
    assert sweep.warnings == ["Unknown check id 'zzz' ignored."]


async def test_area_selects_checks() -> None:
    checks = [make_check("a", Probe(), area="prerequisites"), make_check("b", Probe(), area="configuration")]
    sweep = await runner(checks).run(area="configuration")
    assert [r.id for r in sweep.results] == ["b"]


async def test_context_gets_only_declared_clients_and_the_inputs() -> None:
    probe = Probe()
    await runner([make_check("a", probe, systems=(DV,))]).run(inputs={"opportunity": "OPP-1"})
    ctx = probe.contexts[0]
    assert dict(ctx.clients) == {DV: "dv-client"}
    assert dict(ctx.inputs) == {"opportunity": "OPP-1"}


async def test_per_check_timeout_cancels_only_the_slow_check() -> None:
    cancelled = asyncio.Event()

    async def hang(ctx: CheckContext) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    checks = [make_check("slow", Probe(hang)), make_check("fast", Probe(), systems=(DV,))]
    sweep = await runner(checks, per_check_timeout=0.05, deadline=5.0).run()
    results = by_id(sweep.results)
    assert results["slow"].status is Status.error
    assert results["slow"].summary == "timed out after 0.05 s"
    assert results["fast"].status is Status.passed
    assert cancelled.is_set()


async def test_sweep_deadline_cancels_late_checks() -> None:
    checks = [make_check("late", Probe(sleeping(30))), make_check("quick", Probe(), systems=(DV,))]
    begin = time.monotonic()
    sweep = await runner(checks, per_check_timeout=20.0, deadline=0.1).run()
    assert time.monotonic() - begin < 5.0
    results = by_id(sweep.results)
    assert results["late"].status is Status.error
    assert results["late"].summary == "timed out after 0.1 s"
    assert results["quick"].status is Status.passed


async def test_missing_credential_skips_without_calling() -> None:
    probe = Probe()
    checks = [make_check("sf", probe, systems=(SF,), needs=("salesforce",)), make_check("pc", Probe())]
    sweep = await runner(checks, credentials={"partner_center"}).run()
    results = by_id(sweep.results)
    assert results["sf"].status is Status.skipped
    assert "salesforce" in results["sf"].summary
    assert results["sf"].system is SF
    assert results["pc"].status is Status.passed
    assert probe.calls == 0


async def test_credential_missing_raised_by_a_check_is_skipped_with_its_reason() -> None:
    probe = Probe(raising(CredentialMissing(SF, "No Salesforce connected app is configured.")))
    sweep = await runner([make_check("sf", probe, systems=(SF,))]).run()
    assert sweep.results[0].status is Status.skipped
    assert sweep.results[0].summary == "No Salesforce connected app is configured."


async def test_live_check_errors_become_plain_error_results() -> None:
    failed = LiveCheckFailed(PC, "Partner Center answered 403: the signed-in user lacks the Referrals admin role.")
    checks = [
        make_check("refused", Probe(raising(failed))),
        make_check("down", Probe(raising(LiveCheckUnavailable(DV, "Dataverse answered 503."))), systems=(DV,)),
    ]
    results = by_id((await runner(checks).run()).results)
    assert results["refused"].status is Status.error
    assert results["refused"].summary == str(failed)
    assert results["down"].summary == "Dataverse answered 503."
    assert results["down"].system is DV


async def test_unexpected_exception_is_a_plain_error_and_logged_with_the_id_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    probe = Probe(raising(ValueError("mario.rossi@contoso.com")))
    sweep = await runner([make_check("boom", probe)]).run()
    assert sweep.results[0].status is Status.error
    assert sweep.results[0].summary == "unexpected error in check boom"
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert record.getMessage() == "unexpected error in check boom"


async def test_circuit_opens_after_three_unavailable_and_half_opens_after_cooldown() -> None:
    clock = FakeClock()
    down = LiveCheckUnavailable(PC, "Partner Center did not answer in time.")
    state = {"fail": True}

    async def flaky(ctx: CheckContext) -> None:
        if state["fail"]:
            raise down

    probe, other = Probe(flaky), Probe()
    checks = [make_check("pc", probe), make_check("dv", other, systems=(DV,))]
    run = runner(checks, clock=clock, breaker_threshold=3, breaker_cooldown=60.0)
    for _ in range(3):
        assert (await run.run()).results[0].summary == str(down)
    assert probe.calls == 3

    clock.now += 10
    results = by_id((await run.run(refresh=True)).results)
    assert results["pc"].status is Status.error
    assert results["pc"].summary == "Partner Center is not answering; not retried for 50 s."
    assert probe.calls == 3  # short-circuited: no call spent
    assert other.calls == 2  # other systems are unaffected

    clock.now += 51  # cooldown over: half-open, one more failure reopens at once
    assert (await run.run()).results[0].summary == str(down)
    assert probe.calls == 4
    assert "not answering" in (await run.run()).results[0].summary
    assert probe.calls == 4

    clock.now += 61
    state["fail"] = False
    assert (await run.run()).results[0].status is Status.passed  # success closes the circuit
    state["fail"] = True
    clock.now += 1000  # past the cache
    for _ in range(2):
        assert (await run.run()).results[0].summary == str(down)
    assert probe.calls == 7  # closed again: it takes three fresh failures to reopen


async def test_refusals_do_not_open_the_circuit() -> None:
    probe = Probe(raising(LiveCheckFailed(PC, "Partner Center answered 403.")))
    run = runner([make_check("pc", probe)], breaker_threshold=2)
    for _ in range(4):
        await run.run()
    assert probe.calls == 4


async def test_results_are_cached_per_tenant_and_inputs_until_ttl_or_refresh() -> None:
    clock = FakeClock()
    probe = Probe()
    run = runner([make_check("pc", probe)], clock=clock, cache_ttl=300.0)
    first = await run.run(tenant="contoso", inputs={"id": "1"})
    second = await run.run(tenant="contoso", inputs={"id": "1"})
    assert probe.calls == 1
    assert second.results == first.results
    assert second.cached == ["pc"]
    assert first.cached == []

    await run.run(tenant="fabrikam", inputs={"id": "1"})
    await run.run(tenant="contoso", inputs={"id": "2"})
    assert probe.calls == 3
    await run.run(tenant="contoso", inputs={"id": "1"}, refresh=True)
    assert probe.calls == 4
    clock.now += 301
    await run.run(tenant="contoso", inputs={"id": "1"})
    assert probe.calls == 5


async def test_errors_are_not_cached() -> None:
    probe = Probe(raising(LiveCheckFailed(PC, "Partner Center answered 404.")))
    run = runner([make_check("pc", probe)])
    await run.run()
    await run.run()
    assert probe.calls == 2


async def test_budget_skips_checks_that_would_exceed_it_with_a_warning() -> None:
    counter = FakeCounter({PC: 9_990})
    big, small, dv = Probe(), Probe(), Probe()
    checks = [
        make_check("big", big, estimated_calls=20),
        make_check("small", small, estimated_calls=5),
        make_check("late", Probe(), estimated_calls=6),  # fits alone, not after "small"
        make_check("dv", dv, systems=(DV,), estimated_calls=20),
    ]
    sweep = await runner(checks, counter=counter, daily_budget=10_000).run()
    results = by_id(sweep.results)
    assert results["big"].status is Status.skipped
    assert results["late"].status is Status.skipped
    assert "10000" in results["big"].summary
    assert results["small"].status is Status.passed
    assert results["dv"].status is Status.passed
    assert big.calls == 0
    assert len(sweep.warnings) == 1
    assert "10000" in sweep.warnings[0]
    assert "Partner Center" in sweep.warnings[0]
    assert "big, late" in sweep.warnings[0]


async def test_api_calls_counts_this_sweeps_attempts_into_the_counter() -> None:
    replies = iter([httpx.Response(503), httpx.Response(200, json={})])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1.0/engagements/referrals":
            pytest.fail(f"unexpected outbound call: {request.method} {request.url.path}")
        return next(replies)

    async def no_wait(_delay: float) -> None:
        return None

    counter = FakeCounter({PC: 100})
    async with make_http_client("https://pc.example", transport=httpx.MockTransport(handler)) as http:

        async def call(ctx: CheckContext) -> None:
            await send(ctx.clients[PC], PC, "GET", "/v1.0/engagements/referrals", sleep=no_wait)

        sweep = await runner([make_check("pc", Probe(call))], clients={PC: http}, counter=counter).run()
    assert sweep.results[0].status is Status.passed
    assert sweep.api_calls == 2
    assert counter.calls[PC] == 102


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        runner([make_check("a", Probe()), make_check("a", Probe())])


async def test_runner_results_are_in_italian_too() -> None:
    """What the runner writes itself (skipped, timed out, unexpected error) carries Italian, under the check's
    Italian title; client errors keep their own Italian, else get an Italian lead before the English reason."""
    failed = LiveCheckFailed(PC, "Partner Center answered 403.")
    down = LiveCheckUnavailable(
        DV, "Dataverse did not answer in time.", message_it="Dataverse non ha risposto in tempo."
    )
    missing = CredentialMissing(SF, "no signed-in Salesforce account: run `cosell-bot login salesforce`.")
    checks = [
        make_check("sf", Probe(), systems=(SF,), needs=("salesforce",), title_it="Verifica sf"),
        make_check("slow", Probe(sleeping(30)), title_it="Verifica lenta"),
        make_check("boom", Probe(raising(ValueError("x"))), title_it="Verifica boom"),
        make_check("refused", Probe(raising(failed)), title_it="Verifica rifiutata"),
        make_check("down", Probe(raising(down)), systems=(DV,), title_it="Verifica giù"),
        make_check("login", Probe(raising(missing)), systems=(SF,), title_it="Verifica login"),
    ]
    sweep = await runner(checks, credentials={"partner_center", "dataverse"}, per_check_timeout=0.05).run()
    results = by_id(sweep.results)
    italian = {i: r.text("it") for i, r in results.items()}
    assert italian == {
        "sf": ("Verifica sf", "Nessuna credenziale configurata per salesforce: verifica saltata."),
        "slow": ("Verifica lenta", "nessuna risposta entro 0.05 s"),
        "boom": ("Verifica boom", "errore imprevisto nella verifica boom"),
        "refused": ("Verifica rifiutata", "Errore da Partner Center: Partner Center answered 403."),
        "down": ("Verifica giù", "Dataverse non ha risposto in tempo."),
        "login": ("Verifica login", f"Verifica saltata (Salesforce): {missing}"),
    }
    assert results["refused"].text("en") == ("Check refused", "Partner Center answered 403.")


async def test_open_circuit_and_budget_skips_are_in_italian_too() -> None:
    clock = FakeClock()
    down = Probe(raising(LiveCheckUnavailable(PC, "Partner Center did not answer in time.")))
    run = runner([make_check("pc", down)], clock=clock, breaker_threshold=1, breaker_cooldown=60.0)
    await run.run()
    clock.now += 10
    [short] = (await run.run(refresh=True)).results
    assert short.summary_it == "Partner Center non risponde; nessun nuovo tentativo per 50 s."

    counter = FakeCounter({PC: 9_990})
    sweep = await runner([make_check("big", Probe(), estimated_calls=20)], counter=counter, daily_budget=10_000).run()
    assert sweep.results[0].summary_it == (
        "Verifica saltata per restare entro il budget odierno di 10000 chiamate API per Partner Center."
    )
