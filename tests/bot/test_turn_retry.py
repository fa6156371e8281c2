"""A turn whose state save loses the race to another instance runs again from what that instance saved, and its user
sees one answer, never the lost attempt's nor a "conflict" apology (the Bot Framework's scale-out guidance: e-tags, a
retry loop around the turn, replies held until the save). A turn that did something lasting is not run twice."""

from __future__ import annotations

from typing import Any

import pytest

from assistant import effects, messages
from assistant.ports import StateChange
from bot.local import LocalConversation
from bot.sdk.state import decode_item, encode_item
from bot.wiring import build_assistant
from stores.sql.state import SqlStateStore

QUESTION = "WorkflowTriggerNotFound when I turn on a flow"


class _OtherInstance:
    """Wraps the assistant's state store: before the first `n` writes of the conversation's key, another instance
    saves that key (as if its turn on the same conversation finished first), so the e-tag this turn read is stale."""

    def __init__(self, store: SqlStateStore, n: int, *, lasting: bool = False) -> None:
        self._store, self._write, self.left, self.writes, self.lasting = store, store.write, n, 0, lasting
        store.write = self.write  # type: ignore[method-assign]

    async def write(self, changes: Any) -> dict[str, str]:
        self.writes += 1
        if self.lasting:
            effects.record("journal")  # as if this turn had written a vote before its save
        for key in changes:
            if self.left and "/conversations/" in key:
                self.left -= 1
                stored = await self._store.read([key])
                item = decode_item(stored[key].data)[0] if key in stored else {}
                item.setdefault("ConversationData", {})["turns"] = 40  # the other instance's turns
                item.pop("e_tag", None)
                await self._write({key: StateChange(encode_item(item), "*")})
        return await self._write(changes)


@pytest.fixture
def assistant(settings):  # type: ignore[no-untyped-def]
    built = build_assistant(settings)
    yield built


async def _conversation_key(store: SqlStateStore) -> tuple[str, dict[str, Any]]:
    [(key, data)] = await store.database.query("SELECT key, data FROM state WHERE key LIKE '%/conversations/%'")
    return key, decode_item(data)[0]


async def test_a_turn_that_loses_the_save_runs_again_and_answers_once(assistant) -> None:  # type: ignore[no-untyped-def]
    store = assistant.storage.store
    talk = LocalConversation(assistant)
    first = await talk.say("hello")
    assert first.replies
    other = _OtherInstance(store, 1)

    outcome = await talk.say(QUESTION)

    texts = [a.text or "" for a in outcome.replies if a.type == "message"]
    conflict = {messages.text("conflict", lang) for lang in ("en", "it")}
    assert texts and not conflict & set(texts)
    assert outcome.match is not None and outcome.match.entry == "cfg-workflow-trigger-not-found"
    assert len([t for t in texts if t == texts[0]]) == 1  # the lost attempt's answer was never sent
    assert other.writes == 2  # the lost save, then the retried turn's
    _key, item = await _conversation_key(store)
    assert item["ConversationData"]["turns"] == 41  # run again on what the other instance saved
    await assistant.close()


async def test_a_turn_that_keeps_losing_gives_up_with_the_conflict_message(assistant) -> None:  # type: ignore[no-untyped-def]
    store = assistant.storage.store
    talk = LocalConversation(assistant)
    await talk.say("hello")
    other = _OtherInstance(store, 10)

    outcome = await talk.say(QUESTION)

    texts = [a.text or "" for a in outcome.replies if a.type == "message"]
    assert messages.text("conflict", "en") in texts
    assert other.writes == 3  # TURN_ATTEMPTS, then the error handler
    await assistant.close()


async def test_a_turn_that_did_something_lasting_is_not_run_twice(assistant) -> None:  # type: ignore[no-untyped-def]
    store = assistant.storage.store
    talk = LocalConversation(assistant)
    await talk.say("hello")
    other = _OtherInstance(store, 1, lasting=True)

    outcome = await talk.say(QUESTION)

    texts = [a.text or "" for a in outcome.replies if a.type == "message"]
    assert other.writes == 1  # not run again: the vote would be written twice
    assert len(texts) >= 2 and "WorkflowTriggerNotFound" in texts[0]  # what it answered goes out, then the conflict
    assert texts[-1] == messages.text("conflict", "en")
    await assistant.close()


def test_held_replies_keep_answers_and_let_progress_and_typing_through() -> None:
    from botbuilder.core import TurnContext
    from botbuilder.schema import Activity, ActivityTypes

    from bot.sdk.turn_context import HeldReplies
    from dialogs.state import SEND_NOW

    context = TurnContext.__new__(TurnContext)
    context._turn_state = {}  # only turn_state is used
    context._responded = False
    held = HeldReplies.hold(context)
    answer = [Activity(type=ActivityTypes.message, text="answer")]
    assert held.takes(context, answer) is not None and held.batches == [answer] and context.responded
    assert held.takes(context, [Activity(type=ActivityTypes.typing)]) is None
    context.turn_state[SEND_NOW] = True
    assert held.takes(context, [Activity(type=ActivityTypes.message, text="checking")]) is None
    del context.turn_state[SEND_NOW]
    held.discard()
    assert held.batches == []
