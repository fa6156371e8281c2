"""The sandbox HTTP app: one aiohttp app serving a simulated tenant for every API the live-check clients call.

A test and demo tool, not a product feature. Prefixes: `/partner-center` (Referrals API), `/pc-webhooks` (Webhooks
API), `/flow` (Power Automate flow API), `/dataverse` (Dataverse Web API), `/bap` (Power Platform admin, BAP),
`/ppapi` (Power Platform API: tenant capacity), `/graph` (Microsoft Graph licence details), `/salesforce` (a
Salesforce org's instance root: REST API under `/services/data/v59.0`, OAuth token endpoint at
`/services/oauth2/token`). Every request but the token endpoint's POST needs a
non-empty `Authorization: Bearer …` (else 401); scenario latency and faults apply before any route; a path or method
the sandbox does not serve answers 404/405 with a body naming it, so a client calling something unexpected fails
clearly.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from devtools.sandbox.dataverse import SimulatedTenant
from devtools.sandbox.scenario import Fault, Scenario, SystemKey, Tenant

Handler = Callable[[SimulatedTenant, web.Request, dict[str, str]], Awaitable[web.StreamResponse]]

HOST = "127.0.0.1"
SCENARIO: web.AppKey[Scenario] = web.AppKey("sandbox_scenario", Scenario)
STATE: web.AppKey[SimulatedTenant] = web.AppKey("sandbox_tenant", SimulatedTenant)

PREFIXES: dict[str, SystemKey] = {
    "/partner-center": "partner_center_referrals",
    "/pc-webhooks": "partner_center_webhooks",
    "/flow": "power_automate",
    "/dataverse": "dataverse",
    "/bap": "bap",
    "/ppapi": "bap",  # the Power Platform API (tenant capacity): another host, the same admin system for faults
    "/graph": "graph",
    "/salesforce": "salesforce",
}
_SF = "/salesforce/services/data/v59.0"
_SF_TOKEN = "/salesforce/services/oauth2/token"
_ANONYMOUS = frozenset({("POST", _SF_TOKEN)})  # the OAuth token endpoint authenticates with its form, not a bearer
_DV = "/dataverse/api/data/v9.2"
_FLOWS = "/flow/providers/Microsoft.ProcessSimple/environments/(?P<env>[^/]+)/flows"
_REG = "/pc-webhooks/webhooks/v1/registration"
_REF = "/partner-center/v1.0/engagements/referrals"
_ID = "(?P<id>[^/]+)"

_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (m, re.compile(p), h)
    for m, p, h in [
        ("GET", _REF, SimulatedTenant.list_referrals),
        ("GET", f"{_REF}/{_ID}", SimulatedTenant.get_referral),
        ("GET", _REG, SimulatedTenant.get_registration),
        ("PUT", _REG, SimulatedTenant.put_registration),
        ("POST", _REG, SimulatedTenant.put_registration),
        ("GET", f"{_REG}/events", SimulatedTenant.registration_events),
        ("POST", f"{_REG}/validationEvents", SimulatedTenant.send_validation_event),
        ("GET", f"{_REG}/validationEvents/{_ID}", SimulatedTenant.get_validation_event),
        ("GET", _FLOWS, SimulatedTenant.list_flows),
        ("GET", f"{_FLOWS}/{_ID}", SimulatedTenant.get_flow),
        ("GET", f"{_FLOWS}/{_ID}/runs", SimulatedTenant.flow_runs),
        ("POST", f"{_FLOWS}/{_ID}/start", SimulatedTenant.start_flow),
        ("POST", f"{_FLOWS}/{_ID}/stop", SimulatedTenant.stop_flow),
        ("POST", f"{_FLOWS}/{_ID}/triggers/(?P<trigger>[^/]+)/listCallbackUrl", SimulatedTenant.callback_url),
        (
            "POST",
            f"{_FLOWS}/{_ID}/triggers/(?P<trigger>[^/]+)/histories/(?P<run>[^/]+)/resubmit",
            SimulatedTenant.resubmit,
        ),
        ("GET", f"{_DV}/WhoAmI", SimulatedTenant.who_am_i),
        ("GET", rf"{_DV}/systemusers\((?P<id>[^)]+)\)", SimulatedTenant.system_user),
        (
            "GET",
            f"{_DV}/(?P<set>systemusers|organizations|transactioncurrencies|workflows|connectionreferences"
            "|flowruns|environmentvariabledefinitions)",
            SimulatedTenant.entity_set,
        ),
        ("GET", rf"{_DV}/(?P<set>accounts|opportunities)\((?P<id>[^)]+)\)", SimulatedTenant.record),
        (
            "GET",
            rf"{_DV}/EntityDefinitions\(LogicalName='(?P<entity>[a-z0-9_]+)'\)/Attributes",
            SimulatedTenant.attributes,
        ),
        (
            "GET",
            "/bap/providers/Microsoft.BusinessAppPlatform(?:/scopes/admin)?/environments",
            SimulatedTenant.environments,
        ),
        (
            "GET",
            f"/bap/providers/Microsoft.BusinessAppPlatform(?:/scopes/admin)?/environments/{_ID}",
            SimulatedTenant.environment,
        ),
        ("GET", "/ppapi/licensing/tenantCapacity", SimulatedTenant.tenant_capacity),
        ("GET", "/graph/v1.0/me/licenseDetails", SimulatedTenant.license_details),
        ("GET", f"/graph/v1.0/users/{_ID}/licenseDetails", SimulatedTenant.license_details),
        ("GET", f"{_SF}/query", SimulatedTenant.sf_query),
        ("GET", f"{_SF}/query/(?P<cursor>[A-Za-z0-9]+)", SimulatedTenant.sf_query_more),
        ("GET", f"{_SF}/sobjects/(?P<sobject>[A-Za-z0-9_]+)/describe", SimulatedTenant.sf_describe),
        ("GET", f"{_SF}/limits", SimulatedTenant.sf_limits),
        ("GET", "/salesforce/services/oauth2/userinfo", SimulatedTenant.sf_userinfo),
        ("POST", _SF_TOKEN, SimulatedTenant.sf_token),
    ]
]


def base_urls(port: int, host: str = HOST) -> dict[str, str]:
    """The base URL each live-check client should use against a sandbox on `port`."""
    root = f"http://{host}:{port}"
    return {
        "partner_center_referrals": f"{root}/partner-center",
        "partner_center_webhooks": f"{root}/pc-webhooks",
        "power_automate": f"{root}/flow",
        "dataverse": f"{root}{_DV}",
        "power_platform": f"{root}/bap",
        "power_platform_api": f"{root}/ppapi",
        "graph": f"{root}/graph",
        "salesforce": f"{root}/salesforce",
    }


def system_of(path: str) -> SystemKey | None:
    """Which simulated system a path belongs to, by its prefix."""
    return next((key for prefix, key in PREFIXES.items() if path == prefix or path.startswith(prefix + "/")), None)


def error_response(
    system: SystemKey | None, status: int, code: str | None, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    """An error in `system`'s documented shape: `{"error": {"code", "message"}}` (Partner Center, ARM, Dataverse),
    `[{"message", "errorCode", "fields"}]` (Salesforce)."""
    if system == "salesforce":
        body = [{"message": message, "errorCode": code or "UNKNOWN_EXCEPTION", "fields": []}]
        return web.json_response(body, status=status, headers=headers)
    error: dict[str, Any] = {"code": code or _DEFAULT_CODES.get(status, "sandboxError"), "message": message}
    if system in ("partner_center_referrals", "partner_center_webhooks"):
        error["target"] = "referral" if system == "partner_center_referrals" else "webhook"
    return web.json_response({"error": error}, status=status, headers=headers)


_DEFAULT_CODES = {400: "invalidRequest", 401: "unauthenticated", 403: "accessDenied", 404: "itemNotFound"}


def _fault_response(system: SystemKey, fault: Fault) -> web.Response:
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
    if fault.body is not None:
        return web.json_response(fault.body, status=fault.status, headers=headers)
    return error_response(system, fault.status, fault.code, fault.message, headers=headers)


def _unauthenticated(system: SystemKey | None) -> web.Response:
    codes: dict[SystemKey | None, str] = {
        "power_automate": "AuthenticationFailed",
        "bap": "AuthenticationFailed",
        "salesforce": "INVALID_SESSION_ID",
    }
    message = "Sandbox: the request has no bearer token (Authorization: Bearer <token>)."
    headers = {"WWW-Authenticate": 'Bearer realm="sandbox"'}
    return error_response(system, 401, codes.get(system, "unauthenticated"), message, headers=headers)


async def _dispatch(request: web.Request) -> web.StreamResponse:
    scenario = request.app[SCENARIO]
    path = request.path
    system = system_of(path)
    if scenario.latency_s:
        await asyncio.sleep(scenario.latency_s)
    auth = request.headers.get("Authorization", "")
    bearer = auth.startswith("Bearer ") and auth[len("Bearer ") :].strip()
    if not bearer and (request.method, path) not in _ANONYMOUS:
        return _unauthenticated(system)
    matches = [(method, pattern.fullmatch(path), handler) for method, pattern, handler in _ROUTES]
    found = [(method, m, handler) for method, m, handler in matches if m is not None]
    if system is None or not found:
        return error_response(system, 404, "sandboxRouteNotFound", f"Sandbox: no route serves {request.method} {path}.")
    route = next(((m, h) for method, m, h in found if method == request.method), None)
    if route is None:
        allowed = ", ".join(sorted({method for method, _, _ in found}))
        message = f"Sandbox: {request.method} is not served on {path} (allowed: {allowed})."
        return error_response(system, 405, "sandboxMethodNotAllowed", message, headers={"Allow": allowed})
    fault = scenario.fault_for(system)
    if fault is not None:
        return _fault_response(system, fault)
    match, handler = route
    return await handler(request.app[STATE], request, {k: v for k, v in match.groupdict().items() if v is not None})


def create_sandbox_app(scenario: Scenario, *, salesforce_jwt_public_key: str | None = None) -> web.Application:
    """The sandbox app serving `scenario`'s simulated tenant (state changes such as start/stop live per app).

    `salesforce_jwt_public_key` (PEM) verifies Salesforce JWT bearer assertions; without it that grant is refused.
    """
    app = web.Application()
    app[SCENARIO] = scenario
    state = SimulatedTenant(Tenant.model_validate(scenario.tenant.model_dump()))
    state.sf_jwt_public_key = salesforce_jwt_public_key
    app[STATE] = state
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app
