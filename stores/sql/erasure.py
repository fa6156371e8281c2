"""The right to erasure: `forget(db, user_id)` erases one person's data everywhere the stores keep it and returns the
rows per table (`cosell-bot forget --user ID`, through `SqlRetention.forget`).

First it finds the person's conversations: the transcript rows sent by or to them (`transcript.user_id`, migration
3 of `stores.sql.schema`), the cases they opened (`user_id` or `aad_object_id` of the case) and the remediations they
asked for (`remediation.user_id`). Then, one transaction per store:

1. cases: the personal fields (`assistant.handoff.model.SupportCase`) blanked or replaced by "[erased]": the
   requester's id, AAD object id and name, the conversation reference (nothing can reach them any more: the pending
   messages to them are marked failed), their own words (the description; the summary when it was their words;
   their messages in the case's events, in its outbox payloads and in the bundle's transcript); the bundle's
   requester too. The case's history for support stays: its events (who took it, replied, resolved it, when), the
   checks, the answers, the rating. `updated` moves on, so a change prepared from an earlier read fails its check
   (`CaseConflict`) and is applied again on the erased case instead of writing the old fields back;
2. the journal: the feedback, checklist and remediation rows of those conversations, and every remediation row with
   their user id (on SQLite, the hand-over rows of earlier builds of those conversations too);
3. state: their user state in every channel (`{channel}/users/{id}`, botbuilder's key) and the conversation state
   of those conversations (`{channel}/conversations/{id}`);
4. the embedded Direct Line's copy of their web chat conversations (`stores.sql.directline`: the conversation, its
   history, its tokens), found by its user id and among the conversations above;
5. transcripts, last: they are how a second run finds the conversations should an earlier step fail; with them the
   shared parts (`stores.sql.transcript_codec`) only their rows referred to.

A conversation goes whole, even one other people took part in (a group chat): its transcript and state are the
conversation's. With `dry_run` every step runs in its transaction and is rolled back at the end: the counts are
exactly what would change, and nothing does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.handoff.model import HANDOFF_EVENT, USER, SupportCase
from stores.sql.cases import _UPDATE_CASE, _case_row
from stores.sql.database import Connection, Database, Dialect
from stores.sql.transcripts import delete_conversation, delete_orphan_parts

ERASED = "[erased]"
_UNDELIVERABLE = "not delivered: the user's data was erased"
_CHUNK = 500  # ids per IN (...) list

_CASES_OF: dict[Dialect, str] = {
    "sqlite": "SELECT ref, data, updated FROM cases"
    " WHERE json_extract(data, '$.user_id') = ? OR json_extract(data, '$.aad_object_id') = ?",
    "postgresql": "SELECT ref, data, updated FROM cases"
    " WHERE (data::json ->> 'user_id') = ? OR (data::json ->> 'aad_object_id') = ? FOR UPDATE",
}


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction, to roll it back."""


Step = Callable[[Connection], Awaitable[dict[str, int]]]


async def _run(db: Database, step: Step, dry_run: bool) -> dict[str, int]:
    """`step` in one transaction: committed, or with `dry_run` rolled back; its counts either way."""
    counts: dict[str, int] = {}
    try:
        async with db.transaction() as conn:
            counts = await step(conn)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return counts


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def _delete_in(conn: Connection, table: str, column: str, values: Iterable[Any]) -> int:
    wanted = sorted(set(values))
    deleted = 0
    for chunk in _chunks(wanted):
        marks = ",".join("?" * len(chunk))
        deleted += (await conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)).rowcount
    return deleted


def _their_words(summary: str, description: str) -> bool:
    """The summary is (the start of) the user's own description: the bundle's fallback when nothing else tells."""
    words = " ".join(description.split())
    return bool(summary and words) and words.startswith(summary)


def _erased_case(case: SupportCase, now: datetime) -> SupportCase:
    return case.model_copy(
        update={
            "user_id": None,
            "aad_object_id": None,
            "user_name": ERASED if case.user_name else None,
            "description": ERASED if case.description else "",
            "summary": ERASED if _their_words(case.summary, case.description) else case.summary,
            "user_reference": {},
            "updated": max(now, case.updated + timedelta(microseconds=1)),  # always moves on
        }
    )


