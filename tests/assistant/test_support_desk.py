"""SupportDesk (assistant/handoff/desk.py) on the real SQLite case store: what each change records (the case, its
event) and whom it tells (one outbox item per enabled target, the user always), the no-ops (take twice, anything
after resolve), references drawn again, and changes racing on two connections to one file."""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.handoff import desk as desk_module
from assistant.handoff.bundle import BundleUser, CaseBundle
from assistant.handoff.desk import _TRIES, CaseNotFound, SupportDesk
from assistant.handoff.model import HANDOFF_EVENT, TEAMS, USER, WEBHOOK, CaseEvent, OutboxItem, SupportCase
from assistant.ports import CaseConflict
from stores.sql.cases import SqlCaseStore
from stores.sqlite.database import SqliteDatabase

T0 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
ALL = (TEAMS, WEBHOOK, HANDOFF_EVENT)
KEY = re.compile(r"^case\.[a-z_]+:[0-9a-f]{12}$")


class Wakes:
    """Counts the desk's nudges to the outbox."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def make_case(ref: str = "CS-AAAAAA", **fields: Any) -> SupportCase:
    values: dict[str, Any] = {
        "ref": ref,
        "created": T0,
        "updated": T0,
        "channel_id": "msteams",
        "conversation_id": f"a:chat-{ref}",
        "user_name": "Zoë",
        "description": "my flows stopped",
    }
    return SupportCase(**(values | fields))


def make_bundle(ref: str = "CS-AAAAAA") -> CaseBundle:
    return CaseBundle(
        ref=ref,
        created=T0,
        channel="msteams",
        conversation_id=f"a:chat-{ref}",
        locale="en-US",
        user=BundleUser(name="Zoë"),
        description="my flows stopped",
        summary="my flows stopped",
    )


async def opened(store: SqlCaseStore, targets: tuple[str, ...] = ALL, ref: str = "CS-AAAAAA") -> SupportDesk:
    """A desk on `store` with `targets` enabled and the case `ref` open (`after_open` lists the items queued since)."""
    desk = SupportDesk(store, targets)
    await desk.open(make_case(ref), make_bundle(ref))
    return desk


async def after_open(store: SqlCaseStore, ref: str = "CS-AAAAAA") -> list[OutboxItem]:
    return [item for item in await store.deliveries(ref) if item.key != "case"]


def summary(items: list[OutboxItem]) -> list[tuple[str, dict[str, Any]]]:
    return sorted((item.target, item.payload) for item in items)


# --- open ---------------------------------------------------------------------------------------------------------


async def test_open_stores_the_case_its_bundle_and_one_item_per_enabled_target(store: SqlCaseStore) -> None:
    wakes = Wakes()
    desk = SupportDesk(store, ALL, wake=wakes)

    case = await desk.open(make_case(), make_bundle())

    assert case == make_case()
    assert await store.get(case.ref) == case
    assert await store.bundle(case.ref) == make_bundle().to_json()
    items = await store.deliveries(case.ref)
    assert sorted((i.target, i.key, i.payload, i.status, i.attempts) for i in items) == [
        (HANDOFF_EVENT, "case", {"kind": "case.created"}, "pending", 0),
        (TEAMS, "case", {"kind": "case.created"}, "pending", 0),
        (WEBHOOK, "case", {"kind": "case.created"}, "pending", 0),
    ]
    assert all(item.next_at <= datetime.now(UTC) for item in items)  # due at once
    assert await store.events(case.ref) == []
    assert wakes.count == 1
    assert await desk.active_case("msteams", "a:chat-CS-AAAAAA") == case
    assert await desk.active_case("msteams", "a:someone-else") is None


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ((), []),
        ((WEBHOOK,), [WEBHOOK]),
        ((USER, TEAMS), [TEAMS]),  # the user is never sent the case they opened
    ],
)
async def test_open_queues_the_case_for_the_enabled_support_targets_only(
    store: SqlCaseStore, targets: tuple[str, ...], expected: list[str]
) -> None:
    desk = SupportDesk(store, targets)

    await desk.open(make_case(), make_bundle())

    assert sorted(item.target for item in await store.deliveries("CS-AAAAAA")) == expected
    assert USER not in desk.targets


async def test_a_duplicate_ref_is_drawn_again_with_its_bundle(
    store: SqlCaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = make_case("CS-AAAAAA", conversation_id="someone-else")
    await store.create(existing, {"v": "old"})
    draws = iter(["CS-AAAAAA", "CS-BBBBBB"])  # the first draw collides too
    monkeypatch.setattr(desk_module, "new_ref", lambda: next(draws))
    desk = SupportDesk(store, (TEAMS,))

    case = await desk.open(make_case("CS-AAAAAA"), make_bundle("CS-AAAAAA"))

    assert case.ref == "CS-BBBBBB"
    assert await store.get("CS-BBBBBB") == make_case("CS-AAAAAA").model_copy(update={"ref": "CS-BBBBBB"})
    bundle = await store.bundle("CS-BBBBBB")
    assert bundle is not None and bundle["ref"] == "CS-BBBBBB"
    assert [(i.ref, i.target) for i in await store.deliveries("CS-BBBBBB")] == [("CS-BBBBBB", TEAMS)]
    assert await store.get("CS-AAAAAA") == existing  # untouched
    assert await store.bundle("CS-AAAAAA") == {"v": "old"}
    assert await store.deliveries("CS-AAAAAA") == []


async def test_open_gives_up_when_every_ref_drawn_is_taken(
    store: SqlCaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.create(make_case("CS-AAAAAA"), {})
    monkeypatch.setattr(desk_module, "new_ref", lambda: "CS-AAAAAA")
    wakes = Wakes()

    with pytest.raises(RuntimeError, match="free case reference"):
        await SupportDesk(store, (TEAMS,), wake=wakes).open(make_case("CS-AAAAAA"), make_bundle())

    assert wakes.count == 0
    assert await store.deliveries("CS-AAAAAA") == []


# --- who hears of each change -------------------------------------------------------------------------------------

Change = Callable[[SupportDesk], Any]

# (the change, the event it records, the payload the outbox carries, targets told when enabled; None: USER only)
CHANGES: list[tuple[str, Change, tuple[str, str | None, str], dict[str, Any], tuple[str, ...]]] = [
    (
        "user_message",
        lambda d: d.user_message("CS-AAAAAA", "Zoë", "still broken"),
        ("user_message", "Zoë", "still broken"),
        {"kind": "case.user_message", "author": "Zoë", "text": "still broken"},
        (TEAMS, WEBHOOK),
    ),
    (
        "take",
        lambda d: d.take("CS-AAAAAA", "Grace"),
        ("taken", "Grace", ""),
        {"kind": "case.taken", "author": "Grace"},
        (USER, "card", WEBHOOK),
    ),
    (
        "staff_reply",
        lambda d: d.staff_reply("CS-AAAAAA", "Grace", "try again now"),
        ("staff_reply", "Grace", "try again now"),
        {"kind": "case.staff_reply", "author": "Grace", "text": "try again now"},
        (USER, WEBHOOK),
    ),
    (
        "resolve",
        lambda d: d.resolve("CS-AAAAAA", "Grace", "licence renewed"),
        ("resolved", "Grace", "licence renewed"),
        {"kind": "case.resolved", "author": "Grace", "text": "licence renewed"},
        (USER, "card", WEBHOOK),
    ),
    (
        "hub accepted",
        lambda d: d.hub_status("CS-AAAAAA", "accepted", None),
        ("taken", "agent hub", ""),
        {"kind": "case.taken", "author": "agent hub"},
        (USER, "card", WEBHOOK),
    ),
    (
        "hub completed",
        lambda d: d.hub_status("CS-AAAAAA", "completed", "done by the hub"),
        ("resolved", "agent hub", "done by the hub"),
        {"kind": "case.resolved", "author": "agent hub", "text": "done by the hub"},
        (USER, "card", WEBHOOK),
    ),
    ("leave", lambda d: d.leave("CS-AAAAAA"), ("returned", None, ""), {}, ()),
    (
        "hub failed",
        lambda d: d.hub_status("CS-AAAAAA", "failed", "no agent"),
        ("status", "agent hub", "failed: no agent"),
        {},
        (),
    ),
]
ENABLED = [(), (TEAMS,), (WEBHOOK,), (USER,), (TEAMS, WEBHOOK, HANDOFF_EVENT)]


def _expected(payload: dict[str, Any], told: tuple[str, ...], enabled: tuple[str, ...]) -> list[Any]:
    out = []
    for target in told:
        if target == "card":  # the Teams card refresh: only when the Teams target is on
            if TEAMS in enabled:
                out.append((TEAMS, {"kind": "card"}))
        elif target == USER or target in enabled:
            out.append((target, payload))
    return sorted(out)


@pytest.mark.parametrize("enabled", ENABLED, ids=lambda t: "+".join(t) or "none")
@pytest.mark.parametrize(("name", "change", "event", "payload", "told"), CHANGES, ids=[c[0] for c in CHANGES])
async def test_a_change_records_its_event_and_tells_each_enabled_target_once(
    store: SqlCaseStore,
    enabled: tuple[str, ...],
    name: str,
    change: Change,
    event: tuple[str, str | None, str],
    payload: dict[str, Any],
    told: tuple[str, ...],
) -> None:
    desk = await opened(store, enabled)
    wakes = Wakes()
    desk.on_change(wakes)
    before = await store.get("CS-AAAAAA")

    returned = await change(desk)

    stored = await store.get("CS-AAAAAA")
    assert before is not None and stored == returned and stored.updated > before.updated
    [recorded] = await store.events("CS-AAAAAA")
    assert (recorded.seq, recorded.kind, recorded.author, recorded.text) == (1, *event)
    assert recorded.at == stored.updated
    items = await after_open(store)
    assert summary(items) == _expected(payload, told, enabled)
    assert len({item.key for item in items}) == min(1, len(items)) and all(KEY.match(i.key) for i in items)
    assert all(item.status == "pending" and item.attempts == 0 for item in items)
    assert wakes.count == (1 if items else 0)  # the outbox is nudged when there is something to deliver


async def test_each_change_is_its_own_delivery(store: SqlCaseStore) -> None:
    desk = await opened(store, (TEAMS,))

    await desk.user_message("CS-AAAAAA", "Zoë", "one")
    await desk.user_message("CS-AAAAAA", "Zoë", "one")  # the same words again are another message

    items = await after_open(store)
    assert [item.payload["text"] for item in items] == ["one", "one"]
    assert items[0].key != items[1].key
    assert [(e.seq, e.text) for e in await store.events("CS-AAAAAA")] == [(1, "one"), (2, "one")]


async def test_what_each_change_does_to_the_case(store: SqlCaseStore) -> None:
    desk = await opened(store, (TEAMS,))

    taken = await desk.take("CS-AAAAAA", "Grace")
    left = await desk.leave("CS-AAAAAA")
    back = await desk.rejoin("CS-AAAAAA")
    messaged = await desk.user_message("CS-AAAAAA", "Zoë", "hi")
    resolved = await desk.resolve("CS-AAAAAA", "Linus")
    rated = await desk.rate("CS-AAAAAA", 4)

    assert (taken.status, taken.taken_by, taken.with_support) == ("taken", "Grace", True)
    assert (left.status, left.with_support) == ("taken", False)
    assert back.with_support is True
    assert messaged == back.model_copy(update={"updated": messaged.updated})  # a message changes nothing but time
    assert (resolved.status, resolved.resolved_by, resolved.resolution, resolved.with_support) == (
        "resolved",
        "Linus",
        None,
        False,
    )
    assert resolved.taken_by == "Grace" and not resolved.active
    assert (rated.rating, rated.status) == (4, "resolved")
    assert await store.get("CS-AAAAAA") == rated
    assert [e.kind for e in await store.events("CS-AAAAAA")] == [
        "taken",
        "returned",
        "status",
        "user_message",
        "resolved",
        "rating",
    ]
    assert not [i for i in await after_open(store) if i.payload["kind"] == "case.rated"]  # no webhook: no one


async def test_a_rating_tells_the_webhook_only(store: SqlCaseStore) -> None:
    desk = await opened(store, ALL)
    await desk.resolve("CS-AAAAAA", "Grace")
    resolved_items = len(await after_open(store))

    await desk.rate("CS-AAAAAA", 5)

    items = (await after_open(store))[resolved_items:]
    assert summary(items) == [(WEBHOOK, {"kind": "case.rated", "rating": 5})]
    assert (await store.events("CS-AAAAAA"))[-1].model_dump(include={"kind", "text"}) == {
        "kind": "rating",
        "text": "5",
    }


@pytest.mark.parametrize("rating", [0, 6, -1, 10])
async def test_a_rating_out_of_range_is_refused_and_writes_nothing(store: SqlCaseStore, rating: int) -> None:
    desk = await opened(store)
    before = await store.get("CS-AAAAAA")

    with pytest.raises(ValueError, match="1 to 5"):
        await desk.rate("CS-AAAAAA", rating)
    with pytest.raises(ValueError):  # checked before the case is looked up
        await desk.rate("CS-NOPE00", rating)

    assert await store.get("CS-AAAAAA") == before
    assert await store.events("CS-AAAAAA") == []


async def test_leave_and_rejoin_switch_where_the_users_messages_go_once(store: SqlCaseStore) -> None:
    desk = await opened(store)

    assert (await desk.rejoin("CS-AAAAAA")).with_support is True  # already with support: nothing to record
    assert (await desk.leave("CS-AAAAAA")).with_support is False
    assert (await desk.leave("CS-AAAAAA")).with_support is False  # pressed twice (or on two instances)
    assert (await desk.rejoin("CS-AAAAAA")).with_support is True
    assert (await desk.rejoin("CS-AAAAAA")).with_support is True

    assert [(e.seq, e.kind, e.text) for e in await store.events("CS-AAAAAA")] == [
        (1, "returned", ""),
        (2, "status", "rejoined"),
    ]
    assert await after_open(store) == []  # support sees it in the case, nobody is messaged


async def test_set_thread_remembers_the_support_thread_quietly(store: SqlCaseStore) -> None:
    desk = await opened(store)
    wakes = Wakes()
    desk.on_change(wakes)
    thread = {"conversation": {"id": "19:abc@thread.tacv2;messageid=17"}, "card_id": "17"}

    case = await desk.set_thread("CS-AAAAAA", thread)

    assert case.support_thread == thread
    assert await store.by_thread("19:abc@thread.tacv2") == case
    assert await store.events("CS-AAAAAA") == [] and await after_open(store) == []
    assert wakes.count == 0


# --- no-ops ---------------------------------------------------------------------------------------------------------


async def test_taking_twice_by_the_same_person_is_a_no_op(store: SqlCaseStore) -> None:
    desk = await opened(store)
    first = await desk.take("CS-AAAAAA", "Grace")
    items = await after_open(store)
    wakes = Wakes()
    desk.on_change(wakes)

    again = await desk.take("CS-AAAAAA", "Grace")

    assert again == first and await store.get("CS-AAAAAA") == first
    assert [e.kind for e in await store.events("CS-AAAAAA")] == ["taken"]
    assert await after_open(store) == items
    assert wakes.count == 0


async def test_another_engineer_can_take_the_case_over(store: SqlCaseStore) -> None:
    desk = await opened(store)
    await desk.take("CS-AAAAAA", "Grace")

    case = await desk.take("CS-AAAAAA", "Linus")

    assert (case.status, case.taken_by) == ("taken", "Linus")
    assert [(e.kind, e.author) for e in await store.events("CS-AAAAAA")] == [("taken", "Grace"), ("taken", "Linus")]


async def test_resolve_is_final(store: SqlCaseStore) -> None:
    desk = await opened(store, ALL)
    resolved = await desk.resolve("CS-AAAAAA", "Grace", "fixed")
    events = await store.events("CS-AAAAAA")
    items = await after_open(store)
    wakes = Wakes()
    desk.on_change(wakes)

    assert await desk.take("CS-AAAAAA", "Linus") == resolved
    assert await desk.hub_status("CS-AAAAAA", "accepted", None) == resolved
    assert await desk.staff_reply("CS-AAAAAA", "Linus", "anything else?") == resolved
    assert await desk.resolve("CS-AAAAAA", "Linus", "again") == resolved
    assert await desk.hub_status("CS-AAAAAA", "completed", "again") == resolved
    assert await desk.rejoin("CS-AAAAAA") == resolved  # the user cannot put a resolved case back with support

    assert await store.get("CS-AAAAAA") == resolved
    assert (resolved.status, resolved.resolved_by, resolved.resolution, resolved.with_support) == (
        "resolved",
        "Grace",
        "fixed",
        False,
    )
    assert await store.events("CS-AAAAAA") == events
    assert await after_open(store) == items
    assert wakes.count == 0
    assert await desk.active_case("msteams", "a:chat-CS-AAAAAA") is None


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.user_message("CS-NOPE00", None, "hi"),
        lambda d: d.take("CS-NOPE00", "Grace"),
        lambda d: d.staff_reply("CS-NOPE00", "Grace", "hi"),
        lambda d: d.resolve("CS-NOPE00", "Grace"),
        lambda d: d.rate("CS-NOPE00", 3),
        lambda d: d.leave("CS-NOPE00"),
        lambda d: d.rejoin("CS-NOPE00"),
        lambda d: d.hub_status("CS-NOPE00", "failed", None),
        lambda d: d.set_thread("CS-NOPE00", {}),
    ],
)
async def test_a_change_to_an_unknown_case_is_case_not_found(store: SqlCaseStore, change: Change) -> None:
    desk = await opened(store)

    with pytest.raises(CaseNotFound) as raised:
        await change(desk)

    assert raised.value.ref == "CS-NOPE00" and "CS-NOPE00" in str(raised.value)
    assert isinstance(raised.value, LookupError)
    assert await store.deliveries("CS-NOPE00") == []


# --- races ----------------------------------------------------------------------------------------------------------


class ReadTogether:
    """A `CaseStore` that holds each `get` until `parties` readers have read, so they all act on the same version
    (the interleaving two instances produce when two engineers press Take at once); counts the conflicts."""

    def __init__(self, store: SqlCaseStore, gate: asyncio.Barrier) -> None:
        self._store = store
        self._gate = gate
        self._first = True
        self.conflicts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def get(self, ref: str) -> SupportCase | None:
        case = await self._store.get(ref)
        if self._first:  # only the first read of each desk: the retry must see the winner's write
            self._first = False
            await self._gate.wait()
        return case

    async def update(self, case: SupportCase, **kwargs: Any) -> CaseEvent | None:
        try:
            return await self._store.update(case, **kwargs)
        except CaseConflict:
            self.conflicts += 1
            raise


@pytest.fixture
def two_connections(tmp_path: Path) -> Iterator[tuple[SqlCaseStore, SqlCaseStore]]:
    """Two stores on two connections to one file, as two instances of the bot have."""
    first, second = SqliteDatabase(tmp_path / "shared.db"), SqliteDatabase(tmp_path / "shared.db")
    yield SqlCaseStore(first), SqlCaseStore(second)
    first.close()
    second.close()


async def test_two_instances_taking_at_once_record_one_take(
    two_connections: tuple[SqlCaseStore, SqlCaseStore],
) -> None:
    one, two = two_connections
    await SupportDesk(one, ALL).open(make_case(), make_bundle())
    gate = asyncio.Barrier(2)
    racing = [ReadTogether(one, gate), ReadTogether(two, gate)]
    desks = [SupportDesk(store, ALL) for store in racing]  # type: ignore[arg-type]

    results = await asyncio.gather(*(desk.take("CS-AAAAAA", "Grace") for desk in desks))

    assert sum(store.conflicts for store in racing) == 1  # the loser re-read and found it done
    stored = await two.get("CS-AAAAAA")
    assert results[0] == results[1] == stored
    assert stored is not None and (stored.status, stored.taken_by) == ("taken", "Grace")
    assert [(e.kind, e.author) for e in await one.events("CS-AAAAAA")] == [("taken", "Grace")]
    assert summary(await after_open(one)) == _expected(
        {"kind": "case.taken", "author": "Grace"}, (USER, "card", WEBHOOK), ALL
    )


async def test_two_engineers_taking_at_once_both_count_and_the_last_one_has_it(
    two_connections: tuple[SqlCaseStore, SqlCaseStore],
) -> None:
    one, two = two_connections
    await SupportDesk(one, ALL).open(make_case(), make_bundle())
    gate = asyncio.Barrier(2)
    racing = [ReadTogether(one, gate), ReadTogether(two, gate)]
    desks = [SupportDesk(store, ALL) for store in racing]  # type: ignore[arg-type]

    grace, linus = await asyncio.gather(desks[0].take("CS-AAAAAA", "Grace"), desks[1].take("CS-AAAAAA", "Linus"))

    stored = await one.get("CS-AAAAAA")
    assert stored is not None
    events = await one.events("CS-AAAAAA")
    assert sorted(e.author or "" for e in events) == ["Grace", "Linus"]
    assert stored.taken_by == events[-1].author  # the case says who took it last, as the events do
    assert stored in (grace, linus)
    assert len(await after_open(one)) == 2 * 3  # each take told the user, the card and the webhook


async def test_a_change_racing_another_kind_of_change_loses_neither(
    two_connections: tuple[SqlCaseStore, SqlCaseStore],
) -> None:
    one, two = two_connections
    await SupportDesk(one, ALL).open(make_case(), make_bundle())
    gate = asyncio.Barrier(2)
    thread = {"conversation": {"id": "19:abc@thread.tacv2"}, "card_id": "1"}
    staff = SupportDesk(ReadTogether(one, gate), ALL)  # type: ignore[arg-type]
    outbox_side = SupportDesk(ReadTogether(two, gate), ALL)  # type: ignore[arg-type]

    await asyncio.gather(staff.take("CS-AAAAAA", "Grace"), outbox_side.set_thread("CS-AAAAAA", thread))

    stored = await one.get("CS-AAAAAA")
    assert stored is not None and (stored.taken_by, stored.support_thread) == ("Grace", thread)


def _in_thread(work: Callable[[], Any], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    return threading.Thread(target=run)


@pytest.fixture
def switch_often() -> Iterator[None]:
    """Let threads take turns every 10 µs, so two desks' reads and writes interleave (some updates conflict)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("switch_often")
