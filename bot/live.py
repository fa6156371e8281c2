"""Wire live checks from settings: one httpx client per system, the clients, the runner, the call counter.

The only place that turns settings (URLs, tokens) into concrete clients; dialogs and the CLI get a
`LiveChecks` and run sweeps through it. Static tokens are used as given (SecretStr, never logged); without one,
msal acquires them when an Entra app registration is configured (tenant/auth/entra.py), its encrypted token cache
kept through the `TokenCacheStore` port. Salesforce is not an Entra resource: its connected app's OAuth flows
(tenant/auth/salesforce.py) come before its static token. `entra_config` and `salesforce_auth_config` are the one
place the credential settings become the tenant's configs.

The stores (the call counter, the token cache) come in as ports: `bot/wiring.py` names the concrete ones, and its
`build_live_checks(settings, database)` is what the entry points call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from assistant.ports import CallCounter, TokenCacheStore
from bot.settings import Settings
from tenant.auth.entra import EntraConfig, MsalApps, MsalTokenProvider, dataverse_scope, msal_configured, resource_scope
from tenant.base import CheckResult, System
from tenant.checks.catalog import all_checks
from tenant.runner import CheckRunner, Sweep

if TYPE_CHECKING:
    import httpx

    from tenant.auth.salesforce import SalesforceAuthConfig
    from tenant.remediation import RemediationPlan

# The clients, the Salesforce sign-in and httpx are imported where a credential makes a client: a server without
# credentials (the FAQ assistant) never loads them (~40 ms of start-up).

TokenProvider = Callable[[], Awaitable[str]]


def _provider(secret: SecretStr) -> TokenProvider:
    async def token() -> str:
        return secret.get_secret_value()

    return token


def entra_config(settings: Settings) -> EntraConfig:
    """The Entra ID values of `settings`: the app registration, the cache key, the authority and each scope.

    Dataverse's scope, when not set, is derived from its URL (its `.default` scope drops the `api.` label).
    """
    scopes = {
        System.partner_center: settings.live_partner_center_scope,
        System.power_automate: settings.live_power_automate_scope,
        System.dataverse: settings.live_dataverse_scope or dataverse_scope(settings.live_dataverse_url),
        System.power_platform: settings.live_power_platform_scope,
        System.graph: settings.live_graph_scope,
    }
    return EntraConfig(
        client_id=settings.live_client_id,
        tenant_id=settings.live_tenant_id,
        client_secret=settings.live_client_secret,
        cache_key=settings.live_cache_key,
        authority=settings.live_authority,
        scopes=MappingProxyType(scopes),  # read-only: the config is frozen
    )


def salesforce_auth_config(settings: Settings) -> SalesforceAuthConfig | None:
    """The Salesforce OAuth values of `settings`, or None when Salesforce uses a static token or nothing.

    The private key's PEM is read (from the setting or its file) only for the JWT bearer flow.

    Raises:
        OSError: the private key file cannot be read.
    """
    flow = settings.live_salesforce_auth
    if flow not in ("jwt_bearer", "client_credentials"):
        return None
    from tenant.auth.salesforce import SalesforceAuthConfig

    pem = settings.live_salesforce_private_key_pem() if flow == "jwt_bearer" else ""
    return SalesforceAuthConfig(
        flow=flow,
        token_url=settings.live_salesforce_token_url,
        client_id=settings.live_salesforce_client_id,
        client_secret=settings.live_salesforce_client_secret,
        username=settings.live_salesforce_username,
        private_key_pem=SecretStr(pem),
        audience=settings.live_salesforce_audience,
        ttl=settings.live_salesforce_token_ttl,
        timeout=settings.live_check_timeout,
    )


def _token_source(
    settings: Settings, store: TokenCacheStore, msal_http_client: Any | None
) -> Callable[..., SecretStr | TokenProvider | None]:
    """`token(static, system, scope=None)`: the static token if set, else an msal provider if configured, else None."""
    config = entra_config(settings)
    apps = MsalApps(config, store, http_client=msal_http_client) if msal_configured(config) else None

    def token(static: SecretStr, system: System, scope: str | None = None) -> SecretStr | TokenProvider | None:
        if static.get_secret_value():
            return static
        if apps is None:
            return None
        return MsalTokenProvider(config, store, system, scope=scope, apps=apps)

    return token


@dataclass
class LiveChecks:
    """The runner plus the HTTP clients it owns; `await close()` when done.

    A `Remediator` given these checks (`recheck`) re-runs, and re-caches, the checks its change affects: after a
    fix, the next question sees the fixed state, not the cache.
    """

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

    def invalidate(self, ids: Iterable[str]) -> int:
        """Drop the cached results of the checks `ids`; return how many were dropped."""
        return self.runner.invalidate(ids)

    async def recheck(self, plan: RemediationPlan) -> list[CheckResult]:
        """After `plan` was executed: drop the cached results of the checks it affects, run them again (the cache
        then holds these), and return them in declaration order."""
        ids = self.runner.affected(plan.check_id, system=plan.system, entries=plan.entries, action=plan.action)
        self.invalidate(ids)
        return list((await self.runner.run(ids=ids)).results)

    async def close(self) -> None:
        """Close every HTTP client."""
        for http in self._http:
            await http.aclose()


def _salesforce(
    settings: Settings,
    http: Callable[[str, SecretStr | TokenProvider], httpx.AsyncClient],
    transport: httpx.AsyncBaseTransport | None,
    owned: list[httpx.AsyncClient],
) -> dict[System, Any]:
    """The Salesforce client (not an Entra resource: no msal).

    OAuth (JWT bearer or client credentials against the org's connected app, tenant/auth/salesforce.py) when
    configured: the instance URL is the setting, else the token response's `instance_url`; a 401 signs in again once.
    Else the static token, which needs the instance URL. Else none.
    """
    config = salesforce_auth_config(settings)
    if config is not None:
        from tenant.auth.salesforce import PENDING_INSTANCE_URL, SalesforceAuth, salesforce_token_provider
        from tenant.clients.salesforce import SalesforceClient

        provider = salesforce_token_provider(config, transport=transport)
        owned.append(provider.http)
        rest = http(settings.live_salesforce_url or PENDING_INSTANCE_URL, provider)
        rest.auth = SalesforceAuth(provider)  # bearer from the provider, plus 401 → sign in again, instance URL
        return {System.salesforce: SalesforceClient(rest)}
    token = settings.live_salesforce_token
    if not (token.get_secret_value() and settings.live_salesforce_url):
        return {}
    from tenant.clients.salesforce import SalesforceClient

    return {System.salesforce: SalesforceClient(http(settings.live_salesforce_url, token))}


def live_checks(
    settings: Settings,
    *,
    counter: CallCounter,
    token_cache: TokenCacheStore,
    transport: httpx.AsyncBaseTransport | None = None,
    msal_http_client: Any | None = None,
) -> LiveChecks:
    """Clients for every system that has a token (and a URL), and a runner over all checks.

    `counter` counts the API calls (the runner's daily budget reads it); `token_cache` keeps msal's encrypted cache.
    """
    clients: dict[System, Any] = {}
    owned: list[httpx.AsyncClient] = []

    def http(url: str, token: SecretStr | TokenProvider) -> httpx.AsyncClient:
        from tenant.clients.transport import make_http_client

        provider = _provider(token) if isinstance(token, SecretStr) else token
        client = make_http_client(
            url, token_provider=provider, timeout=settings.live_check_timeout, transport=transport
        )
        owned.append(client)
        return client

    # Static tokens first; else msal (tenant/auth/entra.py) with an Entra app registration configured; else no client.
    token = _token_source(settings, token_cache, msal_http_client)

    webhooks_scope = resource_scope(settings.live_partner_center_webhooks_url)
    pc_token = token(settings.live_partner_center_token, System.partner_center)
    pc_hooks = token(settings.live_partner_center_token, System.partner_center, webhooks_scope)
    if pc_token and pc_hooks:
        from tenant.clients.partner_center import PartnerCenterClient

        clients[System.partner_center] = PartnerCenterClient(
            http(settings.live_partner_center_url, pc_token), http(settings.live_partner_center_webhooks_url, pc_hooks)
        )
    pa_token = token(settings.live_power_automate_token, System.power_automate)
    if pa_token and settings.live_environment_id:
        from tenant.clients.flows import FlowClient

        clients[System.power_automate] = FlowClient(
            http(settings.live_power_automate_url, pa_token), settings.live_environment_id
        )
    dv_token = token(settings.live_dataverse_token, System.dataverse)
    if dv_token and settings.live_dataverse_url:
        from tenant.clients.dataverse import DataverseClient

        clients[System.dataverse] = DataverseClient(http(settings.live_dataverse_url, dv_token))
    # Power Platform admin: its own token, else the Power Automate one. ASSUMPTION (UNVERIFIED): BAP documents the
    # audience https://service.powerapps.com/ and the Power Platform API https://api.powerplatform.com; a Flow-audience
    # token may be refused, which the checks then report as a 401 error rather than a finding.
    # With msal, the capacity API gets a token for its own audience (https://api.powerplatform.com).
    static_pp = settings.live_power_platform_token
    static_pp = static_pp if static_pp.get_secret_value() else settings.live_power_automate_token
    pp_token = token(static_pp, System.power_platform)
    pp_capacity = token(static_pp, System.power_platform, resource_scope(settings.live_power_platform_api_url))
    if pp_token and pp_capacity:
        from tenant.clients.power_platform import PowerPlatformClient

        clients[System.power_platform] = PowerPlatformClient(
            http(settings.live_power_platform_url, pp_token),
            environment_id=settings.live_environment_id,
            capacity_http=http(settings.live_power_platform_api_url, pp_capacity),
        )
    graph_token = token(settings.live_graph_token, System.graph)
    if graph_token:
        from tenant.clients.graph import GraphClient

        clients[System.graph] = GraphClient(http(settings.live_graph_url, graph_token))
    clients.update(_salesforce(settings, http, transport, owned))  # OAuth (connected app), else the static token
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
        counter=counter,
        per_check_timeout=settings.live_check_timeout,
        deadline=settings.live_sweep_deadline,
        cache_ttl=settings.live_cache_ttl,
        daily_budget=settings.live_daily_budget or None,
    )
    return LiveChecks(runner=runner, credentials=credentials, by_entry=by_entry, clients=clients, _http=owned)