def _erased_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    out = dict(bundle)
    user = out.get("user")
    if isinstance(user, dict):
        out["user"] = {**user, "name": ERASED if user.get("name") else None, "id": None, "aad_object_id": None}
    description = out.get("description")
    if description:
        out["description"] = ERASED
    summary = out.get("summary")
    if isinstance(summary, str) and isinstance(description, str) and _their_words(summary, description):
        out["summary"] = ERASED
    lines = out.get("transcript")
    if isinstance(lines, list):
        out["transcript"] = [
            {**line, "text": ERASED} if isinstance(line, dict) and line.get("role") == "user" else line
            for line in lines
        ]
    return out


def _erased_payload(payload: dict[str, Any], name: str | None) -> dict[str, Any]:
    out = dict(payload)
    if out.get("kind") == "case.user_message":
        out["text"] = ERASED
        out["author"] = ERASED if out.get("author") else None
    elif name and out.get("author") == name:
        out["author"] = ERASED
    return out


async def _erase_case(conn: Connection, ref: str, data: str, updated: str, now: datetime) -> dict[str, int]:
    """One case, its events, bundle and outbox payloads (inside the cases' transaction)."""
    case = SupportCase.model_validate_json(data)
    name = case.user_name
    row = _case_row(_erased_case(case, now))
    counts = {"cases": (await conn.execute(_UPDATE_CASE, (*row[1:], ref, updated))).rowcount}
    events = await conn.execute(
        "UPDATE case_events SET author = CASE WHEN author IS NULL THEN NULL ELSE ? END, text = ?"
        " WHERE ref = ? AND kind = 'user_message'",
        (ERASED, ERASED, ref),
    )
    counts["case_events"] = events.rowcount
    if name:
        named = await conn.execute(
            "UPDATE case_events SET author = ? WHERE ref = ? AND author = ? AND kind != 'user_message'",
            (ERASED, ref, name),
        )
        counts["case_events"] += named.rowcount
    counts["case_bundles"] = 0
    for (bundle,) in (await conn.execute("SELECT data FROM case_bundles WHERE ref = ?", (ref,))).rows:
        erased = json.dumps(_erased_bundle(json.loads(bundle)), sort_keys=True)
        counts["case_bundles"] += (
            await conn.execute("UPDATE case_bundles SET data = ? WHERE ref = ?", (erased, ref))
        ).rowcount
    changed: set[int] = set()
    items = await conn.execute("SELECT id, payload FROM outbox WHERE ref = ?", (ref,))
    for item_id, payload in items.rows:
        loaded = json.loads(payload)
        erased_payload = _erased_payload(loaded, name)
        if erased_payload != loaded:
            await conn.execute(
                "UPDATE outbox SET payload = ? WHERE id = ?", (json.dumps(erased_payload, sort_keys=True), item_id)
            )
            changed.add(item_id)
    # the user's conversation reference is gone: what was still to be sent to them cannot be, and is not retried
    failed = await conn.execute(
        "UPDATE outbox SET status = 'failed', last_error = ?, owner = NULL, lease_until = NULL"
        " WHERE ref = ? AND target IN (?, ?) AND status = 'pending' RETURNING id",
        (_UNDELIVERABLE, ref, USER, HANDOFF_EVENT),
    )
    changed.update(item_id for (item_id,) in failed.rows)
    counts["outbox"] = len(changed)
    return counts


async def _find(db: Database, user_id: str) -> tuple[set[tuple[str, str]], set[str]]:
    """The person's conversations (channel, id) and the conversation ids of their journal rows."""
    rows = await db.query("SELECT DISTINCT channel_id, conversation_id FROM transcript WHERE user_id = ?", (user_id,))
    conversations = {(channel, conversation) for channel, conversation in rows}
    # outside a transaction the row locks of FOR UPDATE would end at once: the plain read
    cases = await db.query(_CASES_OF[db.dialect].removesuffix(" FOR UPDATE"), (user_id, user_id))
    for _ref, data, _updated in cases:
        case = SupportCase.model_validate_json(data)
        conversations.add((case.channel_id, case.conversation_id))
    remediations = await db.query("SELECT DISTINCT conversation_id FROM remediation WHERE user_id = ?", (user_id,))
    journal = {conversation for _channel, conversation in conversations} | {c for (c,) in remediations}
    return conversations, journal


