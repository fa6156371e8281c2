"""`--demo SCENARIO`: start the simulated tenant in the background and point the live checks at it.

A newcomer sees live checks with no cloud account. The sandbox is a test and demo tool; the settings it
produces carry placeholder tokens that only the sandbox accepts.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from pydantic import SecretStr

from bot.settings import Settings
from devtools.sandbox import HOST, Scenario, base_urls, create_sandbox_app, load_scenario

DEMO_TOKEN = SecretStr("sandbox-demo-token")


@dataclass
class Demo:
    """A running sandbox and the settings that use it."""

    settings: Settings
    runner: web.AppRunner
    port: int

    async def stop(self) -> None:
        """Stop the sandbox."""
        await self.runner.cleanup()


def demo_settings(settings: Settings, scenario: Scenario, port: int) -> Settings:
    """Settings pointing every live check at a sandbox serving `scenario` on `port`."""
    urls = base_urls(port)
    return settings.model_copy(
        update={
            "live_partner_center_url": urls["partner_center_referrals"],
            "live_partner_center_webhooks_url": urls["partner_center_webhooks"],
            "live_power_automate_url": urls["power_automate"],
            "live_dataverse_url": urls["dataverse"],
            "live_power_platform_url": urls["power_platform"],
            "live_power_platform_api_url": urls["power_platform_api"],
            "live_graph_url": urls["graph"],
            "live_salesforce_url": urls["salesforce"],
            "live_environment_id": scenario.tenant.environment_id,
            "live_partner_center_token": DEMO_TOKEN,
            "live_power_automate_token": DEMO_TOKEN,
            "live_dataverse_token": DEMO_TOKEN,
            "live_power_platform_token": DEMO_TOKEN,
            "live_graph_token": DEMO_TOKEN,
            "live_salesforce_token": DEMO_TOKEN,
        }
    )


async def _serve(scenario: Scenario, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(create_sandbox_app(scenario), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, port)
    await site.start()
    bound = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]  # aiohttp exposes no getter
    return runner, bound


async def start_demo(settings: Settings, scenario_name: str) -> Demo:
    """Serve `scenario_name` on a free 127.0.0.1 port; return settings pointing every live check at it."""
    scenario = load_scenario(scenario_name)  # raises UnknownScenario
    runner, port = await _serve(scenario, 0)
    return Demo(settings=demo_settings(settings, scenario, port), runner=runner, port=port)


def attach_demo(app: web.Application, scenario: Scenario, port: int) -> None:
    """Run the sandbox on `port` for as long as `app` runs (for `serve --demo`)."""

    async def sandbox_ctx(app: web.Application) -> AsyncIterator[None]:  # aiohttp 3.x cleanup_ctx form
        runner, _ = await _serve(scenario, port)
        yield
        await runner.cleanup()

    app.cleanup_ctx.insert(0, sandbox_ctx)


def free_port() -> int:
    """A port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
