"""Compact transcripts (`stores.sql.transcript_codec`): real turns of the assistant — English and Italian, text and
Adaptive Card channels, suggested actions, clarifying questions, escalation — read back exactly as the redacted
activities they were, and rows in the earlier full form still read back as they were stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botbuilder.schema import Activity

from assistant.redaction.masking import redacted_json
from bot.local import LocalConversation
from bot.settings import Settings
from bot.wiring import build_assistant
from stores.sql.transcript_codec import ACTIVITY_KEYS

SCRIPTS = {
    "en": ["hello", "WorkflowTriggerNotFound when I turn on a flow", "no", "connector", "talk to a person"],
    "it": ["ciao", "limite chiamate api al giorno connettori", "sì", "non funziona la sincronizzazione", "agente"],
}


def test_the_codec_knows_msrests_key_order() -> None:
    assert ACTIVITY_KEYS == tuple(v["key"] for v in Activity._attribute_map.values())


@pytest.mark.parametrize("channel", ["test", "webchat", "msteams"])
@pytest.mark.parametrize("lang", ["en", "it"])
async def test_real_turns_read_back_as_the_redacted_activities(settings: Settings, channel: str, lang: str) -> None:
    assistant = build_assistant(settings)
    store, logged = assistant.transcripts, []
    write = store.log_serialized

    async def recording(entries: Any, facts: Any = None) -> None:
        logged.extend(entries)
        await write(entries, facts)

    store.log_serialized = recording  # type: ignore[method-assign]
    try:
        chat = LocalConversation(assistant, "it-IT" if lang == "it" else "en-US", channel_id=channel)
        await chat.start()
        for text in SCRIPTS[lang]:
            await chat.say(text)
        await chat.say("my password is hunter2secret and token sk-abcdefghijklmnopqrstuvwxyz123456")
        rows = await store.get_transcript(channel, chat.conversation_id)
        latest = await store.get_transcript(channel, chat.conversation_id, limit=3)
        [(parts,)] = await assistant.database.query("SELECT COUNT(*) FROM transcript WHERE part IS NOT NULL")
    finally:
        await assistant.close()

    expected = [(direction, redacted_json(raw)) for raw, direction in logged]
    # the same activities, key order included, as the full form stored them
    assert [(r["direction"], json.dumps(r["activity"], ensure_ascii=False)) for r in rows] == expected
    assert [r["activity"] for r in latest] == [json.loads(text) for _d, text in expected[-3:]]
    assert parts > 0 and len(rows) > 2 * len(SCRIPTS[lang])
    assert "hunter2secret" not in json.dumps([r["activity"] for r in rows])


async def test_rows_in_the_full_form_read_back_as_stored(settings: Settings) -> None:
    assistant = build_assistant(settings)
    try:
        old = {"type": "message", "id": "1", "channelId": "test", "conversation": {"id": "c"}, "text": "hi"}
        await assistant.database.execute(
            "INSERT INTO transcript (channel_id, conversation_id, activity_id, direction, type, timestamp, data)"
            " VALUES ('test', 'c', '1', 'in', 'message', '2026-01-01T00:00:00.000Z', ?)",
            (json.dumps(old),),
        )
        [row] = await assistant.transcripts.get_transcript("test", "c")
    finally:
        await assistant.close()
    assert row["activity"] == old


async def test_a_hand_made_activity_out_of_msrests_order_is_stored_whole(settings: Settings) -> None:
    assistant = build_assistant(settings)
    try:
        odd = {"text": "first", "type": "message", "conversation": {"id": "c"}, "channelId": "test", "extra": [1]}
        await assistant.transcripts.log_serialized([(odd, "in")])
        [row] = await assistant.transcripts.get_transcript("test", "c")
    finally:
        await assistant.close()
    assert json.dumps(row["activity"]) == json.dumps(odd)
