"""Tests for stores/sqlite/cases.py: the `CaseStore` port on SQLite. Cases with their bundle, events and outbox,
optimistic concurrency, idempotent outbox items, the lease (expiry, two processes on one file), restarts, and
timestamps and JSON that come back as they went in."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from assistant.handoff import model as handoff_model
from assistant.ports import CaseConflict, CaseEvent, OutboxItem, SupportCase
from stores.sql.cases import SqlCaseStore
from stores.sql.database import Database

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
DELIVERED_AT = datetime(2026, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
LEASE = timedelta(seconds=30)
SECRET_TEXT = "my flows stopped, call me on +39 333 1234567"


@pytest.fixture
def store(database: Database) -> SqlCaseStore:
    return SqlCaseStore(database, clock=lambda: DELIVERED_AT)


def make_case(ref: str = "CS-AAAAAA", *, at: datetime = T0, **fields: Any) -> SupportCase:
    values: dict[str, Any] = {
        "ref": ref,
        "created": at,
        "updated": at,
        "channel_id": "msteams",
        "conversation_id": "a:user-chat",
        "description": SECRET_TEXT,
    }
    return SupportCase(**(values | fields))


def make_item(ref: str = "CS-AAAAAA", target: str = "teams", key: str = "case", **fields: Any) -> OutboxItem:
    return OutboxItem(**({"ref": ref, "target": target, "key": key, "next_at": T0} | fields))


def make_event(ref: str = "CS-AAAAAA", text: str = "hello", kind: Any = "user_message") -> CaseEvent:
    return CaseEvent(ref=ref, at=T0 + timedelta(minutes=1), kind=kind, author="Ada", text=text)


def moved(case: SupportCase, minutes: int = 1, **fields: Any) -> SupportCase:
    return case.model_copy(update={"updated": case.updated + timedelta(minutes=minutes), **fields})


# --- cases ------------------------------------------------------------------------------------------------------------


async def test_create_stores_the_case_its_bundle_and_its_items(store: SqlCaseStore) -> None:
    case = make_case()
    bundle = {"schema": "cosell.case.v1", "conversation": [{"text": "ciao"}]}

    await store.create(case, bundle, [make_item(payload={"card": 1}), make_item(target="webhook")])

    assert await store.get(case.ref) == case
    assert await store.bundle(case.ref) == bundle
    items = await store.deliveries(case.ref)
    assert [(i.target, i.key, i.status, i.attempts, i.payload) for i in items] == [
        ("teams", "case", "pending", 0, {"card": 1}),
        ("webhook", "case", "pending", 0, {}),
    ]
    assert items[0].id < items[1].id
    assert await store.get("CS-NOPE00") is None
    assert await store.bundle("CS-NOPE00") is None
    assert await store.events(case.ref) == []
    assert await store.deliveries("CS-NOPE00") == []


async def test_a_duplicate_ref_is_a_conflict_and_writes_nothing(store: SqlCaseStore) -> None:
    await store.create(make_case(), {"v": 1}, [make_item()])

    with pytest.raises(CaseConflict) as raised:
        await store.create(make_case(conversation_id="other"), {"v": 2}, [make_item(target="user")])

    assert raised.value.ref == "CS-AAAAAA"
    assert SECRET_TEXT not in str(raised.value) and "CS-AAAAAA" in str(raised.value)
    assert (await store.get("CS-AAAAAA")) == make_case()
    assert await store.bundle("CS-AAAAAA") == {"v": 1}
    assert [i.target for i in await store.deliveries("CS-AAAAAA")] == ["teams"]


async def test_items_of_another_case_or_naive_times_are_refused_before_anything_is_written(
    store: SqlCaseStore,
) -> None:
    with pytest.raises(ValueError, match="CS-BBBBBB") as raised:
        await store.create(make_case(), {}, [make_item(), make_item(ref="CS-BBBBBB")])
    with pytest.raises(ValueError, match="naive"):
        await store.create(make_case(), {}, [make_item(next_at=datetime(2026, 5, 1, 9, 30))])  # noqa: DTZ001

    assert SECRET_TEXT not in str(raised.value)
    assert await store.get("CS-AAAAAA") is None
    assert await store.deliveries("CS-AAAAAA") == []


async def test_update_saves_the_case_while_updated_is_unchanged(store: SqlCaseStore) -> None:
    case = make_case()
    await store.create(case, {})
    taken = moved(case, status="taken", taken_by="Grace")

    assert await store.update(taken, expect_updated=case.updated) is None

    assert await store.get(case.ref) == taken
    stale = moved(case, minutes=2, status="resolved")
    with pytest.raises(CaseConflict):  # read before `taken` was saved
        await store.update(stale, expect_updated=case.updated, event=make_event(), items=[make_item(key="late")])
    assert await store.get(case.ref) == taken
    assert await store.events(case.ref) == []
    assert [i.key for i in await store.deliveries(case.ref)] == []
    with pytest.raises(CaseConflict):  # never created
        await store.update(make_case("CS-GONE00"), expect_updated=T0)


async def test_expect_updated_is_compared_as_an_instant(store: SqlCaseStore) -> None:
    case = make_case()
    await store.create(case, {})
    rome = timezone(timedelta(hours=2))

    await store.update(moved(case), expect_updated=case.updated.astimezone(rome))

    with pytest.raises(CaseConflict):
        await store.update(moved(case, 2), expect_updated=case.updated + timedelta(minutes=1, microseconds=1))


async def test_update_appends_events_numbered_from_one_per_case(store: SqlCaseStore) -> None:
    a, b = make_case("CS-AAAAAA"), make_case("CS-BBBBBB", conversation_id="b")
    await store.create(a, {})
    await store.create(b, {})

    first = await store.update(moved(a), expect_updated=a.updated, event=make_event(text="one"))
    other = await store.update(moved(b), expect_updated=b.updated, event=make_event("CS-BBBBBB", "b-one"))
    second = await store.update(moved(a, 2), expect_updated=moved(a).updated, event=make_event(text="two"))

    assert first is not None and second is not None and other is not None
    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    assert first == make_event(text="one").model_copy(update={"seq": 1})
    assert [(e.seq, e.text, e.kind, e.author) for e in await store.events("CS-AAAAAA")] == [
        (1, "one", "user_message", "Ada"),
        (2, "two", "user_message", "Ada"),
    ]
    assert [e.text for e in await store.events("CS-BBBBBB")] == ["b-one"]


async def test_an_items_seq_placeholder_becomes_the_events_seq(store: SqlCaseStore) -> None:
    case = make_case()
    await store.create(case, {}, [make_item()])
    items = [make_item(key="event:{seq}", payload={"text": "x"}), make_item(target="user", key="event:{seq}")]

    await store.update(moved(case), expect_updated=case.updated, event=make_event(), items=items)
    await store.update(moved(case, 2), expect_updated=moved(case).updated, event=make_event(), items=items)

    assert [(i.target, i.key) for i in await store.deliveries(case.ref)] == [
        ("teams", "case"),
        ("teams", "event:1"),
        ("user", "event:1"),
        ("teams", "event:2"),
        ("user", "event:2"),
    ]
    with pytest.raises(ValueError, match="no event"):
        await store.update(moved(case, 3), expect_updated=moved(case, 2).updated, items=items)
    with pytest.raises(ValueError, match="CS-BBBBBB"):
        await store.update(moved(case, 3), expect_updated=moved(case, 2).updated, event=make_event("CS-BBBBBB"))
    assert len(await store.events(case.ref)) == 2


async def test_outbox_items_are_idempotent_by_ref_target_and_key(store: SqlCaseStore) -> None:
    case = make_case()
    await store.create(case, {}, [make_item(payload={"v": 1})])

    await store.update(
        moved(case),
        expect_updated=case.updated,
        items=[make_item(payload={"v": 2}), make_item(payload={"v": 3}), make_item(target="webhook")],
    )

    assert [(i.target, i.key, i.payload) for i in await store.deliveries(case.ref)] == [
        ("teams", "case", {"v": 1}),
        ("webhook", "case", {}),
    ]


async def test_list_cases_newest_first_by_status_and_limit(store: SqlCaseStore) -> None:
    for n, ref in enumerate(["CS-AAAAAA", "CS-BBBBBB", "CS-CCCCCC"]):
        await store.create(make_case(ref, at=T0 + timedelta(minutes=n)), {})
    b = (await store.get("CS-BBBBBB")) or pytest.fail("missing")
    await store.update(moved(b, status="resolved"), expect_updated=b.updated)

    assert [c.ref for c in await store.list_cases()] == ["CS-CCCCCC", "CS-BBBBBB", "CS-AAAAAA"]
    assert [c.ref for c in await store.list_cases(limit=2)] == ["CS-CCCCCC", "CS-BBBBBB"]
    assert [c.ref for c in await store.list_cases("open")] == ["CS-CCCCCC", "CS-AAAAAA"]
    assert [c.ref for c in await store.list_cases("resolved")] == ["CS-BBBBBB"]
    assert await store.list_cases("taken") == []


async def test_active_for_is_the_newest_unresolved_case_of_the_conversation(store: SqlCaseStore) -> None:
    old = make_case("CS-AAAAAA")
    await store.create(old, {})
    await store.create(make_case("CS-BBBBBB", at=T0 + timedelta(hours=1), status="taken"), {})
    await store.create(make_case("CS-CCCCCC", at=T0 + timedelta(hours=2), status="resolved"), {})
    await store.create(make_case("CS-DDDDDD", at=T0 + timedelta(hours=3), channel_id="webchat"), {})

    active = await store.active_for("msteams", "a:user-chat")
    elsewhere = await store.active_for("webchat", "a:user-chat")

    assert active is not None and active.ref == "CS-BBBBBB"
    assert elsewhere is not None and elsewhere.ref == "CS-DDDDDD"
    assert await store.active_for("msteams", "a:someone-else") is None


async def test_by_thread_matches_with_or_without_the_message_id(store: SqlCaseStore) -> None:
    thread = {"conversation": {"id": "19:abc@thread.tacv2;messageid=1714555800000"}, "card_id": "1714555800000"}
    case = make_case()
    await store.create(case, {})
    await store.create(make_case("CS-BBBBBB", conversation_id="b"), {})  # never posted: no thread
    await store.update(moved(case, support_thread=thread), expect_updated=case.updated)

    for asked in (
        "19:abc@thread.tacv2",
        "19:abc@thread.tacv2;messageid=1714555800000",
        "19:abc@thread.tacv2;messageid=9",
    ):
        found = await store.by_thread(asked)
        assert found is not None and found.ref == "CS-AAAAAA", asked
    assert await store.by_thread("19:other@thread.tacv2") is None
    assert await store.by_thread("") is None


# --- the outbox -------------------------------------------------------------------------------------------------------


async def test_claim_leases_due_items_oldest_first_up_to_the_limit(store: SqlCaseStore) -> None:
    later = make_item(target="user", next_at=T0 + timedelta(hours=1))
    await store.create(make_case(), {}, [make_item(), later, make_item(target="webhook"), make_item(target="x")])

    first = await store.claim("A", T0, LEASE, limit=2)
    second = await store.claim("B", T0, LEASE, limit=5)

    assert [i.target for i in first] == ["teams", "webhook"] and first[0].id < first[1].id
    assert [i.target for i in second] == ["x"]  # A's leased items are not offered again, the later one is not due
    assert await store.claim("B", T0, LEASE) == []
    assert await store.claim("A", T0, LEASE, limit=0) == []
    # an hour on, every lease has run out and the later item is due too
    assert [i.target for i in await store.claim("B", T0 + timedelta(hours=1), LEASE)] == [
        "teams",
        "user",
        "webhook",
        "x",
    ]


async def test_an_expired_lease_passes_to_another_owner_and_the_first_cannot_settle(store: SqlCaseStore) -> None:
    await store.create(make_case(), {}, [make_item()])
    [item] = await store.claim("A", T0, LEASE)

    assert await store.claim("B", T0 + LEASE - timedelta(microseconds=1), LEASE) == []
    [again] = await store.claim("B", T0 + LEASE, LEASE)

    assert again.id == item.id
    assert await store.settle(item.id, "A", delivered=True, detail={"by": "A"}) is False
    assert await store.settle(item.id, "B", delivered=True, detail={"activity_id": "1:x"}) is True
    [done] = await store.deliveries("CS-AAAAAA")
    assert (done.status, done.delivered_at, done.detail, done.attempts) == (
        "delivered",
        DELIVERED_AT,
        {"activity_id": "1:x"},
        0,
    )
    assert await store.claim("C", T0 + timedelta(days=1), LEASE) == []


async def test_settle_after_the_lease_ran_out_works_while_no_one_else_claimed(store: SqlCaseStore) -> None:
    await store.create(make_case(), {}, [make_item()])
    [item] = await store.claim("A", T0, LEASE)

    assert await store.settle(item.id, "A", delivered=True) is True
    assert (await store.deliveries("CS-AAAAAA"))[0].detail == {}


async def test_settle_needs_the_owner_and_a_pending_item(store: SqlCaseStore) -> None:
    await store.create(make_case(), {}, [make_item(), make_item(target="user")])
    [item, released] = await store.claim("A", T0, LEASE)
    await store.settle(released.id, "A", delivered=False, error="boom", next_at=T0 + timedelta(minutes=5))

    assert await store.settle(item.id, "B", delivered=True) is False
    assert await store.settle(released.id, "A", delivered=True) is False  # no one holds it any more
    assert await store.settle(9999, "A", delivered=True) is False
    assert await store.settle(item.id, "A", delivered=True) is True
    assert await store.settle(item.id, "A", delivered=True) is False  # once


async def test_a_failed_attempt_is_due_again_then_given_up_then_retried(store: SqlCaseStore) -> None:
    await store.create(make_case(), {}, [make_item()])
    [item] = await store.claim("A", T0, LEASE)
    retry_at = T0 + timedelta(minutes=5)

    assert await store.settle(item.id, "A", delivered=False, error="HTTP 503", next_at=retry_at, detail={"s": 503})

    [pending] = await store.deliveries("CS-AAAAAA")
    assert (pending.status, pending.attempts, pending.last_error, pending.next_at, pending.detail) == (
        "pending",
        1,
        "HTTP 503",
        retry_at,
        {"s": 503},
    )
    assert await store.claim("A", retry_at - timedelta(seconds=1), LEASE) == []  # released, but not due yet
    [item] = await store.claim("B", retry_at, LEASE)
    assert await store.settle(item.id, "B", delivered=False, error="HTTP 400")
    [failed] = await store.deliveries("CS-AAAAAA")
    assert (failed.status, failed.attempts, failed.last_error, failed.detail) == ("failed", 2, "HTTP 400", {"s": 503})
    assert await store.claim("A", T0 + timedelta(days=1), LEASE) == []

    later = T0 + timedelta(hours=2)
    assert await store.retry("CS-AAAAAA", later) == 1
    assert await store.retry("CS-AAAAAA", later) == 0
    [again] = await store.claim("C", later, LEASE)
    assert (again.status, again.attempts, again.next_at) == ("pending", 0, later)  # a fresh budget


async def test_a_delivery_error_is_redacted_and_shortened(store: SqlCaseStore) -> None:
    await store.create(make_case(), {}, [make_item()])
    [item] = await store.claim("A", T0, LEASE)

    await store.settle(item.id, "A", delivered=False, error="401 password: Summer2024 " + "x" * 2000, next_at=T0)

    [stored] = await store.deliveries("CS-AAAAAA")
    assert stored.last_error is not None and "Summer2024" not in stored.last_error
    assert len(stored.last_error) <= 500


async def test_delivered_at_defaults_to_the_escalation_clock(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlCaseStore(database)
    monkeypatch.setattr(handoff_model, "utcnow", lambda: DELIVERED_AT + timedelta(days=1))
    await store.create(make_case(), {}, [make_item()])
    [item] = await store.claim("A", T0, LEASE)

    await store.settle(item.id, "A", delivered=True)

    assert (await store.deliveries("CS-AAAAAA"))[0].delivered_at == DELIVERED_AT + timedelta(days=1)


# --- what is stored ---------------------------------------------------------------------------------------------------


async def test_timestamps_come_back_as_the_same_instants_in_utc(store: SqlCaseStore, database: Database) -> None:
    rome = timezone(timedelta(hours=2))
    created = datetime(2026, 5, 1, 11, 30, 0, 5, tzinfo=rome)
    case = make_case(created=created, updated=created + timedelta(seconds=1))
    await store.create(case, {}, [make_item(next_at=created)])
    event = CaseEvent(ref=case.ref, at=created + timedelta(seconds=2), kind="taken")
    await store.update(moved(case), expect_updated=case.updated, event=event)

    got = await store.get(case.ref)
    [stored_event] = await store.events(case.ref)
    [item] = await store.deliveries(case.ref)

    assert got is not None and (got.created, got.updated) == (created, moved(case).updated)
    assert stored_event.at == event.at and item.next_at == created
    for value in (got.created, got.updated, stored_event.at, item.next_at):
        assert value.utcoffset() == timedelta(0)
    [(created_text, updated_text)] = database.sync_query("SELECT created, updated FROM cases")
    assert created_text == "2026-05-01T09:30:00.000005+00:00"
    assert len(updated_text) == len(created_text) and updated_text > created_text
    with pytest.raises(ValueError, match="naive"):
        await store.claim("A", datetime(2026, 5, 1), LEASE)  # noqa: DTZ001


async def test_a_cases_json_fields_survive(store: SqlCaseStore) -> None:
    reference = {
        "activityId": "1714555800000",
        "user": {"id": "29:1AbC", "name": "Zoë Rossi", "aadObjectId": "0000-aaaa"},
        "bot": {"id": "28:bot", "name": "Co-sell"},
        "conversation": {"id": "a:1xYz", "tenantId": "t-1", "conversationType": "personal"},
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "locale": "it-IT",
    }
    thread = {"conversation": {"id": "19:abc@thread.tacv2;messageid=17"}, "card_id": "17", "extra": [1, None, True]}
    case = make_case(
        lang="it", user_reference=reference, support_thread=thread, rating=4, with_support=False, user_name="Zoë"
    )

    await store.create(case, {"nested": {"città": ["🤖", 1.5, None]}})

    got = await store.get(case.ref)
    assert got == case
    assert got is not None and got.user_reference == reference and got.support_thread == thread
    assert await store.bundle(case.ref) == {"nested": {"città": ["🤖", 1.5, None]}}


async def test_a_restart_keeps_cases_and_pending_items_due(open_database: Callable[[], Database]) -> None:
    db = open_database()
    store = SqlCaseStore(db)
    case = make_case()
    await store.create(case, {"v": 1}, [make_item(), make_item(target="user")])
    await store.update(moved(case), expect_updated=case.updated, event=make_event())
    await store.claim("crashed", T0, LEASE, limit=1)  # leased, never settled: the process dies
    await db.aclose()

    db = open_database()
    try:
        reopened = SqlCaseStore(db)
        assert await reopened.get(case.ref) == moved(case)
        assert [e.seq for e in await reopened.events(case.ref)] == [1]
        assert [i.target for i in await reopened.claim("B", T0, timedelta(hours=1))] == ["user"]
        assert [i.target for i in await reopened.claim("C", T0 + LEASE, LEASE)] == ["teams"]  # the dead one's lease
    finally:
        await db.aclose()


# --- two processes on one database ---------------------------------------------------------------------------------

_WORKER = """
import asyncio, json, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from stores.sql.cases import SqlCaseStore
from tests.stores.conftest import open_spec

