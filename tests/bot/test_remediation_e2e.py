"""Remediation end to end: the wired assistant (real clients, SQLite journal) against the simulated tenant over
HTTP — an admin starts the child flows then the parent from the chat, and the journal keeps before and after."""

from __future__ import annotations

from botbuilder.core import MemoryStorage
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, ConversationReference

from bot.wiring import build_assistant
from devtools.sandbox import HOST, base_urls, create_sandbox_app, load_scenario
from tenant.base import System
from tests.harness import is_reply

QUESTION = "which child flows must be on before the partner center to crm flow?"


async def _send(adapter: TestAdapter, reference: ConversationReference, text: str) -> list[str]:
    adapter.activity_buffer.clear()
    activity = Activity(type=ActivityTypes.message, text=text, locale="en-US", channel_id=reference.channel_id)
    activity.conversation, activity.from_property, activity.recipient = (  # pin ours over the adapter's template
        reference.conversation,
        reference.user,
        reference.bot,
    )
    await adapter.receive_activity(activity)
    replies = [a.text or "" for a in adapter.activity_buffer if is_reply(a)]
    adapter.activity_buffer.clear()
    return replies


async def test_admin_starts_the_flows_in_order_from_the_chat(aiohttp_server, make_settings) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario("child-flows-off")
    server = await aiohttp_server(create_sandbox_app(scenario), host=HOST)
    urls = base_urls(server.port)
    settings = make_settings(
        live_partner_center_url=urls["partner_center_referrals"],
        live_partner_center_webhooks_url=urls["partner_center_webhooks"],
        live_power_automate_url=urls["power_automate"],
        live_environment_id=scenario.tenant.environment_id,
        live_partner_center_token="sandbox-token",
        live_power_automate_token="sandbox-token",
        admin_allowlist="someone, aad-admin",
        local_fixes=True,  # auth off on loopback: the local-demo setting lets the local user fix
    )
    assistant = build_assistant(settings, storage=MemoryStorage())
    try:
        reference = ConversationReference(
            channel_id="test",
            service_url="https://test.invalid",
            user=ChannelAccount(id="29:admin", name="Admin", aad_object_id="aad-admin"),
            bot=ChannelAccount(id="bot-1", name="Bot"),
            conversation=ConversationAccount(id="convo-e2e"),
        )
        adapter = TestAdapter(assistant.bot.on_turn, reference)
        findings, offer = await _send(adapter, reference, QUESTION)
        assert "❌" in findings and "I can fix this for you" in offer
        [preview] = await _send(adapter, reference, "Fix it for me")
        assert preview.index("Helper") < preview.index("Partner Center to Dynamics 365")
        assert "sig=" not in preview
        report, _answer = await _send(adapter, reference, "confirm")
        assert "Done." in report and "❌" not in report
        flows = assistant.live.clients[System.power_automate]
        states = {f.display_name: f.state for f in await flows.list_flows()}
        assert all(state == "Started" for state in states.values())
        [row] = assistant.journal.remediations()
        assert row["user_id"] == "aad-admin" and row["action"] == "start-flows-in-order" and row["result"] == "done"
        parent = next(name for name in row["before"]["flows"] if name.startswith("Partner Center to Dynamics 365"))
        assert row["before"]["flows"][parent] == "Stopped" and row["after"]["flows"][parent] == "Started"
        assert row["at"] and row["conversation_id"] == "convo-e2e"
    finally:
        await assistant.close()


def test_admin_allowlist_setting_splits_on_commas(make_settings) -> None:  # type: ignore[no-untyped-def]
    assert make_settings(admin_allowlist=" a , b,,c ").admin_allowlist == ("a", "b", "c")
    assert make_settings().admin_allowlist == ()
