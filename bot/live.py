"""Wire live checks from settings: one httpx client per system, the clients, the runner, the call counter.

The only place that turns settings (URLs, tokens) into concrete clients; dialogs and the CLI get a
`LiveChecks` and run sweeps through it. Tokens are used as given (SecretStr, never logged).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from bot.quota import SqliteCallCounter
from bot.settings import Settings
from bot.storage import SqliteDatabase
from knowledge.live.base import System
from knowledge.live.checks import all_checks
from knowledge.live.dataverse import DataverseClient
from knowledge.live.flows import FlowClient
from knowledge.live.graph import GraphClient
from knowledge.live.partner_center import PartnerCenterClient
from knowledge.live.power_platform import PowerPlatformClient
from knowledge.live.runner import CheckRunner, Sweep
from knowledge.live.transport import make_http_client


def _provider(secret: SecretStr) -> Callable[[], Awaitable[str]]:
    async def token() -> str:
        return secret.get_secret_value()

    return token


@dataclass
class LiveChecks:
    """The runner plus the HTTP clients it owns; `await close()` when done."""

    runner: CheckRunner
    credentials: frozenset[str]
    by_entry: dict[str, list[str]] = field(default_factory=dict)  # FAQ entry id → ids of checks diagnosing it
    clients: dict[System, Any] = field(default_factory=dict)  # the ready clients per system (remediation uses them)
    _http: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def configured(self) -> bool:
        """True when at least one system has a credential."""
        return bool(self.credentials)

    def ids_for(self, entry_id: str) -> list[str]:
        """Ids of the checks that diagnose `entry_id`."""
        return list(self.by_entry.get(entry_id, ()))

    async def sweep(
        self, *, area: str | None = None, ids: list[str] | None = None, inputs: dict[str, str] | None = None
    ) -> Sweep:
        """Run the checks of `area`, or the given ids (all when neither)."""
        return await self.runner.run(area=area, ids=ids, inputs=inputs or {})

    async def close(self) -> None:
        """Close every HTTP client."""
        for http in self._http:
            await http.aclose()


def build_live_checks(
    settings: Settings, database: SqliteDatabase, *, transport: httpx.AsyncBaseTransport | None = None
) -> LiveChecks:
    """Clients for every system that has a token (and a URL), and a runner over all checks."""
    clients: dict[System, Any] = {}
    owned: list[httpx.AsyncClient] = []

    def http(url: str, token: SecretStr) -> httpx.AsyncClient:
        client = make_http_client(
            url, token_provider=_provider(token), timeout=settings.live_check_timeout, transport=transport
        )
        owned.append(client)
        return client

    pc_token = settings.live_partner_center_token
    if pc_token.get_secret_value():
        clients[System.partner_center] = PartnerCenterClient(
            http(settings.live_partner_center_url, pc_token), http(settings.live_partner_center_webhooks_url, pc_token)
        )
    pa_token = settings.live_power_automate_token
    if pa_token.get_secret_value() and settings.live_environment_id:
        clients[System.power_automate] = FlowClient(
            http(settings.live_power_automate_url, pa_token), settings.live_environment_id
        )
    dv_token = settings.live_dataverse_token
    if dv_token.get_secret_value() and settings.live_dataverse_url:
        clients[System.dataverse] = DataverseClient(http(settings.live_dataverse_url, dv_token))
    # Power Platform admin: its own token, else the Power Automate one. ASSUMPTION (UNVERIFIED): BAP documents the
    # audience https://service.powerapps.com/ and the Power Platform API https://api.powerplatform.com; a Flow-audience
    # token may be refused, which the checks then report as a 401 error rather than a finding.
    pp_token = settings.live_power_platform_token if settings.live_power_platform_token.get_secret_value() else pa_token
    if pp_token.get_secret_value():
        clients[System.power_platform] = PowerPlatformClient(
            http(settings.live_power_platform_url, pp_token),
            environment_id=settings.live_environment_id,
            capacity_http=http(settings.live_power_platform_api_url, pp_token),
        )
    graph_token = settings.live_graph_token
    if graph_token.get_secret_value():
        clients[System.graph] = GraphClient(http(settings.live_graph_url, graph_token))
    credentials = frozenset(system.value for system in clients)
    checks = all_checks()
    by_entry: dict[str, list[str]] = {}
    for check in checks:
        for entry in check.entries:
            by_entry.setdefault(entry, []).append(check.id)
    runner = CheckRunner(
        checks,
        clients=clients,
        credentials=set(credentials),
        counter=SqliteCallCounter(database),
        per_check_timeout=settings.live_check_timeout,
        deadline=settings.live_sweep_deadline,
        cache_ttl=settings.live_cache_ttl,
        daily_budget=settings.live_daily_budget or None,
    )
    return LiveChecks(runner=runner, credentials=credentials, by_entry=by_entry, clients=clients, _http=owned)
