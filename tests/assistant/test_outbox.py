"""assistant/handoff/outbox.py on the real SQLite store: delivered once per target, retried with backoff, given up
when retrying cannot help, safe with two instances and across a restart, woken by the desk."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.handoff.bundle import BundleUser, build_bundle
from assistant.handoff.desk import SupportDesk
from assistant.handoff.model import TEAMS, WEBHOOK, DeliveryFailed, OutboxItem, SupportCase, new_ref, utcnow
from assistant.handoff.outbox import BASE_DELAY, MAX_DELAY, Outbox, backoff
from stores.sqlite.cases import SqliteCaseStore
from stores.sqlite.database import SqliteDatabase


class Target:
    """Records what it delivers; fails as told: a list of exceptions raised one per call, then success."""

    def __init__(self, name: str, *, fail: list[BaseException] | None = None, delay: float = 0.0) -> None:
        self.name = name
        self.delivered: list[tuple[str, str]] = []
        self._fail = list(fail or [])
        self._delay = delay

    async def deliver(self, item: OutboxItem, case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._fail:
            raise self._fail.pop(0)
        self.delivered.append((item.ref, item.key))
        if item.target == TEAMS and item.payload.get("kind") == "case.created":
            return {"thread": {"conversation": {"id": f"19:s@thread.tacv2;messageid={len(self.delivered)}"}}}
        return {"status": 202}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


@pytest.fixture
def store(path: Path) -> Iterator[SqliteCaseStore]:
    db = SqliteDatabase(path)
    yield SqliteCaseStore(db)
    db.close()


async def _open(desk: SupportDesk, n: int = 1) -> list[str]:
    refs = []
    for _ in range(n):
        now = utcnow()
        ref = new_ref()
        case = SupportCase(ref=ref, created=now, updated=now, channel_id="msteams", conversation_id=f"c-{ref}")
        bundle = build_bundle(
            ref=ref, channel="msteams", conversation_id=case.conversation_id, locale="en-US", user=BundleUser(),
            description="flows are off",
        )  # fmt: skip
        refs.append((await desk.open(case, bundle)).ref)
    return refs


async def test_each_item_is_delivered_once_and_the_thread_is_kept(store: SqliteCaseStore) -> None:
    desk = SupportDesk(store, (TEAMS, WEBHOOK))
    teams, hook = Target(TEAMS), Target(WEBHOOK)
    outbox = Outbox(store, desk, {TEAMS: teams, WEBHOOK: hook})
    [ref] = await _open(desk)
    assert await outbox.run_once() == 2
    assert await outbox.run_once() == 0
    assert teams.delivered == [(ref, "case")] and hook.delivered == [(ref, "case")]
    case = await store.get(ref)
    assert case is not None and case.support_thread == {"conversation": {"id": "19:s@thread.tacv2;messageid=1"}}
    assert {i.status for i in await store.deliveries(ref)} == {"delivered"}


async def test_a_retryable_failure_waits_its_backoff_and_a_final_one_gives_up(store: SqliteCaseStore) -> None:
    desk = SupportDesk(store, (TEAMS, WEBHOOK))
    teams = Target(TEAMS, fail=[DeliveryFailed("Bot Connector HTTP 503")])
    hook = Target(WEBHOOK, fail=[DeliveryFailed("webhook answered 400", retry=False)])
    outbox = Outbox(store, desk, {TEAMS: teams, WEBHOOK: hook})
    [ref] = await _open(desk)
    before = utcnow()
    await outbox.run_once()
    items = {i.target: i for i in await store.deliveries(ref)}
    assert (items[TEAMS].status, items[TEAMS].attempts, items[TEAMS].last_error) == (
        "pending",
        1,
        "Bot Connector HTTP 503",
    )
    assert items[TEAMS].next_at >= before + timedelta(seconds=BASE_DELAY * 0.8)
    assert (items[WEBHOOK].status, items[WEBHOOK].last_error) == ("failed", "webhook answered 400")
    assert await outbox.run_once() == 0  # not due yet
    assert await store.retry(ref, utcnow()) == 1  # `cases retry`: the failed one is pending again
    assert await outbox.run_once() == 1 and hook.delivered == [(ref, "case")]


async def test_an_unexpected_error_is_retried_and_only_its_class_is_kept(store: SqliteCaseStore) -> None:
    desk = SupportDesk(store, (TEAMS,))
    outbox = Outbox(store, desk, {TEAMS: Target(TEAMS, fail=[RuntimeError("secret=hunter2 in a message")])})
    [ref] = await _open(desk)
    await outbox.run_once()
    [item] = await store.deliveries(ref)
    assert item.status == "pending" and item.last_error == "unexpected RuntimeError"


async def test_max_attempts_then_failed_and_an_unknown_target_fails_at_once(store: SqliteCaseStore) -> None:
    desk = SupportDesk(store, (TEAMS, WEBHOOK))
    teams = Target(TEAMS, fail=[DeliveryFailed("down") for _ in range(5)])
    outbox = Outbox(store, desk, {TEAMS: teams}, max_attempts=2)  # no webhook target in this deployment
    [ref] = await _open(desk)
    await outbox.run_once()
    with store._db.transaction() as conn:  # the backoff has passed
        conn.execute("UPDATE outbox SET next_at = '2000-01-01T00:00:00.000000+00:00'")
    await outbox.run_once()
    items = {i.target: i for i in await store.deliveries(ref)}
    assert (items[TEAMS].status, items[TEAMS].attempts) == ("failed", 2)
    assert items[WEBHOOK].status == "failed" and "no target" in (items[WEBHOOK].last_error or "")


async def test_two_instances_deliver_every_item_exactly_once(path: Path) -> None:
    databases = [SqliteDatabase(path), SqliteDatabase(path)]
    try:
        stores = [SqliteCaseStore(db) for db in databases]
        desks = [SupportDesk(s, (TEAMS,)) for s in stores]
        refs = await _open(desks[0], 12)
        targets = [Target(TEAMS, delay=0.005), Target(TEAMS, delay=0.005)]
        outboxes = [
            Outbox(s, d, {TEAMS: t}, owner=f"instance-{n}")
            for n, (s, d, t) in enumerate(zip(stores, desks, targets, strict=True))
        ]

        async def drain(outbox: Outbox) -> None:
            while await outbox.run_once(limit=2):
                pass

        await asyncio.gather(*(drain(o) for o in outboxes))
        delivered = targets[0].delivered + targets[1].delivered
        assert sorted(delivered) == sorted((ref, "case") for ref in refs)  # all, none twice
        assert targets[0].delivered and targets[1].delivered  # both instances took a share
    finally:
        for db in databases:
            db.close()


async def test_a_restarted_instance_delivers_what_was_pending(path: Path) -> None:
    db = SqliteDatabase(path)
    store = SqliteCaseStore(db)
    [ref] = await _open(SupportDesk(store, (TEAMS,)))
    db.close()  # the instance stops before delivering
    db = SqliteDatabase(path)
    try:
        store = SqliteCaseStore(db)
        teams = Target(TEAMS)
        await Outbox(store, SupportDesk(store, (TEAMS,)), {TEAMS: teams}).run_once()
        assert teams.delivered == [(ref, "case")]
    finally:
        db.close()


async def test_run_wakes_on_a_change_and_stops_promptly(store: SqliteCaseStore) -> None:
    desk = SupportDesk(store, (TEAMS,))
    teams = Target(TEAMS)
    outbox = Outbox(store, desk, {TEAMS: teams})
    stop = asyncio.Event()
    task = asyncio.create_task(outbox.run(stop, poll=30))  # polling alone would take 30 s
    await asyncio.sleep(0.05)
    [ref] = await _open(desk)
    for _ in range(100):
        if teams.delivered:
            break
        await asyncio.sleep(0.01)
    assert teams.delivered == [(ref, "case")]
    stop.set()
    await asyncio.wait_for(task, timeout=1)


async def test_a_failing_store_does_not_end_the_loop(store: SqliteCaseStore, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    desk = SupportDesk(store, (TEAMS,))
    teams = Target(TEAMS)
    outbox = Outbox(store, desk, {TEAMS: teams})
    real = store.claim
    calls = {"n": 0}

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("database is locked")
        return await real(*args, **kwargs)

    monkeypatch.setattr(store, "claim", flaky)
    stop = asyncio.Event()
    task = asyncio.create_task(outbox.run(stop, poll=0.05))
    [ref] = await _open(desk)
    for _ in range(100):
        if teams.delivered:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert teams.delivered == [(ref, "case")] and calls["n"] >= 2


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert backoff(1, jitter=0) == BASE_DELAY and backoff(3, jitter=0) == BASE_DELAY * 4
    assert backoff(40, jitter=0) == MAX_DELAY
    for attempts in range(1, 15):
        base = min(MAX_DELAY, BASE_DELAY * 2 ** (attempts - 1))
        assert 0.8 * base <= backoff(attempts) <= 1.2 * base
