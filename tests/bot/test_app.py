"""The web app end to end over HTTP: /api/messages with a fake connector and with expectReplies, health,
auth, bad input, transcripts with redaction, and a restart over the same database file."""

from __future__ import annotations

import gc
import uuid

from bot.app import ASSISTANT, create_app, tune_gc_for_serving


def _shown(activity: dict) -> str:
    """What the user sees: the text, or the plain-text summary of a card."""
    return (activity.get("text") or "") + (activity.get("summary") or "")


def _message(text: str | None, service_url: str, conversation: str = "conv/1", **extra: object) -> dict:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "emulator",
        "serviceUrl": service_url,
        "conversation": {"id": conversation},
        "from": {"id": "user-1", "name": "Ada"},
        "recipient": {"id": "bot-1", "name": "Bot"},
        "locale": "en-US",
        "text": text,
        **extra,
    }


async def test_normal_delivery_posts_answer_to_connector(aiohttp_client, settings, knowledge, fake_connector) -> None:
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    resp = await client.post("/api/messages", json=_message("Solution ID is required", fake_connector.url))
    assert resp.status in (200, 201)
    [call] = [c for c in fake_connector.calls if c.activity["type"] == "message"]
    assert call.path.startswith("/v3/conversations/conv%2F1/activities/")
    assert "co-sell ready solution" in _shown(call.activity)
    assert call.authorization is None  # auth is off without an app id


async def test_expect_replies_returns_the_turn(aiohttp_client, settings, knowledge) -> None:
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    body = _message("quanto costa il connettore a pagamento?", "http://127.0.0.1:9", deliveryMode="expectReplies")
    resp = await client.post("/api/messages", json=body)
    assert resp.status == 200
    texts = [_shown(a) for a in (await resp.json())["activities"] if a["type"] == "message"]
    assert any("15" in t and "AppSource" in t for t in texts)


async def test_health_and_readiness(aiohttp_client, settings, knowledge) -> None:
    app = create_app(settings, knowledge=knowledge)
    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    app[ASSISTANT].database.close()
    resp = await client.get("/readyz")
    assert resp.status == 503 and "storage" in (await resp.json())["failed"]


async def test_auth_on_rejects_unsigned_requests(aiohttp_client, make_settings, knowledge) -> None:
    settings = make_settings(app_id=str(uuid.uuid4()), app_password="not-a-real-secret")
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    resp = await client.post("/api/messages", json=_message("hi", "http://127.0.0.1:9"))
    assert resp.status == 401


async def test_bad_input_is_4xx_and_conversation_goes_on(aiohttp_client, settings, knowledge, fake_connector) -> None:
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    assert (
        await client.post("/api/messages", data="{not json", headers={"Content-Type": "application/json"})
    ).status == 400
    assert (await client.post("/api/messages", data="hello", headers={"Content-Type": "text/plain"})).status == 415
    big = _message("x" * (settings.max_body_bytes + 10), fake_connector.url)
    assert (await client.post("/api/messages", json=big)).status == 413
    no_type = _message("hi", fake_connector.url)
    del no_type["type"]
    assert (await client.post("/api/messages", json=no_type)).status == 400
    resp = await client.post("/api/messages", json=_message("WorkflowTriggerNotFound", fake_connector.url))
    assert resp.status in (200, 201) and any("CDS" in _shown(c.activity) for c in fake_connector.calls)


async def test_transcript_is_stored_and_redacted(aiohttp_client, settings, knowledge, fake_connector) -> None:
    app = create_app(settings, knowledge=knowledge)
    client = await aiohttp_client(app)
    secret = "my password is Sup3r$ecret!"
    await client.post("/api/messages", json=_message(secret, fake_connector.url, conversation="c-redact"))
    transcript = await app[ASSISTANT].transcripts.get_transcript("emulator", "c-redact")
    assert [r["direction"] for r in transcript][:2] == ["in", "out"]
    assert "Sup3r$ecret!" not in str(transcript) and "[REDACTED]" in transcript[0]["activity"]["text"]


async def test_conversation_survives_restart(aiohttp_client, settings, knowledge, fake_connector) -> None:
    first = await aiohttp_client(create_app(settings, knowledge=knowledge))
    await first.post("/api/messages", json=_message("prerequisites", fake_connector.url, conversation="c-restart"))
    await first.post("/api/messages", json=_message("done", fake_connector.url, conversation="c-restart"))
    await first.close()  # the process goes away; the SQLite file stays
    second = await aiohttp_client(create_app(settings, knowledge=knowledge))
    await second.post("/api/messages", json=_message("done", fake_connector.url, conversation="c-restart"))
    assert "step 3 of" in _shown(fake_connector.calls[-1].activity)


def test_serving_freezes_the_start_up_heap_and_makes_young_collections_rare() -> None:
    threshold = gc.get_threshold()
    gc.disable()  # as `cosell-bot serve` starts: the collector off while it imports and builds the app
    try:
        tune_gc_for_serving()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (20_000, threshold[1], threshold[2])
        assert gc.isenabled()  # and back on for serving
    finally:
        gc.enable()
        gc.unfreeze()
        gc.set_threshold(*threshold)
