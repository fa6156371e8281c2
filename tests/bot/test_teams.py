"""Teams: Action.Execute invokes refresh the card in place, @mentions are stripped, welcome on install."""

from __future__ import annotations

import uuid

from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, Entity

from bot.app import ASSISTANT, create_app
from tests.harness import DialogHarness


def _teams(type_: str, conversation: str, service_url: str, **extra: object) -> dict:
    return {
        "type": type_,
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "conversation": {"id": conversation, "conversationType": "personal"},
        "from": {"id": "29:user", "name": "Ada", "aadObjectId": "00000000-0000-0000-0000-000000000001"},
        "recipient": {"id": "28:bot", "name": "Co-sell Assistant"},
        "locale": "en-US",
        **extra,
    }


async def test_action_execute_invoke_refreshes_card_and_records_vote(
    aiohttp_client, settings, knowledge, fake_connector
) -> None:
    app = create_app(settings, knowledge=knowledge)
    client = await aiohttp_client(app)
    await client.post(
        "/api/messages", json=_teams("message", "a:1", fake_connector.url, text="Solution ID is required")
    )
    [answer] = [c.activity for c in fake_connector.calls]
    [execute] = [a for a in answer["attachments"][0]["content"]["actions"] if a["title"] == "Yes, it helped"]
    assert execute["type"] == "Action.Execute"
    invoke = _teams(
        "invoke",
        "a:1",
        fake_connector.url,
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": execute["verb"], "data": execute["data"]},
            "trigger": "manual",
        },
    )
    resp = await client.post("/api/messages", json=invoke)
    assert resp.status == 200
    body = await resp.json()
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    card = body["value"]
    assert card["version"] == "1.5" and "actions" not in card and "✔ Yes, it helped" in str(card["body"])
    assert "glad it helped" in fake_connector.calls[-1].activity["text"]
    assert app[ASSISTANT].journal.feedback()[-1]["entry_id"] == "run-solution-id"


async def test_area_button_invoke_starts_the_checklist(aiohttp_client, settings, knowledge, fake_connector) -> None:
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    invoke = _teams(
        "invoke",
        "a:2",
        fake_connector.url,
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "area", "data": {"area": "configuration"}}},
    )
    resp = await client.post("/api/messages", json=invoke)
    assert resp.status == 200 and (await resp.json())["statusCode"] == 200
    assert "step 1 of 5" in fake_connector.calls[-1].activity["summary"]


def _mention(text: str, conversation_type: str) -> Activity:
    at = "<at>Co-sell Assistant</at>"
    return Activity(
        type="message",
        text=f"{at} {text}",
        locale="en-US",
        conversation=ConversationAccount(id=f"19:{conversation_type}@thread.v2", conversation_type=conversation_type),
        entities=[
            Entity().deserialize(
                {"type": "mention", "text": at, "mentioned": {"id": "bot-1", "name": "Co-sell Assistant"}}
            )
        ],
    )


async def test_mention_is_stripped_in_channels_and_group_chats(knowledge) -> None:
    for conversation_type in ("channel", "groupChat"):
        h = DialogHarness(knowledge, channel_id="msteams")
        [reply] = await h.send_activity(_mention("Solution ID is required", conversation_type))
        assert "co-sell ready" in reply.summary
        [helped] = await h.send_activity(_mention("yes", conversation_type))  # a command after a mention still works
        assert "glad" in helped.text


async def test_welcome_on_install_skips_the_bot_and_needs_no_member_lookup(knowledge) -> None:
    h = DialogHarness(knowledge, channel_id="msteams", locale="it-IT")
    install = Activity(
        type="conversationUpdate",
        members_added=[ChannelAccount(id="bot-1", name="Bot"), ChannelAccount(id="29:new-user")],  # no properties
        locale="it-IT",
    )
    [welcome] = await h.send_activity(install)
    assert (
        welcome.summary.startswith("Ciao!") and welcome.attachments[0].content["actions"][0]["type"] == "Action.Execute"
    )
    bot_only = Activity(type="conversationUpdate", members_added=[ChannelAccount(id="bot-1")], locale="it-IT")
    assert await h.send_activity(bot_only) == []