def test_two_instances_changing_one_case_in_parallel_lose_no_update(tmp_path: Path) -> None:
    """Two threads, each with its own event loop and its own connection, hammer one case: every change lands once,
    with its items, and no field one of them set is overwritten by the other's stale copy."""
    path = tmp_path / "shared.db"
    setup = SqliteDatabase(path)
    asyncio.run(SupportDesk(SqlCaseStore(setup), ALL).open(make_case(), make_bundle()))
    setup.close()
    rounds = 60
    errors: list[BaseException] = []
    thread = {"conversation": {"id": "19:abc@thread.tacv2"}, "card_id": "1"}

    async def user_side() -> None:
        db = SqliteDatabase(path)
        desk = SupportDesk(SqlCaseStore(db), ALL)
        for n in range(rounds):
            await desk.user_message("CS-AAAAAA", "Zoë", f"message {n}")
        await desk.set_thread("CS-AAAAAA", thread)
        db.close()

    async def staff_side() -> None:
        db = SqliteDatabase(path)
        desk = SupportDesk(SqlCaseStore(db), ALL)
        await desk.take("CS-AAAAAA", "Grace")
        for n in range(rounds):
            await desk.staff_reply("CS-AAAAAA", "Grace", f"reply {n}")
        db.close()

    threads = [_in_thread(user_side, errors), _in_thread(staff_side, errors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors

    db = SqliteDatabase(path)
    try:
        store = SqlCaseStore(db)
        case = asyncio.run(store.get("CS-AAAAAA"))
        events = asyncio.run(store.events("CS-AAAAAA"))
        items = asyncio.run(after_open(store))
    finally:
        db.close()
    assert case is not None and (case.status, case.taken_by, case.support_thread) == ("taken", "Grace", thread)
    assert [e.seq for e in events] == list(range(1, 2 * rounds + 2))
    assert [e.text for e in events if e.kind == "user_message"] == [f"message {n}" for n in range(rounds)]
    assert [e.text for e in events if e.kind == "staff_reply"] == [f"reply {n}" for n in range(rounds)]
    # each message: teams + webhook; the take: user + card + webhook; each reply: user + webhook
    assert len(items) == 2 * rounds + 3 + 2 * rounds
    assert len({(i.target, i.key) for i in items}) == len(items)


class AlwaysStale:
    """A `CaseStore` whose every update loses the race."""

    def __init__(self, store: SqlCaseStore) -> None:
        self._store = store
        self.updates = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def update(self, case: SupportCase, **kwargs: Any) -> CaseEvent | None:
        self.updates += 1
        raise CaseConflict(case.ref)


async def test_a_change_that_keeps_losing_the_race_gives_up_with_case_conflict(store: SqlCaseStore) -> None:
    await opened(store)
    stale = AlwaysStale(store)
    wakes = Wakes()
    desk = SupportDesk(stale, ALL, wake=wakes)  # type: ignore[arg-type]

    with pytest.raises(CaseConflict) as raised:
        await desk.take("CS-AAAAAA", "Grace")

    assert raised.value.ref == "CS-AAAAAA"
    assert stale.updates == _TRIES
    assert wakes.count == 0
    assert await store.events("CS-AAAAAA") == []