async def work(spec, owner, go):
    db = open_spec(spec)
    store = SqlCaseStore(db)
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.002)
    settled = []
    while items := await store.claim(owner, datetime.now(UTC), timedelta(minutes=5), limit=3):
        for item in items:
            time.sleep(0.001)  # the delivery itself
            settled.append([item.id, await store.settle(item.id, owner, delivered=True, detail={"by": owner})])
    await db.aclose()
    print(json.dumps(settled), flush=True)

asyncio.run(work(*sys.argv[1:]))
"""


def _fill(store: SqlCaseStore, refs: list[str]) -> None:
    due = datetime.now(UTC) - timedelta(minutes=1)

    async def fill() -> None:
        for ref in refs:
            items = [make_item(ref, key=f"k{k}", next_at=due) for k in range(20)]
            await store.create(make_case(ref, conversation_id=ref), {}, items)

    asyncio.run(fill())


def _run_workers(spec: str, go: Path, owners: tuple[str, ...]) -> dict[str, list[list[Any]]]:
    """Start one worker process per owner, let them all go at once, return each one's [item id, settled] list."""
    workers = {
        owner: subprocess.Popen(
            [sys.executable, "-c", _WORKER, spec, owner, str(go)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for owner in owners
    }
    try:
        for worker in workers.values():
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        go.touch()
        outputs = {owner: worker.communicate(timeout=120) for owner, worker in workers.items()}
    finally:
        for worker in workers.values():
            worker.kill()
    for owner, worker in workers.items():
        assert worker.returncode == 0, outputs[owner][1]
    return {owner: json.loads(out.splitlines()[-1]) for owner, (out, _err) in outputs.items()}


def test_two_processes_deliver_every_item_exactly_once(
    open_database: Callable[[], Database], database_spec: str, tmp_path: Path
) -> None:
    db = open_database()
    store = SqlCaseStore(db)
    refs = [f"CS-{n:06d}" for n in range(10)]
    _fill(store, refs)

    settled = _run_workers(database_spec, tmp_path / "go", ("A", "B"))

    # every settle succeeded (no lease ran out), so no item was ever leased to both, and each was settled once
    assert all(ok is True for results in settled.values() for _id, ok in results)
    ids = {owner: [item_id for item_id, _ok in results] for owner, results in settled.items()}
    assert len(ids["A"]) + len(ids["B"]) == 200
    assert set(ids["A"]).isdisjoint(ids["B"])
    assert len(set(ids["A"])) == len(ids["A"]) and len(set(ids["B"])) == len(ids["B"])
    assert ids["A"] and ids["B"], "both processes should have delivered some"
    delivered = [item for ref in refs for item in asyncio.run(store.deliveries(ref))]
    assert {item.id for item in delivered} == set(ids["A"]) | set(ids["B"])
    assert all(i.status == "delivered" and i.id in ids[i.detail["by"]] for i in delivered)
    asyncio.run(db.aclose())
