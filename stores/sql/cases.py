"""SqlCaseStore: support cases (escalation), their diagnostic bundles, their events and the delivery outbox, in the
bot's database (either engine): the `CaseStore` port (`assistant.ports`) over the models of `assistant.handoff.model`.

Every instance of the bot opens the same database, so what must be atomic across them is one transaction: a case or
an event is committed with the outbox items it causes; `claim` leases items with one `UPDATE … RETURNING`, so two
instances never lease the same item (SQLite: BEGIN IMMEDIATE, one writer at a time; PostgreSQL: the due rows are
locked with `FOR UPDATE SKIP LOCKED`, so a second claimer takes the next ones instead of the same); `settle` writes
only while the caller still holds the lease. An event's `seq` is the next of its case under the case row's lock
(the `UPDATE` of the case comes first in the same transaction), so two instances never give out the same one.

- `cases`: one row per case, the model's JSON plus the columns the queries need; `thread_id` is the support thread's
  conversation id without its `;messageid=` suffix (`by_thread`).
- `case_bundles`: the `cosell.case.v1` JSON. `case_events`: `seq` counts from 1 per case, assigned in `update`.
- `outbox`: one row per (ref, target, key), inserted once (a repeat is ignored: retried writes are idempotent);
  `owner` and `lease_until` hold the lease of a `claim`.

An `update` with an event cannot know the event's `seq` in advance, yet its items are keyed by it ("event:<seq>"):
the placeholder `{seq}` (`SEQ`) in an item's key is replaced by the seq assigned, in the same transaction.

Timestamps are fixed-width ISO-8601 UTC text (`2026-05-01T09:30:00.000000+00:00`), so text order is time order, and
are read back as aware datetimes; a naive datetime is refused (ValueError), never guessed at. Errors name refs and
ids, never user text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant import effects
from assistant.handoff import model as handoff_model
from assistant.ports import CaseConflict, CaseEvent, CaseStatus, OutboxItem, SupportCase
from assistant.redaction.masking import redact
from stores.sql.database import Database, Dialect

SEQ = "{seq}"  # in an item key given to `update` with an event: replaced by that event's seq
_MAX_ERROR_CHARS = 500  # a delivery error is a short reason, kept with the item and shown to operators

_CASE_COLUMNS = "ref, status, created, updated, channel_id, conversation_id, thread_id, data"
_ITEM_COLUMNS = "id, ref, target, key, payload, status, attempts, next_at, last_error, delivered_at, detail"
_INSERT_CASE = f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref) DO NOTHING"
_UPDATE_CASE = (
    "UPDATE cases SET status = ?, created = ?, updated = ?, channel_id = ?, conversation_id = ?, thread_id = ?,"
    " data = ? WHERE ref = ? AND updated = ?"
)
_INSERT_ITEM = (
    "INSERT INTO outbox (ref, target, key, payload, status, attempts, next_at, last_error, delivered_at, detail)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref, target, key) DO NOTHING"
)
# no UPDATE … LIMIT (SQLite has it only as a compile option): the subquery picks the oldest due items. SQLite runs
# the statement inside BEGIN IMMEDIATE, so no other writer can lease them between the SELECT and the UPDATE;
# PostgreSQL locks the rows it picks and skips those another claimer holds (without it, both would pick the same
# rows from their snapshots and both lease them)
_CLAIM = (
    "UPDATE outbox SET owner = ?, lease_until = ? WHERE id IN (SELECT id FROM outbox WHERE status = 'pending'"
    " AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?{lock})"
    f" RETURNING {_ITEM_COLUMNS}"
)
_CLAIMS: dict[Dialect, str] = {
    "sqlite": _CLAIM.replace("{lock}", ""),
    "postgresql": _CLAIM.replace("{lock}", " FOR UPDATE SKIP LOCKED"),
}
# the order of cases created in the same microsecond: the row's insertion order
_ORDER: dict[Dialect, str] = {"sqlite": "created DESC, rowid DESC", "postgresql": "created DESC, row_id DESC"}
_SETTLE_DELIVERED = (
    "UPDATE outbox SET status = 'delivered', delivered_at = ?, detail = ?, owner = NULL, lease_until = NULL"
    " WHERE id = ? AND owner = ? AND status = 'pending'"
)
_SETTLE_FAILED = (
    "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, next_at = COALESCE(?, next_at),"
    " detail = COALESCE(?, detail), owner = NULL, lease_until = NULL WHERE id = ? AND owner = ? AND status = 'pending'"
)
_MESSAGE_ID = re.compile(r";messageid=", re.IGNORECASE)


def _ts(value: datetime) -> str:
    """`value` as fixed-width ISO-8601 UTC text; refuses a naive datetime (its zone would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to the case store: use an aware one (UTC)")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _thread_id(conversation_id: str) -> str:
    """A Teams thread's conversation id without the `;messageid=…` that replies in the thread carry."""
    return _MESSAGE_ID.split(conversation_id, maxsplit=1)[0]


def _case_thread(case: SupportCase) -> str | None:
    conversation = (case.support_thread or {}).get("conversation")
    thread = conversation.get("id") if isinstance(conversation, dict) else None
    return _thread_id(thread) if isinstance(thread, str) and thread else None


def _case_row(case: SupportCase) -> tuple[Any, ...]:
    created, updated = _ts(case.created), _ts(case.updated)  # refuses naive ones before they reach the JSON
    data = case.model_copy(update={"created": case.created.astimezone(UTC), "updated": case.updated.astimezone(UTC)})
    return (
        case.ref,
        case.status,
        created,
        updated,
        case.channel_id,
        case.conversation_id,
        _case_thread(case),
        data.model_dump_json(),
    )


def _case(data: str) -> SupportCase:
    return SupportCase.model_validate_json(data)


def _item_rows(ref: str, items: Sequence[OutboxItem], seq: int | None = None) -> list[tuple[Any, ...]]:
    """The outbox rows of one write, `{seq}` in keys replaced by `seq`; checked before anything is written."""
    if others := sorted({item.ref for item in items} - {ref}):
        raise ValueError(f"outbox items of case(s) {', '.join(others)} given with case {ref}")
    if seq is None and any(SEQ in item.key for item in items):
        raise ValueError(f"an outbox item key of case {ref} holds {SEQ} but no event is written with it")
    return [
        (
            item.ref,
            item.target,
            item.key.replace(SEQ, str(seq)),
            json.dumps(item.payload, sort_keys=True),
            item.status,
            item.attempts,
            _ts(item.next_at),
            item.last_error,
            _ts(item.delivered_at) if item.delivered_at is not None else None,
            json.dumps(item.detail, sort_keys=True),
        )
        for item in items
    ]


def _item(row: Sequence[Any]) -> OutboxItem:
    id_, ref, target, key, payload, status, attempts, next_at, last_error, delivered_at, detail = row
    return OutboxItem(
        id=id_,
        ref=ref,
        target=target,
        key=key,
        payload=json.loads(payload),
        status=status,
        attempts=attempts,
        next_at=datetime.fromisoformat(next_at),
        last_error=last_error,
        delivered_at=_dt(delivered_at),
        detail=json.loads(detail),
    )


class SqlCaseStore:
    """The `CaseStore` port on the shared `Database` (see the module docstring for the tables and the lease).

    `clock` gives `delivered_at` in `settle` (the port passes no time there); by default the escalation code's one
    clock, `assistant.handoff.model.utcnow`, looked up at each call so a test's patch applies.
    """

    def __init__(self, db: Database, *, clock: Callable[[], datetime] | None = None) -> None:
        self._db = db
        self._clock = clock or (lambda: handoff_model.utcnow())
        self._order = _ORDER[db.dialect]
        self._claim = _CLAIMS[db.dialect]

    # --- cases ----------------------------------------------------------------------------------------------------

    async def create(self, case: SupportCase, bundle: dict[str, Any], items: Sequence[OutboxItem] = ()) -> None:
        """Store a new case, its bundle and its first outbox items, all or nothing.

        Raises:
            CaseConflict: a case with this ref exists already (nothing was written).
            ValueError: an item belongs to another case, or a timestamp is naive.
        """
        row = _case_row(case)
        item_rows = _item_rows(case.ref, items)
        bundle_json = json.dumps(bundle, sort_keys=True)
        async with self._db.transaction() as conn:
            if (await conn.execute(_INSERT_CASE, row)).rowcount != 1:
                raise CaseConflict(case.ref)
            await conn.execute(
                "INSERT INTO case_bundles (ref, data) VALUES (?, ?)"
                " ON CONFLICT(ref) DO UPDATE SET data = excluded.data",
                (case.ref, bundle_json),
            )
            await conn.executemany(_INSERT_ITEM, item_rows)
        effects.record("case")

    async def get(self, ref: str) -> SupportCase | None:
        rows = await self._db.query("SELECT data FROM cases WHERE ref = ?", (ref,))
        return _case(rows[0][0]) if rows else None

    async def bundle(self, ref: str) -> dict[str, Any] | None:
        rows = await self._db.query("SELECT data FROM case_bundles WHERE ref = ?", (ref,))
        if not rows:
            return None
        loaded: dict[str, Any] = json.loads(rows[0][0])
        return loaded

    async def list_cases(self, status: CaseStatus | None = None, *, limit: int = 100) -> list[SupportCase]:
        """Cases, newest (by `created`) first; only those in `status` when given."""
        if status is None:
            rows = await self._db.query(f"SELECT data FROM cases ORDER BY {self._order} LIMIT ?", (limit,))
        else:
            rows = await self._db.query(
                f"SELECT data FROM cases WHERE status = ? ORDER BY {self._order} LIMIT ?", (status, limit)
            )
        return [_case(data) for (data,) in rows]

    async def active_for(self, channel_id: str, conversation_id: str) -> SupportCase | None:
        rows = await self._db.query(
            "SELECT data FROM cases WHERE channel_id = ? AND conversation_id = ? AND status != 'resolved'"
            f" ORDER BY {self._order} LIMIT 1",
            (channel_id, conversation_id),
        )
        return _case(rows[0][0]) if rows else None

    async def by_thread(self, thread_conversation_id: str) -> SupportCase | None:
        """The case whose support thread is this conversation (`;messageid=` suffix or not); the newest if several."""
        rows = await self._db.query(
            f"SELECT data FROM cases WHERE thread_id = ? ORDER BY {self._order} LIMIT 1",
            (_thread_id(thread_conversation_id),),
        )
        return _case(rows[0][0]) if rows else None

    async def update(
        self,
        case: SupportCase,
        *,
        expect_updated: datetime,
        event: CaseEvent | None = None,
        items: Sequence[OutboxItem] = (),
    ) -> CaseEvent | None:
        """Save `case` if its stored `updated` is still `expect_updated` (to the microsecond); append `event` with
        the next seq of the case (returned) and the outbox items (`{seq}` in a key becomes that seq; an item whose
        (ref, target, key) exists already is skipped), in one transaction.

        The case is written as given: the caller moves `case.updated` on, or the next writer cannot tell its read
        is stale.

        Raises:
            CaseConflict: the case changed (or is gone) since it was read; nothing was written.
            ValueError: the event or an item belongs to another case, or a timestamp is naive.
        """
        if event is not None and event.ref != case.ref:
            raise ValueError(f"an event of case {event.ref} given with case {case.ref}")
        _item_rows(case.ref, items, 0 if event is not None else None)  # refuse bad items before writing anything
        row = _case_row(case)
        expected = _ts(expect_updated)
        event_at = _ts(event.at) if event is not None else None
        async with self._db.transaction() as conn:
            if (await conn.execute(_UPDATE_CASE, (*row[1:], case.ref, expected))).rowcount != 1:
                raise CaseConflict(case.ref)
            stored: CaseEvent | None = None
            if event is not None:
                [(seq,)] = (
                    await conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM case_events WHERE ref = ?", (case.ref,))
                ).rows
                await conn.execute(
                    "INSERT INTO case_events (ref, seq, at, kind, author, text) VALUES (?, ?, ?, ?, ?, ?)",
                    (case.ref, seq, event_at, event.kind, event.author, event.text),
                )
                stored = event.model_copy(update={"seq": seq})
            await conn.executemany(
                _INSERT_ITEM, _item_rows(case.ref, items, stored.seq if stored is not None else None)
            )
        effects.record("case")
        return stored

    async def events(self, ref: str) -> list[CaseEvent]:
        rows = await self._db.query(
            "SELECT seq, at, kind, author, text FROM case_events WHERE ref = ? ORDER BY seq", (ref,)
        )
        return [
            CaseEvent(ref=ref, seq=seq, at=datetime.fromisoformat(at), kind=kind, author=author, text=text)
            for seq, at, kind, author, text in rows
        ]

    # --- the outbox -----------------------------------------------------------------------------------------------

    async def claim(self, owner: str, now: datetime, lease: timedelta, *, limit: int = 20) -> list[OutboxItem]:
        """Lease up to `limit` pending items due at `now` whose lease is absent or over (`lease_until <= now`),
        oldest first, until `now + lease`; one statement in one write transaction, so atomic across processes."""
        if limit <= 0:
            return []
        at = _ts(now)
        async with self._db.transaction() as conn:
            rows = (await conn.execute(self._claim, (owner, _ts(now + lease), at, at, limit))).rows
        # RETURNING gives no order guarantee
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    async def settle(
        self,
        item_id: int,
        owner: str,
        *,
        delivered: bool,
        detail: Mapping[str, Any] | None = None,
        error: str | None = None,
        next_at: datetime | None = None,
    ) -> bool:
        """Record an attempt on an item `owner` has leased (still its owner, still pending; the lease may have run
        out as long as no one else claimed the item since). Delivered: status "delivered", `delivered_at` now,
        `detail`. Not: `attempts` + 1, `error` kept (redacted, shortened), due again at `next_at`, or status "failed"
        when None (`detail` replaces the stored one when given). The lease is released either way. False, and
        nothing written, when `owner` does not hold the item."""
        detail_json = json.dumps(dict(detail), sort_keys=True) if detail is not None else None
        params: tuple[Any, ...]
        if delivered:
            sql, params = _SETTLE_DELIVERED, (_ts(self._clock()), detail_json or "{}", item_id, owner)
        else:
            reason = redact(error)[:_MAX_ERROR_CHARS] if error is not None else None
            status, due = ("pending", _ts(next_at)) if next_at is not None else ("failed", None)
            sql, params = _SETTLE_FAILED, (status, reason, due, detail_json, item_id, owner)
        async with self._db.transaction() as conn:
            return (await conn.execute(sql, params)).rowcount == 1

    async def deliveries(self, ref: str) -> list[OutboxItem]:
        rows = await self._db.query(f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE ref = ? ORDER BY id", (ref,))
        return [_item(row) for row in rows]

    async def retry(self, ref: str, now: datetime) -> int:
        """Make the case's failed items pending again, due at `now` (a fresh budget of
        attempts; `last_error` kept until the next try)."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                "UPDATE outbox SET status = 'pending', next_at = ?, attempts = 0, owner = NULL, lease_until = NULL"
                " WHERE ref = ? AND status = 'failed'",
                (_ts(now), ref),
            )
            return result.rowcount
