"""Runs the live checks of a topic: concurrently, with timeouts, circuit breakers, a result cache and a call budget.

`CheckRunner.run()` never raises for a check's failure: every selected check ends as one `CheckResult`
(skipped, error, or what the check itself found), so a dialog can always show the whole sweep.
After a change to the tenant (a remediation), `affected()` names the checks whose results it may have changed and
`invalidate()` drops their cached results, so the next run reads the tenant again.
Telemetry (`tenant.telemetry`): a span per sweep and per check run, circuit changes as events, circuits on a gauge.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from knowledge.messages import Bilingual
from tenant.base import (
    CallCounter,
    Check,
    CheckResult,
    CredentialMissing,
    LiveCheckError,
    LiveCheckFailed,
    LiveCheckUnavailable,
    Status,
    System,
)
from tenant.calls import count_calls, system_name
from tenant.telemetry import Circuit, circuit_changed, describe_check, describe_sweep, tracer, watch_circuits
from tenant.texts import said

log = logging.getLogger(__name__)

Clock = Callable[[], float]
_CacheKey = tuple[str, str, frozenset[tuple[str, str]]]


class Sweep(BaseModel):
    """The outcome of one `CheckRunner.run()`."""

    model_config = ConfigDict(frozen=True)

    results: list[CheckResult]  # in the checks' declaration order
    elapsed_ms: float
    api_calls: int  # attempts sent during this sweep (retries included)
    warnings: list[str] = Field(default_factory=list)
    cached: list[str] = Field(default_factory=list)  # ids of results served from the cache


@dataclass(frozen=True)
class _Context:
    """The `CheckContext` a check receives: only the clients of the systems it declared."""

    clients: Mapping[System, Any]
    inputs: Mapping[str, str]


@dataclass
class _Breaker:
    failures: int = 0
    opened_at: float | None = None


class CheckRunner:
    """Runs checks against one deployment's systems; one instance per app (it holds the cache and breakers)."""

    def __init__(
        self,
        checks: Sequence[Check],
        *,
        clients: Mapping[System, Any],
        credentials: set[str],
        counter: CallCounter | None,
        per_check_timeout: float = 4.0,
        deadline: float = 8.0,
        cache_ttl: float = 300.0,
        breaker_threshold: int = 3,
        breaker_cooldown: float = 60.0,
        daily_budget: int | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        ids = [check.id for check in checks]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate check ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        if empty := [check.id for check in checks if not check.systems]:
            raise ValueError(f"checks declare no system: {empty}")
        self._checks = tuple(checks)
        self._clients = dict(clients)
        self._credentials = frozenset(credentials)
        self._counter = counter
        self._per_check_timeout = per_check_timeout
        self._deadline = deadline
        self._cache_ttl = cache_ttl
        self._breaker_threshold = breaker_threshold
        self._breaker_cooldown = breaker_cooldown
        self._daily_budget = daily_budget
        self._clock = clock
        self._cache: dict[_CacheKey, tuple[float, CheckResult]] = {}
        self._breakers: dict[System, _Breaker] = {}
        watch_circuits(self)

    async def run(
        self,
        *,
        area: str | None = None,
        ids: Sequence[str] | None = None,
        tenant: str = "default",
        inputs: Mapping[str, str] | None = None,
        refresh: bool = False,
    ) -> Sweep:
        """Run the checks of `area` (or with `ids`; all when neither is given) for `tenant`."""
        started = self._clock()
        given = dict(inputs or {})
        frozen = frozenset(given.items())
        with tracer.start_as_current_span("cosell.live.sweep", record_exception=False) as span:
            selected, warnings = self._select(area, ids)
            results, cached, todo = self._triage(selected, (tenant, frozen), refresh)
            todo, over_budget, budget_warnings = await self._apply_budget(todo)
            results.update(over_budget)
            warnings.extend(budget_warnings)
            with count_calls(self._counter) as tally:
                results.update(await self._run_all(todo, given, tenant, frozen))
            calls = tally.total
            describe_sweep(span, area=area, checks=len(selected), ran=len(todo), cached=len(cached), api_calls=calls)
        return Sweep(
            results=[results[check.id] for check in selected],
            elapsed_ms=(self._clock() - started) * 1000,
            api_calls=calls,
            warnings=warnings,
            cached=cached,
        )

    def circuits(self) -> dict[System, Circuit]:
        """The circuit of every configured system (the telemetry gauge reads it, from another thread: copies)."""
        breakers, now = dict(self._breakers), self._clock()
        states = dict.fromkeys(list(self._clients), Circuit.closed)
        for system, breaker in breakers.items():
            if system in states and breaker.opened_at is not None:
                cooling = breaker.opened_at + self._breaker_cooldown > now
                states[system] = Circuit.open if cooling else Circuit.half_open
        return states

    def invalidate(self, ids: Iterable[str]) -> int:
        """Drop the cached results of the checks `ids`, for every tenant and inputs; return how many were dropped."""
        wanted = set(ids)
        stale = [key for key in self._cache if key[1] in wanted]
        for key in stale:
            del self._cache[key]
        return len(stale)

    def affected(
        self,
        check_id: str,
        *,
        system: System | None = None,
        entries: Iterable[str] = (),
        action: str | None = None,
    ) -> list[str]:
        """Ids of the checks whose results a change made to fix `check_id`'s finding may have changed, in
        declaration order.

        From the declarations and the cache, not a hand list: `check_id` itself; the checks declaring the same
        `systems` (they read the same data the same way, e.g. connector-flows and flow-activation-order); and, among
        the checks that call `system` (the finding's system, else the systems `check_id` declares), those diagnosing
        one of `entries` (the finding's FAQ entries) or whose cached result offers the same fix `action`.
        """
        origin = next((check for check in self._checks if check.id == check_id), None)
        touched = {system} if system is not None else set(origin.systems if origin is not None else ())
        wanted = set(entries)
        offering = {key[1] for key, (_expires, result) in self._cache.items() if action and _offers(result, action)}
        picked: list[str] = []
        for check in self._checks:
            same_source = origin is not None and check.systems == origin.systems
            related = bool(wanted.intersection(check.entries)) or check.id in offering
            if check.id == check_id or same_source or (related and touched.intersection(check.systems)):
                picked.append(check.id)
        return picked

    def _select(self, area: str | None, ids: Sequence[str] | None) -> tuple[list[Check], list[str]]:
        warnings: list[str] = []
        selected = [check for check in self._checks if area is None or check.area == area]
        if ids is not None:
            known = {check.id for check in self._checks}
            warnings.extend(f"Unknown check id {unknown!r} ignored." for unknown in ids if unknown not in known)
            wanted = set(ids)
            selected = [check for check in selected if check.id in wanted]
        return selected, warnings

    def _triage(
        self, selected: list[Check], scope: tuple[str, frozenset[tuple[str, str]]], refresh: bool
    ) -> tuple[dict[str, CheckResult], list[str], list[Check]]:
        """Answer what needs no call (missing credential, cache hit, open circuit); return the rest to run."""
        self._prune_cache()
        results: dict[str, CheckResult] = {}
        cached: list[str] = []
        todo: list[Check] = []
        for check in selected:
            hit = None if refresh else self._cache_get((scope[0], check.id, scope[1]))
            if missing := [name for name in check.needs if name not in self._credentials]:
                results[check.id] = _result(check, Status.skipped, said("no-credential", names=missing))
            elif hit is not None:
                results[check.id] = hit
                cached.append(check.id)
            elif (short := self._short_circuit(check)) is not None:
                results[check.id] = short
            else:
                todo.append(check)
        return results, cached, todo

    def _short_circuit(self, check: Check) -> CheckResult | None:
        """An error result if any system of `check` has an open circuit."""
        for system in check.systems:
            remaining = self._open_for(system)
            if remaining is not None:
                text = said("circuit-open", system=system_name(system), seconds=math.ceil(remaining))
                return _result(check, Status.error, text, system=system)
        return None

    async def _apply_budget(self, checks: list[Check]) -> tuple[list[Check], dict[str, CheckResult], list[str]]:
        """Skip, in declaration order, the checks that would take a system past today's call budget."""
        budget = self._daily_budget
        if budget is None:
            return checks, {}, []
        planned: dict[System, int] = {}
        keep: list[Check] = []
        skipped: dict[str, CheckResult] = {}
        over: dict[System, list[str]] = {}
        for check in checks:
            for system in check.systems:
                if system not in planned:
                    planned[system] = await self._counter.today(system) if self._counter is not None else 0
            blocked = [s for s in check.systems if planned[s] + check.estimated_calls > budget]
            if not blocked:
                keep.append(check)
                for system in check.systems:
                    planned[system] += check.estimated_calls
                continue
            text = said("over-budget", budget=budget, systems=[system_name(s) for s in blocked])
            skipped[check.id] = _result(check, Status.skipped, text, system=blocked[0])
            for system in blocked:
                over.setdefault(system, []).append(check.id)
        warnings = [
            f"{system_name(system)} would exceed today's budget of {budget} API calls "
            f"({await self._counter.today(system) if self._counter else 0} used): skipped {', '.join(ids)}."
            for system, ids in over.items()
        ]
        for warning in warnings:
            log.warning("%s", warning)
        return keep, skipped, warnings

    async def _run_all(
        self, checks: list[Check], inputs: dict[str, str], tenant: str, frozen: frozenset[tuple[str, str]]
    ) -> dict[str, CheckResult]:
        if not checks:
            return {}
        view = MappingProxyType(inputs)
        tasks = {check.id: asyncio.create_task(self._run_one(check, view)) for check in checks}
        _done, late = await asyncio.wait(tasks.values(), timeout=self._deadline)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        results: dict[str, CheckResult] = {}
        for check in checks:
            task = tasks[check.id]
            if task in late:
                self._failed(check.systems[0])
                results[check.id] = _timed_out(check, self._deadline)
                continue
            result, cacheable = task.result()
            results[check.id] = result
            if cacheable:
                self._cache[(tenant, check.id, frozen)] = (self._clock() + self._cache_ttl, result)
        return results

    async def _run_one(self, check: Check, inputs: Mapping[str, str]) -> tuple[CheckResult, bool]:
        """Run one check under its timeout, in its span; the flag says whether the result may be cached."""
        context = _Context({s: self._clients[s] for s in check.systems if s in self._clients}, inputs)
        started = self._clock()
        cacheable = False
        with tracer.start_as_current_span("cosell.live.check", record_exception=False) as span:
            try:
                async with asyncio.timeout(self._per_check_timeout):
                    result = await check.run(context)
                cacheable = True
                for system in check.systems:
                    self._succeeded(system)
            except TimeoutError:
                self._failed(check.systems[0])
                result = _timed_out(check, self._per_check_timeout)
            except LiveCheckError as exc:
                result = self._from_error(check, exc)
            except Exception:
                # the check id only: the exception text may carry data from the tenant
                log.exception("unexpected error in check %s", check.id)
                result = _result(check, Status.error, said("unexpected-error", check=check.id))
            elapsed_ms = (self._clock() - started) * 1000
            status = result.status.value
            describe_check(span, check_id=check.id, system=result.system, status=status, elapsed_ms=elapsed_ms)
        return result.model_copy(update={"elapsed_ms": elapsed_ms}), cacheable

    def _from_error(self, check: Check, exc: LiveCheckError) -> CheckResult:
        if isinstance(exc, CredentialMissing):
            return _result(check, Status.skipped, _said(exc), system=exc.system)
        if isinstance(exc, LiveCheckUnavailable):
            self._failed(exc.system)
        elif isinstance(exc, LiveCheckFailed):
            self._succeeded(exc.system)  # it answered: a refusal is a finding, not an outage
        log.info("check %s: %s error, status %s", check.id, exc.system, exc.status)
        return _result(check, Status.error, _said(exc), system=exc.system)

    def _open_for(self, system: System) -> float | None:
        """Seconds left before `system`'s open circuit lets calls through again (None: closed or half-open)."""
        breaker = self._breakers.get(system)
        if breaker is None or breaker.opened_at is None:
            return None
        remaining = breaker.opened_at + self._breaker_cooldown - self._clock()
        return remaining if remaining > 0 else None

    def _failed(self, system: System) -> None:
        breaker = self._breakers.setdefault(system, _Breaker())
        breaker.failures += 1
        if breaker.failures >= self._breaker_threshold:
            if breaker.opened_at is None or self._open_for(system) is None:
                log.warning("%s circuit open after %d failures", system, breaker.failures)
                circuit_changed(system, "opened", breaker.failures)
            breaker.opened_at = self._clock()

    def _succeeded(self, system: System) -> None:
        if self._breakers.pop(system, None) is not None:
            log.info("%s circuit closed", system)
            circuit_changed(system, "closed")

    def _cache_get(self, key: _CacheKey) -> CheckResult | None:
        entry = self._cache.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def _prune_cache(self) -> None:
        now = self._clock()
        for key in [key for key, (expires, _result) in self._cache.items() if expires <= now]:
            del self._cache[key]


def _result(check: Check, status: Status, summary: Bilingual, *, system: System | None = None) -> CheckResult:
    """A result the runner writes itself (skipped, error), in English and Italian."""
    return CheckResult(
        id=check.id,
        title=check.title,
        title_it=check.title_it,
        system=system or check.systems[0],
        status=status,
        summary=summary.en,
        summary_it=summary.it,
        entries=check.entries,
    )


def _offers(result: CheckResult, action: str) -> bool:
    """True when `result` is a failed finding whose fix is `action`."""
    return result.status is Status.fail and result.fix is not None and result.fix.action == action


def _said(exc: LiveCheckError) -> Bilingual:
    """The error in English and Italian: the raiser's own Italian message, else an Italian lead before the English
    one (Italian only, so not a message of the data: both languages of those name the same parameters)."""
    if exc.message_it:
        return Bilingual(str(exc), exc.message_it)
    if isinstance(exc, CredentialMissing):
        return Bilingual(str(exc), f"Verifica saltata ({system_name(exc.system)}): {exc}")
    return Bilingual(str(exc), f"Errore da {system_name(exc.system)}: {exc}")


def _timed_out(check: Check, seconds: float) -> CheckResult:
    result = _result(check, Status.error, said("timed-out", seconds=seconds))
    return result.model_copy(update={"elapsed_ms": seconds * 1000})