_ORDER = (
    "state",
    "transcript",
    "transcript_part",
    "dl_conversation",
    "dl_activity",
    "feedback",
    "checklist",
    "remediation",
    "handoff",
    "cases",
    "case_events",
    "case_bundles",
    "outbox",
)


class _Erasure:
    """The four steps of one `forget`, each a transaction's work (see the module docstring)."""

    def __init__(self, db: Database, user_id: str, now: datetime) -> None:
        self._db = db
        self._user = user_id
        self._now = now
        self.conversations: set[tuple[str, str]] = set()
        self.journal_conversations: set[str] = set()

    async def cases(self, conn: Connection) -> dict[str, int]:
        counts = dict.fromkeys(("cases", "case_events", "case_bundles", "outbox"), 0)
        # read again under the transaction's lock (SQLite: one writer; PostgreSQL: FOR UPDATE)
        for ref, data, updated in (await conn.execute(_CASES_OF[self._db.dialect], (self._user, self._user))).rows:
            for table, n in (await _erase_case(conn, ref, data, updated, self._now)).items():
                counts[table] += n
        return counts

    async def journal(self, conn: Connection) -> dict[str, int]:
        by_user = await conn.execute("DELETE FROM remediation WHERE user_id = ?", (self._user,))
        counts = {"feedback": 0, "checklist": 0, "remediation": by_user.rowcount}
        if self._db.dialect == "sqlite":  # the hand-over table of builds before support cases
            counts["handoff"] = 0
        for table in counts:
            counts[table] += await _delete_in(conn, table, "conversation_id", self.journal_conversations)
        return counts

    async def state(self, conn: Connection) -> dict[str, int]:
        suffix = f"/users/{self._user}"
        rows = await conn.execute(
            "SELECT key FROM state WHERE substr(key, length(key) - CAST(? AS INTEGER) + 1) = ?", (len(suffix), suffix)
        )
        # botbuilder's user key is "{channel}/users/{id}", and a channel id holds no "/"
        keys = {key for (key,) in rows.rows if "/" not in key[: -len(suffix)]}
        keys.update(f"{channel}/conversations/{conversation}" for channel, conversation in self.conversations)
        return {"state": await _delete_in(conn, "state", "key", keys)}

    async def web_chat(self, conn: Connection) -> dict[str, int]:
        """The embedded Direct Line's conversations of the person (theirs by user id, and those found above), with
        their histories and tokens."""
        rows = await conn.execute("SELECT id FROM dl_conversation WHERE user_id = ?", (self._user,))
        ids = {cid for (cid,) in rows.rows} | {c for channel, c in self.conversations if channel == "webchat"}
        await _delete_in(conn, "dl_token", "conversation_id", ids)
        activities = await _delete_in(conn, "dl_activity", "conversation_id", ids)
        return {"dl_conversation": await _delete_in(conn, "dl_conversation", "id", ids), "dl_activity": activities}

    async def transcripts(self, conn: Connection) -> dict[str, int]:
        deleted, parts = 0, []
        for channel, conversation in sorted(self.conversations):
            rows, used = await delete_conversation(conn, channel, conversation)
            deleted += rows
            parts += used
        # the bot's messages to them that no other conversation shares (one may quote their words)
        return {"transcript": deleted, "transcript_part": await delete_orphan_parts(conn, self._db.dialect, parts)}


async def forget(
    db: Database, user_id: str, *, dry_run: bool = False, clock: Callable[[], datetime] | None = None
) -> dict[str, int]:
    """Erase the data of the user `user_id` (see the module docstring); return the rows per table (those that
    would be, with `dry_run`)."""
    if not user_id.strip():
        raise ValueError("forget: a user id is required")
    erasure = _Erasure(db, user_id, (clock or (lambda: datetime.now(UTC)))())
    erasure.conversations, erasure.journal_conversations = await _find(db, user_id)
    counts: dict[str, int] = {}
    for step in (
        erasure.cases,
        erasure.journal,
        erasure.state,
        erasure.web_chat,
        erasure.transcripts,
    ):  # transcripts last
        counts.update(await _run(db, step, dry_run))
    return {table: counts[table] for table in _ORDER if table in counts}
