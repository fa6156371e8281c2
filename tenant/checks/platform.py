"""Platform prerequisites: a Dataverse database in the connector's environment, ≥ 1 GB storage, a Power Automate
licence (FAQ entries pre-power-automate, pre-d365-for-salesforce)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tenant.base import Check, CheckContext, CheckResult, Fix, LiveCheckFailed, Status, System
from tenant.checks.common import Say, check, checks_from, client

if TYPE_CHECKING:  # annotations only: the clients (and httpx) load when a credential makes one (bot/live.py)
    from tenant.clients.graph import GraphClient
    from tenant.clients.power_platform import Environment, PowerPlatformClient

PP, GRAPH = System.power_platform, System.graph
MIN_STORAGE_MB = 1024  # the FAQ's "minimum of 1 GB of storage"
_ENV_ENTRIES = ("pre-power-automate", "pre-d365-for-salesforce")
# UNVERIFIED (external-apis.md §4.4): which servicePlanName values grant Power Automate. Rule used here: a name
# containing FLOW or POWER_AUTOMATE / POWERAUTOMATE (FLOW_FREE, FLOW_O365_P3, FLOW_P2, FLOW_DYN_APPS, …). Plans
# that only grant standard connectors (FLOW_FREE, FLOW_O365_*) are reported with a warning: the Partner Center
# Referrals connector is premium.
_FLOW_PLAN = re.compile(r"FLOW|POWER_?AUTOMATE", re.IGNORECASE)
_STANDARD_ONLY = re.compile(r"^(FLOW_FREE|FLOW_O365_.*)$", re.IGNORECASE)


def _environment_id(ctx: CheckContext, pp: PowerPlatformClient) -> str:
    return (ctx.inputs.get("environment_id") or pp.environment_id or "").strip()


def _describe(env: Environment) -> dict[str, Any]:
    return {
        "environment_id": env.name,
        "environment": env.display_name,
        "sku": env.sku,
        "database_type": env.database_type,
        "dataverse": env.has_dataverse,
        "instance_state": env.instance_state,
    }


@check("dataverse-present")
async def _dataverse_present(ctx: CheckContext, say: Say) -> CheckResult:
    pp: PowerPlatformClient = client(ctx, PP)
    fix = Fix(
        entry="pre-d365-for-salesforce",
        detail="Create a new environment with a Dataverse database for the connector.",
    )
    env_id = _environment_id(ctx, pp)
    if not env_id:
        envs = await pp.list_environments()
        with_db = sorted(e.display_name or e.name for e in envs if e.has_dataverse)
        evidence: dict[str, Any] = {"environments": len(envs), "with_dataverse": with_db}
        if with_db:
            return say(
                "some-with-dataverse",
                Status.warn,
                with_dataverse=len(with_db),
                environments=len(envs),
                evidence=evidence,
                entries=_ENV_ENTRIES,
            )
        return say(
            "none-with-dataverse", Status.fail, environments=len(envs), evidence=evidence, entries=_ENV_ENTRIES, fix=fix
        )
    try:
        env = await pp.get_environment(env_id)
    except LiveCheckFailed as exc:
        if exc.status != 404:
            raise
        evidence = {"environment_id": env_id, "found": False}
        return say("not-found", Status.fail, environment=env_id, evidence=evidence, entries=_ENV_ENTRIES, fix=fix)
    evidence = _describe(env)
    name = env.display_name or env.name
    if env.has_dataverse:
        return say("present", Status.passed, environment=name, evidence=evidence)
    return say("absent", Status.fail, environment=name, evidence=evidence, entries=_ENV_ENTRIES, fix=fix)


@check("storage-capacity")
async def _storage_capacity(ctx: CheckContext, say: Say) -> CheckResult:
    pp: PowerPlatformClient = client(ctx, PP)
    fix = Fix(entry="pre-power-automate", detail="Free up or buy Dataverse database capacity (at least 1 GB).")
    capacities = await pp.tenant_capacity()
    database = next((c for c in capacities if (c.capacity_type or "").casefold() == "database"), None)
    available = database.available if database is not None else None
    if database is None or available is None:
        return say("not-reported", Status.warn, evidence={"types": [c.capacity_type for c in capacities]})
    evidence: dict[str, Any] = {
        "unit": database.unit or "MB",
        "total_mb": database.total,
        "used_mb": database.actual,
        "available_mb": round(available, 1),
        "status": database.status,
        "minimum_mb": MIN_STORAGE_MB,
    }
    # the FAQ's 1 GB read as "Database total − actual ≥ 1024 MB": an interpretation, UNVERIFIED (external-apis §4.2)
    if available >= MIN_STORAGE_MB:
        return say("enough", Status.passed, gb=available / 1024, evidence=evidence)
    return say(
        "too-little", Status.fail, mb=max(available, 0), evidence=evidence, entries=("pre-power-automate",), fix=fix
    )


@check("power-automate-license")
async def _power_automate_license(ctx: CheckContext, say: Say) -> CheckResult:
    graph: GraphClient = client(ctx, GRAPH)
    user = (ctx.inputs.get("user_id") or "").strip() or None
    names = await graph.service_plan_names(user)
    flow = [n for n in names if _FLOW_PLAN.search(n)]
    evidence: dict[str, Any] = {"user": user or "me", "flow_plans": flow, "plans": names}
    fix = Fix(entry="pre-power-automate", detail="Assign a Power Automate licence that includes premium connectors.")
    if not flow:
        return say("no-plan", Status.fail, evidence=evidence, entries=("pre-power-automate",), fix=fix)
    if all(_STANDARD_ONLY.match(n) for n in flow):
        return say(
            "standard-only", Status.warn, plans=flow, evidence=evidence, entries=("pre-power-automate",), fix=fix
        )
    return say("found", Status.passed, plans=flow, evidence=evidence)


def platform_checks() -> list[Check]:
    """Dataverse present, storage capacity, Power Automate licence (all prerequisites)."""
    return checks_from(__name__)
