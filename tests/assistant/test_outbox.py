"""Outbox (assistant/handoff/outbox.py) on the real SQLite case store, with fake targets: delivered once and settled
with the target's answer, the support thread kept, retries with backoff, giving up, failures that keep no user text,
restarts, two instances on one file, the worker loop (woken by the desk, polling, stopping, surviving the store)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.handoff import model as handoff_model
from assistant.handoff.bundle import BundleUser, CaseBundle
from assistant.handoff.desk import SupportDesk
from assistant.handoff.model import (
    HANDOFF_EVENT,
    TEAMS,
    USER,
    WEBHOOK,
    CaseEvent,
    DeliveryFailed,
    OutboxItem,
    SupportCase,
)
from assistant.handoff.outbox import BASE_DELAY, LEASE, MAX_ATTEMPTS, MAX_DELAY, Outbox, backoff
from assistant.ports import CaseConflict
from stores.sql.cases import SqlCaseStore
from stores.sqlite.database import SqliteDatabase

T0 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
USER_TEXT = "my password is Hunter2, call me on +39 333 1234567"


# --- fakes and fixtures -----------------------------------------------------------------------------------------------


@dataclass
class Call:
    target: str
    item: OutboxItem
    case: SupportCase
    bundle: dict[str, Any] | None


class FakeTarget:
    """A `DeliveryTarget` that records each call and answers `answer`; `fail(...)` queues exceptions raised by the
    next calls, `fail_always` raises on every call, `delay` makes each delivery slow (awaited, so others run)."""

    def __init__(
        self, name: str, *, answer: dict[str, Any] | None = None, delay: float = 0.0, calls: list[Call] | None = None
    ) -> None:
        self.name = name
        self.answer: Any = {"id": f"{name}-answer"} if answer is None else answer
        self.delay = delay
        self.calls: list[Call] = [] if calls is None else calls
        self._next: list[BaseException] = []
        self._always: BaseException | None = None
        self.called = asyncio.Event()  # set at each call

    def fail(self, *errors: BaseException) -> None:
        self._next.extend(errors)

    def fail_always(self, error: BaseException | None) -> None:
        self._always = error

    def mine(self) -> list[Call]:
        return [call for call in self.calls if call.target == self.name]

    async def deliver(self, item: OutboxItem, case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
        self.calls.append(Call(self.name, item, case, bundle))
        self.called.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._next:
            raise self._next.pop(0)
        if self._always is not None:
            raise self._always
        answer: dict[str, Any] = self.answer
        return answer


class Clock:
    """The escalation code's one clock (`assistant.handoff.model.utcnow`), moved by the test."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(handoff_model, "utcnow", frozen)
    return frozen


def make_case(ref: str = "CS-AAAAAA") -> SupportCase:
    now = handoff_model.utcnow()
    return SupportCase(
        ref=ref, created=now, updated=now, channel_id="msteams", conversation_id=f"a:{ref}", description=USER_TEXT
    )


def make_bundle(ref: str = "CS-AAAAAA") -> CaseBundle:
    return CaseBundle(
        ref=ref,
        created=T0,
        channel="msteams",
        conversation_id=f"a:{ref}",
        locale="en-US",
        user=BundleUser(name="Zoë"),
        description="my flows stopped",
        summary="my flows stopped",
    )


def wire(store: Any, *targets: FakeTarget, owner: str | None = None, **kwargs: Any) -> tuple[SupportDesk, Outbox]:
    """A desk with the targets' names enabled and the outbox delivering to them, as bot.wiring builds them."""
    desk = SupportDesk(store, [t.name for t in targets])
    return desk, Outbox(store, desk, {t.name: t for t in targets}, owner=owner, **kwargs)


async def only(store: SqlCaseStore, target: str, ref: str = "CS-AAAAAA") -> OutboxItem:
    [item] = [i for i in await store.deliveries(ref) if i.target == target]
    return item


async def drain(outbox: Outbox, limit: int = 20) -> int:
    tried = 0
    while n := await outbox.run_once(limit=limit):
        tried += n
    return tried


async def called(target: FakeTarget, times: int = 1) -> float:
    """Wait (at most 2 s) until `target` has been called `times` times; return how long it took."""
    start = time.monotonic()
    async with asyncio.timeout(2.0):
        while len(target.calls) < times:
            target.called.clear()
            await target.called.wait()
    return time.monotonic() - start


