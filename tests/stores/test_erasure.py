"""Tests for stores/sql/erasure.py (`SqlRetention.forget`) on both engines: one person's data erased everywhere —
state, transcripts, the journal of their conversations, their cases' personal fields — while another person's stays
as it was, the cases keep their history but not the name, the counts say what changed, and the dry run changes
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.handoff.model import CaseEvent, OutboxItem, SupportCase
from assistant.ports import StateChange
from knowledge.models import Area
from stores.sql.cases import SqlCaseStore
from stores.sql.database import Database
from stores.sql.directline import SqlDirectLineStore
from stores.sql.journal import SqlJournal
from stores.sql.retention import SqlRetention
from stores.sql.state import SqlStateStore
from stores.sql.transcripts import SqlTranscriptStore

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
ALICE, BOB = "29:alice-id", "29:bob-id"
# a third user whose id differs from Alice's in case only, and one whose id ends like hers: neither is her
ALICE_UPPER, ENDS_LIKE_ALICE = "29:ALICE-ID", "x29:alice-id"
TABLES = (
    "state",
    "transcript",
    "feedback",
    "checklist",
    "remediation",
    "cases",
    "case_events",
    "case_bundles",
    "outbox",
    "dl_conversation",
    "dl_activity",
    "dl_token",
)


def _retention(db: Database) -> SqlRetention:
    return SqlRetention(db, days=30, case_days=365)


def _activity(conversation: str, user: str, name: str, text: str, direction: str) -> dict[str, Any]:
    person, bot = {"id": user, "name": name, "role": "user"}, {"id": "bot", "name": "Bot", "role": "bot"}
    return {
        "type": "message",
        "channelId": "msteams",
        "conversation": {"id": conversation},
        "from": person if direction == "in" else bot,
        "recipient": bot if direction == "in" else person,
        "timestamp": "2026-04-01T09:00:00.000Z",
        "text": text,
    }


async def _seed_person(db: Database, user: str, name: str, words: str) -> str:
    """Everything the stores keep of one person: state, a transcript, the journal and an open case; its ref."""
    first = name.split()[0].lower()
    conversation = f"a:1{first}"  # an opaque id, as Teams gives
    await SqlStateStore(db).write(
        {
            f"msteams/users/{user}": StateChange('{"lang": "en"}', None),
            f"webchat/users/{user}": StateChange('{"lang": "en"}', None),
            f"msteams/conversations/{conversation}": StateChange('{"dialog": []}', None),
        }
    )
    await SqlTranscriptStore(db).log_serialized(
        [
            (_activity(conversation, user, name, words, "in"), "in"),
            (_activity(conversation, user, name, f"Hello {name}", "out"), "out"),
        ]
    )
    # a second conversation, on Web Chat, found through its transcript only (no case, no remediation)
    webchat = f"dl_{first}"
    await SqlStateStore(db).write({f"webchat/conversations/{webchat}": StateChange('{"dialog": []}', None)})
    web_activity = {**_activity(webchat, user, name, f"{words} (web)", "in"), "channelId": "webchat"}
    await SqlTranscriptStore(db).log_serialized([(web_activity, "in")])
    journal = SqlJournal(db)
    await journal.record_feedback(webchat, "flows-order", True, "en")
    await journal.record_feedback(conversation, "run-solution-id", False, "en")
    await journal.record_checklist(conversation, Area.configuration, {"a": "open"})
    await journal.record_remediation(conversation, user, "start-flows", before={}, after={}, result="done")
    await journal.record_remediation(f"elsewhere-{user}", user, "start-flows", before={}, after={}, result="done")

    ref = f"CS-{first.upper()}"
    case = SupportCase(
        ref=ref,
        created=T0,
        updated=T0,
        channel_id="msteams",
        conversation_id=conversation,
        user_id=user,
        user_name=name,
        aad_object_id=f"aad-{user}",
        description=words,
        summary=words[:40],
        user_reference={"user": {"id": user, "name": name}, "serviceUrl": "https://smba.example/", "conversation": {}},
    )
    bundle = {
        "ref": ref,
        "user": {"name": name, "id": user, "aad_object_id": f"aad-{user}", "verified": True},
        "description": words,
        "summary": words[:40],
        "transcript": [{"role": "user", "text": words}, {"role": "bot", "text": "Try re-registering the webhook"}],
        "findings": [{"check": "webhook", "status": "fail"}],
    }
    store = SqlCaseStore(db)
    teams = OutboxItem(ref=ref, target="teams", key="case", next_at=T0)
    await store.create(case, bundle, [teams])
    steps: list[tuple[CaseEvent, list[OutboxItem]]] = [
        (
            CaseEvent(ref=ref, at=T0, kind="user_message", author=name, text=f"{words} (again)"),
            [
                OutboxItem(
                    ref=ref,
                    target="teams",
                    key="msg",
                    next_at=T0,
                    payload={"kind": "case.user_message", "author": name, "text": f"{words} (again)"},
                )
            ],
        ),
        (
            CaseEvent(ref=ref, at=T0, kind="taken", author="Sam (support)"),
            [
                OutboxItem(
                    ref=ref,
                    target="user",
                    key="taken",
                    next_at=T0,
                    payload={"kind": "case.taken", "author": "Sam (support)"},
                )
            ],
        ),
        (CaseEvent(ref=ref, at=T0, kind="staff_reply", author="Sam (support)", text="Please send the run id"), []),
    ]
    for i, (event, items) in enumerate(steps, start=1):
        read, case.updated = case.updated, T0 + timedelta(seconds=i)
        await store.update(case, expect_updated=read, event=event, items=items)
    # a web chat conversation of theirs on the embedded Direct Line: its history holds their words
    web_chat = SqlDirectLineStore(db)
    await web_chat.create(f"dl-{first}", user, "en-US", True, 0.0)
    await web_chat.append(f"dl-{first}", {"type": "message", "from": {"id": user}, "text": words}, 1)
    await web_chat.issue(f"token-{first}", f"dl-{first}", "token", 9e9)
    return ref


async def _dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the erasure touches, in a stable order."""
    return {table: sorted(map(tuple, await db.query(f"SELECT * FROM {table}")), key=repr) for table in TABLES}


