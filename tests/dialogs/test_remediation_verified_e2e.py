"""After a fix, end to end: the wired assistant (real clients, runner and cache) against the simulated tenant over
HTTP. The fix turn shows the re-run checks' own findings and offers nothing again; the next question is answered from
the refreshed cache (no stale failing finding for the rest of the TTL); a fix the tenant does not take says so."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from botbuilder.core import MemoryStorage
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, ConversationReference

from bot.wiring import Assistant, build_assistant
from devtools.sandbox import HOST, base_urls, create_sandbox_app, load_scenario
from tenant.runner import Sweep
from tests.harness import is_reply

FLOWS_OFF = "The co-sell connector flows won't turn on"
TRIGGER_GONE = "The workflow 'aaaaaaaa-0000-4000-8000-000000000003' trigger 'manual' could not be found."
OFFER = "I can fix this for you"


class Chat:
    """The wired assistant over a TestAdapter, as an allow-listed admin; records every sweep the runner serves."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.sweeps: list[Sweep] = []
        self.reference = ConversationReference(
            channel_id="test",
            service_url="https://test.invalid",
            user=ChannelAccount(id="29:admin", name="Admin", aad_object_id="aad-admin"),
            bot=ChannelAccount(id="bot-1", name="Bot"),
            conversation=ConversationAccount(id="convo-verified"),
        )
        self.adapter = TestAdapter(assistant.bot.on_turn, self.reference)
        runner = assistant.live.runner
        run = runner.run

        async def recorded(**kwargs: Any) -> Sweep:
            sweep = await run(**kwargs)
            self.sweeps.append(sweep)
            return sweep

        runner.run = recorded  # type: ignore[method-assign]

    async def send(self, text: str) -> list[str]:
        activity = Activity(type=ActivityTypes.message, text=text, locale="en-US", channel_id="test")
        activity.conversation, activity.from_property, activity.recipient = (
            self.reference.conversation,
            self.reference.user,
            self.reference.bot,
        )
        self.adapter.activity_buffer.clear()
        await self.adapter.receive_activity(activity)
        replies = [a.text or "" for a in self.adapter.activity_buffer if is_reply(a)]
        self.adapter.activity_buffer.clear()
        return replies


Start = Callable[[str], Awaitable[Chat]]


@pytest.fixture
async def chat(aiohttp_server, make_settings) -> AsyncIterator[Start]:  # type: ignore[no-untyped-def]
    opened: list[Assistant] = []

    async def start(name: str) -> Chat:
        scenario = load_scenario(name)
        server = await aiohttp_server(create_sandbox_app(scenario), host=HOST)
        urls = base_urls(server.port)
        settings = make_settings(
            live_partner_center_url=urls["partner_center_referrals"],
            live_partner_center_webhooks_url=urls["partner_center_webhooks"],
            live_power_automate_url=urls["power_automate"],
            live_environment_id=scenario.tenant.environment_id,
            live_partner_center_token="sandbox-token",
            live_power_automate_token="sandbox-token",
            admin_allowlist="aad-admin",
            local_fixes=True,
        )
        assistant = build_assistant(settings, storage=MemoryStorage())
        opened.append(assistant)
        return Chat(assistant)

    yield start
    for assistant in opened:
        await assistant.close()


async def test_flows_off_fix_shows_the_flows_on_and_the_next_question_sees_it_from_the_cache(chat: Start) -> None:
    c = await chat("flows-off")
    findings, offer = await c.send(FLOWS_OFF)
    assert "❌ Problem — **Connector flows are on**: 6 of 6 connector flows are off" in findings and OFFER in offer
    [preview] = await c.send("Fix it for me")
    assert "This will change exactly" in preview
    replies = await c.send("confirm")
    report, answer = replies
    assert "Done." in report and "Checked again after the change**: no longer failing" in report
    assert "✅ OK — **Connector flows are on**: All 6 connector flows are on." in report
    assert "✅ OK — **Child flows on before Partner Center to CRM**" in report  # same source, re-run too
    assert "❌" not in report and not any(OFFER in r for r in replies) and "Did this help?" in answer
    recheck = c.sweeps[-1]
    assert [r.id for r in recheck.results] == ["connector-flows", "flow-activation-order", "webhook-registration"]
    assert recheck.cached == []  # read again, not served from the cache
    [row] = c.assistant.journal.remediations()
    assert row["result"] == "done" and row["after"]["verified"]["connector-flows"] == "pass"

    findings, *rest = await c.send(FLOWS_OFF)  # right after: well within the 300 s TTL
    assert "✅ OK — **Connector flows are on**: All 6 connector flows are on." in findings and "❌" not in findings
    assert not any(OFFER in r for r in rest) and "Did this help?" in rest[-1]
    again = c.sweeps[-1]
    assert "connector-flows" in again.cached and again.api_calls == 0  # the re-run's results, from the cache


async def test_a_fix_the_tenant_does_not_take_says_still_failing_and_is_not_offered_again(chat: Start) -> None:
    c = await chat("trigger-not-found")  # the sandbox accepts resubmits but the runs stay failed
    findings, offer = await c.send(TRIGGER_GONE)
    assert "❌ Problem — **Failed flow runs**" in findings and "resubmit the failed runs" in offer
    await c.send("Fix it for me")
    replies = await c.send("confirm")
    report, answer = replies
    assert "Done." in report and "still failing" in report and "won't offer the same fix again" in report
    assert "❌ Problem — **Failed flow runs**: 2 failed runs in the last 7 days: WorkflowTriggerNotFound ×2." in report
    assert not any(OFFER in r for r in replies) and "Did this help?" in answer
    assert [r.id for r in c.sweeps[-1].results] == ["failed-runs"]
    [row] = c.assistant.journal.remediations()
    assert row["after"]["verified"] == {"failed-runs": "fail"}
