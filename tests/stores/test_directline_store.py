"""The embedded Direct Line's shared store (`stores.sql.directline`) on both engines: conversations started once,
activities stamped in order with strictly increasing timestamps, histories bounded in count and bytes, tokens kept as
hashes and bounded per conversation, stream tokens used once, the sweep, two connections (two instances) seeing one
conversation, and PostgreSQL's notification of appends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from stores.sql.database import Database
from stores.sql.directline import CHANNEL, SqlDirectLineStore, token_hash


async def _conversation(store: SqlDirectLineStore, cid: str = "c-1", *, vouched: bool = False) -> None:
    await store.create(cid, f"user-{cid}", "it-IT", vouched, 1000.0)


async def test_a_conversation_starts_once_and_stamps_its_activities_in_order(database: Database) -> None:
    store = SqlDirectLineStore(database)
    await _conversation(store)
    assert await store.start("c-1", "en-US") is True
    assert await store.start("c-1", None) is False  # another request, another instance: no second welcome
    stored = await store.conversation("c-1")
    assert stored is not None and stored.started and stored.locale == "en-US" and stored.user_id == "user-c-1"
    first, second = {"type": "message", "text": "a"}, {"type": "message", "text": "b"}
    assert await store.append("c-1", first, 5_000) == 1
    assert await store.append("c-1", second, 4_000) == 2  # a clock behind: the timestamp still moves on
    assert first["id"] == "c-1|0000001" and second["id"] == "c-1|0000002"
    assert first["timestamp"] == "1970-01-01T00:00:05.000Z" and second["timestamp"] == "1970-01-01T00:00:05.001Z"
    assert await store.activities("c-1", 0) == ([first, second], 2)
    assert await store.activities("c-1", 1) == ([second], 2)
    assert await store.activities("c-1", 2) == ([], 2)
    assert await store.append("gone", {"type": "message"}, 1) is None


async def test_the_history_is_bounded_in_count_and_bytes_and_keeps_the_newest(database: Database) -> None:
    store = SqlDirectLineStore(database, max_history=3, max_history_bytes=10_000)
    await _conversation(store)
    for n in range(5):
        await store.append("c-1", {"type": "message", "text": str(n)}, 1)
    found, watermark = await store.activities("c-1", 0)
    assert watermark == 5 and [a["text"] for a in found] == ["2", "3", "4"]
    store.max_history_bytes = 250
    await store.append("c-1", {"type": "message", "text": "x" * 300}, 1)  # larger than the bound on its own
    found, watermark = await store.activities("c-1", 0)
    assert watermark == 6 and [a["text"] for a in found] == ["x" * 300]
    rows = await database.query("SELECT kept, size FROM dl_conversation WHERE id = ?", ("c-1",))
    sizes = await database.query("SELECT COUNT(*), SUM(size) FROM dl_activity WHERE conversation_id = ?", ("c-1",))
    assert rows == [(1, sizes[0][1])] and sizes[0][0] == 1  # the running totals match the rows


async def test_tokens_are_kept_as_hashes_bounded_per_conversation(database: Database) -> None:
    store = SqlDirectLineStore(database, max_tokens=2)
    await _conversation(store)
    for n in range(3):
        await store.issue(f"token-{n}", "c-1", "token", 2000.0)
    assert await store.token("token-0") is None  # the oldest beyond the bound
    grant = await store.token("token-2")
    assert grant is not None and grant.conversation_id == "c-1" and grant.expires_at == 2000.0
    assert await store.token("token-2", "stream") is None  # a token is not a stream token
    hashes = [h for (h,) in await database.query("SELECT hash FROM dl_token")]
    assert "token-2" not in hashes and token_hash("token-2") in hashes
    assert await store.alive("c-1", 1999.0) and not await store.alive("c-1", 2000.0)


async def test_a_stream_token_opens_once_and_names_its_token(database: Database) -> None:
    store = SqlDirectLineStore(database)
    await _conversation(store)
    await store.issue("token", "c-1", "token", 2000.0)
    await store.issue("stream", "c-1", "stream", 1060.0, parent="token", since=7)
    assert await store.token("stream") is None  # not usable as a bearer token
    grant = await store.redeem("stream")
    assert grant is not None and (grant.conversation_id, grant.since) == ("c-1", 7)
    assert grant.parent == token_hash("token") and await store.token_by_hash(grant.parent) is not None
    assert await store.redeem("stream") is None  # used


async def test_the_sweep_forgets_idle_conversations_and_expired_tokens(database: Database) -> None:
    store = SqlDirectLineStore(database)
    await _conversation(store, "idle")
    await _conversation(store, "busy", vouched=True)
    await store.append("idle", {"type": "message"}, 1)
    await store.issue("old", "busy", "token", 1500.0)
    await store.issue("new", "busy", "token", 9000.0)
    await store.touch("busy", 1900.0, granularity=30.0)
    await store.touch("busy", 1910.0, granularity=30.0)  # within the granularity: not written
    assert (await store.conversation("busy")).touched == 1900.0  # type: ignore[union-attr]
    assert await store.population() == (2, 1)
    assert await store.sweep(now=2000.0, idle=500.0) == ["idle"]
    assert await store.conversation("idle") is None and await store.activities("idle", 0) == ([], 0)
    assert await store.token("old") is None and await store.token("new") is not None
    assert await store.population() == (1, 0)


async def test_two_instances_share_one_conversation(open_database: Callable[[], Database]) -> None:
    one, two = open_database(), open_database()
    try:
        a, b = SqlDirectLineStore(one), SqlDirectLineStore(two)
        await _conversation(a)
        await a.issue("token", "c-1", "token", 2000.0)
        assert (await b.token("token")) is not None
        results = await asyncio.gather(*(s.start("c-1", None) for s in (a, b, a, b)))
        assert sorted(results) == [False, False, False, True]  # welcomed once, whichever instance is asked
        seqs = await asyncio.gather(
            *(s.append("c-1", {"type": "message", "text": str(n)}, 1) for n, s in enumerate([a, b] * 10))
        )
        assert sorted(seqs) == list(range(1, 21))  # no watermark given twice
        found, watermark = await b.activities("c-1", 0)
        assert watermark == 20 and sorted(int(x["text"]) for x in found) == list(range(20))
        stamps = [x["timestamp"] for x in found]
        assert stamps == sorted(stamps) and len(set(stamps)) == 20
    finally:
        await one.aclose()
        await two.aclose()


async def test_postgresql_notifies_appends_to_every_instance(open_database: Callable[[], Database]) -> None:
    one, two = open_database(), open_database()
    try:
        listener = SqlDirectLineStore(two).changes()
        if one.dialect == "sqlite":
            assert listener is None  # SQLite's readers poll
            return
        assert listener is not None
        first = asyncio.ensure_future(anext(listener))
        store = SqlDirectLineStore(one)
        await _conversation(store)
        for _ in range(20):  # until LISTEN is in place (the listener connects in the background)
            await store.append("c-1", {"type": "message"}, 1)
            done, _ = await asyncio.wait([first], timeout=0.5)
            if done:
                break
        assert first.result() == "c-1"
        assert CHANNEL == "cosell_directline"
        await listener.aclose()  # type: ignore[attr-defined]
    finally:
        await one.aclose()
        await two.aclose()