@pytest.fixture
async def people(database: Database) -> dict[str, str]:
    refs = {
        ALICE: await _seed_person(database, ALICE, "Alice Example", "My flow fails since Monday, call me on 555"),
        BOB: await _seed_person(database, BOB, "Bob Other", "Bob's referrals do not sync"),
    }
    await SqlStateStore(database).write(
        {
            f"msteams/users/{ALICE_UPPER}": StateChange("{}", None),
            f"msteams/users/{ENDS_LIKE_ALICE}": StateChange("{}", None),
        }
    )
    return refs


async def test_forget_erases_that_person_everywhere_and_nobody_else(database: Database, people: dict[str, str]) -> None:
    bob_before = {
        table: [row for row in rows if "bob" in repr(row).lower()] for table, rows in (await _dump(database)).items()
    }

    counts = await _retention(database).forget(ALICE)

    expected = {
        "state": 4,  # her user state in two channels, her two conversations' state
        "transcript": 3,
        "transcript_part": 0,  # her rows are small: they share no part
        "feedback": 2,
        "checklist": 1,
        "remediation": 2,  # in her conversation, and the one elsewhere with her user id
        "cases": 1,
        "case_events": 1,  # her message (the taken and staff reply events are support's, unchanged)
        "case_bundles": 1,
        "outbox": 2,  # the Teams message's payload; the pending "taken" note to her, now failed
        "dl_conversation": 1,  # her web chat conversation on the embedded Direct Line, its history (and token)
        "dl_activity": 1,
    }
    if database.dialect == "sqlite":
        expected["handoff"] = 0
    assert counts == {table: expected[table] for table in counts} and set(counts) == set(expected)

    after = await _dump(database)
    decoys = {f"msteams/users/{ALICE_UPPER}", f"msteams/users/{ENDS_LIKE_ALICE}"}
    everything = repr({table: [row for row in rows if row[0] not in decoys] for table, rows in after.items()})
    for trace in (ALICE, "aad-29:alice", "Alice Example", "call me on 555", "since Monday"):
        assert trace not in everything
    assert {table: [row for row in rows if "bob" in repr(row).lower()] for table, rows in after.items()} == bob_before
    keys = {key for (key, *_rest) in after["state"]}
    assert f"msteams/users/{ALICE_UPPER}" in keys and f"msteams/users/{ENDS_LIKE_ALICE}" in keys


async def test_the_case_keeps_its_history_but_not_the_name(database: Database, people: dict[str, str]) -> None:
    store = SqlCaseStore(database)
    ref = people[ALICE]
    before = await store.get(ref)
    assert before is not None

    await _retention(database).forget(ALICE)

    case = await store.get(ref)
    assert case is not None
    assert (case.user_id, case.aad_object_id, case.user_name) == (None, None, "[erased]")
    assert (case.description, case.summary, case.user_reference) == ("[erased]", "[erased]", {})
    assert (case.status, case.channel_id, case.conversation_id) == (before.status, "msteams", before.conversation_id)
    assert case.updated > before.updated  # a change prepared from an earlier read fails instead of restoring her
    events = await store.events(ref)
    assert [(e.kind, e.author, e.text) for e in events] == [
        ("user_message", "[erased]", "[erased]"),
        ("taken", "Sam (support)", ""),
        ("staff_reply", "Sam (support)", "Please send the run id"),
    ]
    bundle = await store.bundle(ref)
    assert bundle is not None
    assert bundle["user"] == {"name": "[erased]", "id": None, "aad_object_id": None, "verified": True}
    assert bundle["transcript"] == [
        {"role": "user", "text": "[erased]"},
        {"role": "bot", "text": "Try re-registering the webhook"},
    ]
    assert bundle["findings"] == [{"check": "webhook", "status": "fail"}]
    deliveries = {item.key: item for item in await store.deliveries(ref)}
    assert deliveries["msg"].payload == {"kind": "case.user_message", "author": "[erased]", "text": "[erased]"}
    assert deliveries["taken"].status == "failed" and "erased" in (deliveries["taken"].last_error or "")
    assert deliveries["case"].status == "pending"  # support's copy of the case still goes to Teams


async def test_the_dry_run_counts_exactly_and_changes_nothing(database: Database, people: dict[str, str]) -> None:
    before = await _dump(database)

    dry = await _retention(database).forget(ALICE, dry_run=True)

    assert await _dump(database) == before
    assert dry == await _retention(database).forget(ALICE)
    assert set((await _retention(database).forget(ALICE)).values()) == {0}  # once erased, nothing is left


async def test_an_unknown_or_empty_user(database: Database, people: dict[str, str]) -> None:
    before = await _dump(database)
    assert set((await _retention(database).forget("29:nobody")).values()) == {0}
    assert await _dump(database) == before
    with pytest.raises(ValueError, match="user id"):
        await _retention(database).forget("  ")
