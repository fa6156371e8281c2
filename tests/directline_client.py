"""Web Chat's side of the embedded Direct Line, as DirectLineJS drives it over HTTP: a token from the token route,
a started conversation, messages posted and activities polled. Shared by the Web Chat and Direct Line tests."""

from __future__ import annotations

BASE = "/v3/directline"
WELCOME_EN = "Hi! I help you troubleshoot"
# what Web Chat 4.18.1 posts (captured from the browser), minus the volatile fields
WEB_CHAT_HEADERS = {"x-ms-bot-agent": "DirectLine/3.0 (directlinejs; WebChat/4.18.1 (Full) 0.15.5)"}


def message(text: str, client_id: str = "c-1", locale: str = "en-US", **extra: object) -> dict:
    return {
        "type": "message",
        "text": text,
        "textFormat": "plain",
        "channelId": "webchat",
        "from": {"id": "someone-else", "name": "", "role": "user"},
        "locale": locale,
        "localTimezone": "Europe/Rome",
        "attachments": [],
        "channelData": {"attachmentSizes": [], "clientActivityID": client_id},
        **extra,
    }


async def session(client) -> tuple[str, dict[str, str], dict]:
    resp = await client.post("/api/directline/token")
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    data = await resp.json()
    return data["conversationId"], {"Authorization": f"Bearer {data['token']}", **WEB_CHAT_HEADERS}, data


async def start(client, locale: str = "en-US") -> tuple[str, dict[str, str]]:
    conversation, auth, _ = await session(client)
    resp = await client.post(f"{BASE}/conversations", json={"user": {"id": "ignored"}, "locale": locale}, headers=auth)
    assert resp.status == 201
    assert (await resp.json())["conversationId"] == conversation
    return conversation, auth


async def settle(client) -> None:
    """Wait until the bot has run every queued turn (they run in the background; a post returns at once)."""
    from bot.app import DIRECT_LINE

    await client.app[DIRECT_LINE].idle()


async def activities(client, conversation: str, auth: dict[str, str], watermark: str = "") -> dict:
    """The activities after `watermark`, once the queued turns have run."""
    await settle(client)
    resp = await client.get(f"{BASE}/conversations/{conversation}/activities?watermark={watermark}", headers=auth)
    assert resp.status == 200, await resp.text()
    return await resp.json()