# --- delivered, once ------------------------------------------------------------------------------------------------


async def test_each_item_is_delivered_once_and_settled_with_the_answer(store: SqlCaseStore, clock: Clock) -> None:
    webhook, hub, user = FakeTarget(WEBHOOK, answer={"status": 202}), FakeTarget(HANDOFF_EVENT), FakeTarget(USER)
    desk, outbox = wire(store, webhook, hub, user)
    case = await desk.open(make_case(), make_bundle())
    clock.advance(1)

    assert await outbox.run_once() == 2
    assert await outbox.run_once() == 0

    for target in (webhook, hub):
        [call] = target.mine()
        assert call.case == case and call.item.payload == {"kind": "case.created"}
        assert call.bundle == make_bundle().to_json()  # the case's first delivery carries the bundle
        item = await only(store, target.name)
        assert (item.status, item.attempts, item.last_error, item.delivered_at) == ("delivered", 0, None, clock.now)
        assert item.detail == target.answer
    assert user.calls == []

    taken = await desk.take("CS-AAAAAA", "Grace")
    assert await drain(outbox) == 2
    [told] = user.mine()
    assert (told.item.payload, told.case, told.bundle) == ({"kind": "case.taken", "author": "Grace"}, taken, None)
    assert len(webhook.mine()) == 2 and len(hub.mine()) == 1
    assert all(i.status == "delivered" for i in await store.deliveries("CS-AAAAAA"))


async def test_only_the_json_safe_part_of_an_answer_is_kept(store: SqlCaseStore, clock: Clock) -> None:
    answer = {"status": 202, "ids": ["a", 1], "ok": True, "none": None, "when": T0, "raw": object()}
    webhook, silent = FakeTarget(WEBHOOK, answer=answer), FakeTarget(HANDOFF_EVENT)
    silent.answer = None  # a target that answers nothing still delivered
    desk, outbox = wire(store, webhook, silent)
    await desk.open(make_case(), make_bundle())

    await outbox.run_once()

    assert (await only(store, WEBHOOK)).detail == {"status": 202, "ids": ["a", 1], "ok": True, "none": None}
    done = await only(store, HANDOFF_EVENT)
    assert (done.status, done.detail) == ("delivered", {})


async def test_a_thread_in_the_answer_is_stored_with_the_case(store: SqlCaseStore, clock: Clock) -> None:
    thread = {"conversation": {"id": "19:abc@thread.tacv2;messageid=17"}, "card_id": "17"}
    teams = FakeTarget(TEAMS, answer={"thread": thread, "activity_id": "17"})
    desk, outbox = wire(store, teams)
    await desk.open(make_case(), make_bundle())

    await outbox.run_once()

    case = await store.get("CS-AAAAAA")
    assert case is not None and case.support_thread == thread
    assert await store.by_thread("19:abc@thread.tacv2") == case
    assert (await only(store, TEAMS)).detail == {"thread": thread, "activity_id": "17"}
    assert await store.events("CS-AAAAAA") == []  # bookkeeping, not something that happened to the case

    teams.answer = {"activity_id": "18"}
    await desk.user_message("CS-AAAAAA", "Zoë", "still broken")
    await outbox.run_once()
    assert teams.mine()[-1].case.support_thread == thread  # later deliveries see the thread


class StaleDeskStore:
    """The case store as the outbox's desk sees it when every update loses a race (or the store refuses writes)."""

    def __init__(self, store: SqlCaseStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def update(self, case: SupportCase, **kwargs: Any) -> CaseEvent | None:
        raise CaseConflict(case.ref)


async def test_a_posted_case_stays_delivered_when_its_thread_cannot_be_stored(
    store: SqlCaseStore, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    thread = {"conversation": {"id": "19:abc@thread.tacv2"}, "card_id": "17"}
    teams = FakeTarget(TEAMS, answer={"thread": thread})
    desk = SupportDesk(store, [TEAMS])
    await desk.open(make_case(), make_bundle())
    outbox = Outbox(store, SupportDesk(StaleDeskStore(store), [TEAMS]), {TEAMS: teams})  # type: ignore[arg-type]

    assert await outbox.run_once() == 1
    clock.advance(LEASE.total_seconds() * 2)
    assert await outbox.run_once() == 0

    assert len(teams.calls) == 1  # settled as delivered: never posted twice
    item = await only(store, TEAMS)
    assert (item.status, item.detail) == ("delivered", {"thread": thread})  # the thread is not lost
    assert "support thread could not be stored" in caplog.text


# --- failures -------------------------------------------------------------------------------------------------------


async def test_a_retryable_failure_is_tried_again_after_the_backoff(store: SqlCaseStore, clock: Clock) -> None:
    webhook = FakeTarget(WEBHOOK)
    webhook.fail(DeliveryFailed("webhook: HTTP 503"))
    desk, outbox = wire(store, webhook)
    await desk.open(make_case(), make_bundle())
    failed_at = clock.now

    assert await outbox.run_once() == 1

    item = await only(store, WEBHOOK)
    assert (item.status, item.attempts, item.last_error, item.delivered_at) == (
        "pending",
        1,
        "webhook: HTTP 503",
        None,
    )
    wait = (item.next_at - failed_at).total_seconds()
    assert BASE_DELAY * 0.8 <= wait <= BASE_DELAY * 1.2
    clock.advance(BASE_DELAY * 0.8 - 0.01)
    assert await outbox.run_once() == 0  # not due yet
    clock.now = item.next_at
    assert await outbox.run_once() == 1

    assert len(webhook.calls) == 2
    done = await only(store, WEBHOOK)
    assert (done.status, done.attempts, done.delivered_at, done.detail) == ("delivered", 1, clock.now, webhook.answer)


async def test_a_permanent_failure_gives_up_at_once_until_retried(store: SqlCaseStore, clock: Clock) -> None:
    webhook = FakeTarget(WEBHOOK)
    webhook.fail(DeliveryFailed("webhook: HTTP 400", retry=False))
    desk, outbox = wire(store, webhook)
    await desk.open(make_case(), make_bundle())

    await outbox.run_once()
    clock.advance(timedelta(days=1).total_seconds())
    assert await outbox.run_once() == 0

    item = await only(store, WEBHOOK)
    assert (item.status, item.attempts, item.last_error) == ("failed", 1, "webhook: HTTP 400")
    assert len(webhook.calls) == 1
    assert await store.retry("CS-AAAAAA", clock.now) == 1  # `cosell-bot cases retry`
    assert await outbox.run_once() == 1
    assert (await only(store, WEBHOOK)).status == "delivered" and len(webhook.calls) == 2


@pytest.mark.parametrize("max_attempts", [MAX_ATTEMPTS, 3, 1])
async def test_after_max_attempts_an_item_fails_for_good(store: SqlCaseStore, clock: Clock, max_attempts: int) -> None:
    webhook = FakeTarget(WEBHOOK)
    webhook.fail_always(DeliveryFailed("webhook: HTTP 502"))
    desk, outbox = wire(store, webhook, max_attempts=max_attempts)
    await desk.open(make_case(), make_bundle())
    waits = []

    for _ in range(max_attempts + 3):
        tried_at = clock.now
        await outbox.run_once()
        item = await only(store, WEBHOOK)
        if item.status == "pending":
            waits.append((item.next_at - tried_at).total_seconds())
        clock.advance(MAX_DELAY * 1.2 + 1)  # later than any wait

    assert len(webhook.calls) == max_attempts
    assert (item.status, item.attempts, item.last_error) == ("failed", max_attempts, "webhook: HTTP 502")
    assert len(waits) == max_attempts - 1
    for attempt, wait in enumerate(waits, start=1):
        nominal = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
        assert nominal * 0.8 <= wait <= min(MAX_DELAY, nominal * 1.2), (attempt, wait)


@pytest.mark.parametrize("error", [RuntimeError(USER_TEXT), KeyError(USER_TEXT), TimeoutError()])
async def test_an_unexpected_exception_is_a_retryable_failure_named_by_its_class_only(
    store: SqlCaseStore, clock: Clock, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    caplog.set_level(logging.DEBUG)
    webhook = FakeTarget(WEBHOOK)
    webhook.fail(error)
    desk, outbox = wire(store, webhook)
    await desk.open(make_case(), make_bundle())

    await outbox.run_once()

    item = await only(store, WEBHOOK)
    assert (item.status, item.attempts) == ("pending", 1)
    assert item.last_error == f"unexpected {type(error).__name__}"
    assert "Hunter2" not in caplog.text and "Hunter2" not in str(await store.deliveries("CS-AAAAAA"))
    clock.now = item.next_at
    await outbox.run_once()
    assert (await only(store, WEBHOOK)).status == "delivered"


async def test_an_item_for_a_target_this_deployment_lacks_fails(store: SqlCaseStore, clock: Clock) -> None:
    webhook = FakeTarget(WEBHOOK)
    desk = SupportDesk(store, [TEAMS, WEBHOOK])  # another instance enabled Teams; this one did not
    outbox = Outbox(store, desk, {WEBHOOK: webhook})
    await desk.open(make_case(), make_bundle())

    assert await outbox.run_once() == 2

    teams = await only(store, TEAMS)
    assert (teams.status, teams.attempts, teams.last_error) == ("failed", 1, "no target 'teams' in this deployment")
    assert (await only(store, WEBHOOK)).status == "delivered"


async def test_an_item_whose_case_is_gone_fails(store: SqlCaseStore, database: SqliteDatabase, clock: Clock) -> None:
    webhook = FakeTarget(WEBHOOK)
    desk, outbox = wire(store, webhook)
    await desk.open(make_case(), make_bundle())
    with database.sync_transaction() as conn:
        conn.execute("DELETE FROM cases")

    await outbox.run_once()

    item = await only(store, WEBHOOK)
    assert (item.status, item.last_error) == ("failed", "the case is gone")
    assert webhook.calls == []


class FailingGet:
    """A case store whose `get` of one case raises (a locked database, a corrupt row) until `healed`."""

    def __init__(self, store: SqlCaseStore, ref: str) -> None:
        self._store = store
        self._ref = ref
        self.healed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def get(self, ref: str) -> SupportCase | None:
        if ref == self._ref and not self.healed:
            raise sqlite3.OperationalError("database is locked")
        return await self._store.get(ref)


async def test_one_items_store_error_does_not_hold_up_the_rest_of_the_pass(
    store: SqlCaseStore, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    webhook = FakeTarget(WEBHOOK)
    desk = SupportDesk(store, [WEBHOOK])
    for ref in ("CS-AAAAAA", "CS-BBBBBB", "CS-CCCCCC"):
        await desk.open(make_case(ref), make_bundle(ref))
    flaky = FailingGet(store, "CS-AAAAAA")
    outbox = Outbox(flaky, desk, {WEBHOOK: webhook})  # type: ignore[arg-type]

    assert await outbox.run_once() == 3

    assert sorted(call.case.ref for call in webhook.calls) == ["CS-BBBBBB", "CS-CCCCCC"]
    stuck = await only(store, WEBHOOK, "CS-AAAAAA")
    assert (stuck.status, stuck.attempts) == ("pending", 0)  # still leased: tried again when the lease ends
    assert "CS-AAAAAA" in caplog.text
    flaky.healed = True
    assert await outbox.run_once() == 0
    clock.advance(LEASE.total_seconds())
    assert await outbox.run_once() == 1
    assert (await only(store, WEBHOOK, "CS-AAAAAA")).status == "delivered"
    assert len(webhook.calls) == 3


# --- restarts and several instances -----------------------------------------------------------------------------------


async def test_an_outbox_on_a_reopened_database_delivers_what_was_pending(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "cases.db"
    db = SqliteDatabase(path)
    store = SqlCaseStore(db)
    desk = SupportDesk(store, [TEAMS, WEBHOOK])
    await desk.open(make_case(), make_bundle())
    await desk.take("CS-AAAAAA", "Grace")
    [leased] = await store.claim("crashed-instance", clock.now, LEASE, limit=1)  # it died before settling
    db.close()

    db = SqliteDatabase(path)
    try:
        store = SqlCaseStore(db)
        teams, webhook, user = FakeTarget(TEAMS), FakeTarget(WEBHOOK), FakeTarget(USER)
        _, outbox = wire(store, teams, webhook, user)

        assert await drain(outbox) == 5 - 1  # the case (teams, webhook) and the take (user, card, webhook)
        clock.advance(LEASE.total_seconds())  # the dead instance's lease runs out
        assert await drain(outbox) == 1

        items = await store.deliveries("CS-AAAAAA")
        assert len(items) == 5 and all(i.status == "delivered" for i in items)
        calls = teams.calls + webhook.calls + user.calls
        assert sorted(c.item.id for c in calls) == sorted(i.id for i in items)  # each once
        assert leased.id in [c.item.id for c in calls]
    finally:
        db.close()


async def _fill(store: SqlCaseStore, cases: int) -> int:
    desk = SupportDesk(store, [TEAMS, WEBHOOK])
    for n in range(cases):
        ref = f"CS-{n:06d}"
        await desk.open(make_case(ref), make_bundle(ref))
        await desk.user_message(ref, "Zoë", "hello")
    return cases * 4


def _outbox(store: SqlCaseStore, owner: str, calls: list[Call]) -> Outbox:
    targets = [FakeTarget(name, answer={"by": owner}, delay=0.002, calls=calls) for name in (TEAMS, WEBHOOK)]
    return wire(store, *targets, owner=owner)[1]


async def _check_each_delivered_once(store: SqlCaseStore, calls: list[Call], expected: int) -> dict[str, int]:
    delivered = [i for n in range(expected // 4) for i in await store.deliveries(f"CS-{n:06d}")]
    assert len(delivered) == expected and all(i.status == "delivered" for i in delivered)
    assert sorted(c.item.id for c in calls) == sorted(i.id for i in delivered)  # each called once
    by_owner: dict[str, int] = {}
    for item in delivered:
        by_owner[item.detail["by"]] = by_owner.get(item.detail["by"], 0) + 1
    return by_owner


async def test_two_instances_on_one_event_loop_deliver_every_item_exactly_once(tmp_path: Path) -> None:
    first, second = SqliteDatabase(tmp_path / "shared.db"), SqliteDatabase(tmp_path / "shared.db")
    try:
        one, two = SqlCaseStore(first), SqlCaseStore(second)
        expected = await _fill(one, 15)
        calls: list[Call] = []
        outboxes = [_outbox(one, "instance-a", calls), _outbox(two, "instance-b", calls)]

        tried = await asyncio.gather(*(drain(outbox, limit=3) for outbox in outboxes))

        assert sum(tried) == expected
        by_owner = await _check_each_delivered_once(one, calls, expected)
        assert by_owner.get("instance-a") and by_owner.get("instance-b"), by_owner  # both took a share
    finally:
        first.close()
        second.close()


def test_two_instances_in_parallel_threads_deliver_every_item_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    setup = SqliteDatabase(path)
    store = SqlCaseStore(setup)
    expected = asyncio.run(_fill(store, 15))
    calls: list[Call] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    tried: list[int] = []

    def instance(owner: str) -> None:
        async def work() -> int:
            db = SqliteDatabase(path)
            try:
                return await drain(_outbox(SqlCaseStore(db), owner, mine), limit=3)
            finally:
                db.close()

        mine: list[Call] = []
        try:
            count = asyncio.run(work())
        except BaseException as exc:
            errors.append(exc)
            return
        with lock:
            calls.extend(mine)
            tried.append(count)

    threads = [threading.Thread(target=instance, args=(owner,)) for owner in ("instance-a", "instance-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    try:
        assert not errors, errors
        assert sum(tried) == expected
        by_owner = asyncio.run(_check_each_delivered_once(store, calls, expected))
        assert sum(by_owner.values()) == expected
    finally:
        setup.close()


# --- the worker loop ------------------------------------------------------------------------------------------------


@pytest.fixture
async def running() -> Any:
    """Start `outbox.run(stop, poll=...)` as a task; stopped (and awaited) at the end of the test."""
    tasks: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def start(outbox: Outbox, poll: float) -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        task = asyncio.create_task(outbox.run(stop, poll=poll))
        tasks.append((stop, task))
        return stop, task

    yield start
    for stop, task in tasks:
        stop.set()
        await asyncio.wait_for(task, timeout=5)


async def test_run_delivers_at_once_when_the_desk_changes_and_stops_promptly(store: SqlCaseStore, running: Any) -> None:
    webhook, user = FakeTarget(WEBHOOK), FakeTarget(USER)
    desk, outbox = wire(store, webhook, user)
    stop, task = running(outbox, 30.0)  # a poll far longer than the test
    await asyncio.sleep(0.05)  # idle: the first pass found nothing

    await desk.open(make_case(), make_bundle())
    assert await called(webhook) < 1.0
    await desk.take("CS-AAAAAA", "Grace")
    assert await called(user) < 1.0

    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, timeout=1.0)
    assert time.monotonic() - started < 0.2
    assert task.exception() is None


async def test_run_polls_for_items_queued_elsewhere(
    store: SqlCaseStore, database: SqliteDatabase, running: Any
) -> None:
    webhook = FakeTarget(WEBHOOK)
    _, outbox = wire(store, webhook)
    running(outbox, 0.05)
    await asyncio.sleep(0.02)

    await SupportDesk(SqlCaseStore(database), [WEBHOOK]).open(make_case(), make_bundle())  # another instance

    assert await called(webhook) < 1.0


async def test_run_finishes_its_pass_and_stops_without_draining_a_backlog(store: SqlCaseStore, running: Any) -> None:
    webhook = FakeTarget(WEBHOOK, delay=0.005)
    desk = SupportDesk(store, [WEBHOOK])
    for n in range(30):
        await desk.open(make_case(f"CS-{n:06d}"), make_bundle(f"CS-{n:06d}"))
    _, outbox = wire(store, webhook)
    stop, task = running(outbox, 30.0)

    await called(webhook)
    stop.set()
    await asyncio.wait_for(task, timeout=1.0)

    assert len(webhook.calls) == 20  # the pass it was in (one claim), not the rest: they stay due for the next start
    pending = [i for n in range(30) for i in await store.deliveries(f"CS-{n:06d}") if i.status == "pending"]
    assert len(pending) == 10


class FailingClaims:
    """A case store whose first `failures` claims raise, as a locked or unreachable database does."""

    def __init__(self, store: SqlCaseStore, failures: int) -> None:
        self._store = store
        self.failures = failures
        self.claims = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def claim(self, *args: Any, **kwargs: Any) -> list[OutboxItem]:
        self.claims += 1
        if self.claims <= self.failures:
            raise sqlite3.OperationalError("database is locked")
        return await self._store.claim(*args, **kwargs)


async def test_a_store_that_raises_does_not_stop_run(
    store: SqlCaseStore, running: Any, caplog: pytest.LogCaptureFixture
) -> None:
    webhook = FakeTarget(WEBHOOK)
    desk = SupportDesk(store, [WEBHOOK])
    await desk.open(make_case(), make_bundle())
    failing = FailingClaims(store, failures=3)
    outbox = Outbox(failing, desk, {WEBHOOK: webhook})  # type: ignore[arg-type]

    _, task = running(outbox, 0.02)

    await called(webhook)
    assert failing.claims > 3 and not task.done()
    assert caplog.text.count("outbox pass failed") == 3
    assert (await only(store, WEBHOOK)).status == "delivered"


# --- backoff --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "jitter", "seconds"),
    [
        (0, 0.0, BASE_DELAY),
        (1, 0.0, BASE_DELAY),
        (2, 0.0, 2 * BASE_DELAY),
        (5, 0.0, 16 * BASE_DELAY),
        (1, 0.2, BASE_DELAY * 1.2),
        (1, -0.2, BASE_DELAY * 0.8),
        (9, 0.2, min(MAX_DELAY, 256 * BASE_DELAY * 1.2)),
        (20, 0.0, MAX_DELAY),
        (20, 0.2, MAX_DELAY),  # the cap holds after the jitter
        (20, -0.2, MAX_DELAY * 0.8),  # at the cap the jitter still spreads the waits (downwards)
        (1, 5.0, BASE_DELAY * 1.2),  # a jitter beyond ±20 % is held to it
        (1, -5.0, BASE_DELAY * 0.8),
        (10_000, 0.0, MAX_DELAY),  # no overflow, however many tries
    ],
)
def test_backoff_doubles_from_the_base_up_to_the_cap(attempts: int, jitter: float, seconds: float) -> None:
    assert backoff(attempts, jitter=jitter) == pytest.approx(seconds)


@pytest.mark.parametrize("attempts", [1, 3, 8, 9, 10, MAX_ATTEMPTS, 100])
def test_backoff_jitter_stays_within_20_percent_and_under_the_cap(attempts: int) -> None:
    nominal = min(MAX_DELAY, BASE_DELAY * 2 ** (attempts - 1))
    waits = [backoff(attempts) for _ in range(500)]

    assert all(nominal * 0.8 <= wait <= min(MAX_DELAY, nominal * 1.2) for wait in waits)
    assert max(waits) - min(waits) > nominal * 0.1  # spread, not one value
