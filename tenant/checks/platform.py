"""Platform prerequisites: a Dataverse database in the connector's environment, ≥ 1 GB storage, a Power Automate
licence (FAQ entries pre-power-automate, pre-d365-for-salesforce)."""

from __future__ import annotations

import re
from typing import Any

from tenant.base import Check, CheckContext, CheckResult, Fix, LiveCheckFailed, Status, System
from tenant.checks.common import client, declare, finding
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
# (English, Italian) title per check id
_TITLES = {
    "dataverse-present": (
        "Dataverse database in the connector's environment",
        "Database Dataverse nell'ambiente del connettore",
    ),
    "storage-capacity": ("At least 1 GB of storage available", "Almeno 1 GB di spazio di archiviazione disponibile"),
    "power-automate-license": ("Power Automate licence", "Licenza Power Automate"),
}


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


async def _dataverse_present(ctx: CheckContext) -> CheckResult:
    pp: PowerPlatformClient = client(ctx, PP)
    title, title_it = _TITLES["dataverse-present"]
    args = ("dataverse-present", title, PP)
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
            summary = (
                f"No connector environment is configured; {len(with_db)} of {len(envs)} environments have a Dataverse "
                "database."
            )
            one = len(with_db) == 1
            summary_it = (
                f"Nessun ambiente del connettore è configurato; {len(with_db)} {'ambiente' if one else 'ambienti'} "
                f"su {len(envs)} {'ha' if one else 'hanno'} un database Dataverse."
            )
            return finding(
                *args,
                Status.warn,
                summary,
                summary_it=summary_it,
                title_it=title_it,
                evidence=evidence,
                entries=_ENV_ENTRIES,
            )
        summary = f"None of the {len(envs)} environments has a Dataverse database."
        summary_it = f"Nessun ambiente ha un database Dataverse (ambienti trovati: {len(envs)})."
        return finding(
            *args,
            Status.fail,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=_ENV_ENTRIES,
            fix=fix,
        )
    try:
        env = await pp.get_environment(env_id)
    except LiveCheckFailed as exc:
        if exc.status != 404:
            raise
        summary = f"The environment {env_id} was not found (or the signed-in user cannot see it)."
        summary_it = f"L'ambiente {env_id} non è stato trovato (oppure l'utente connesso non ha accesso)."
        evidence = {"environment_id": env_id, "found": False}
        return finding(
            *args,
            Status.fail,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=_ENV_ENTRIES,
            fix=fix,
        )
    evidence = _describe(env)
    name = env.display_name or env.name
    if env.has_dataverse:
        return finding(
            *args,
            Status.passed,
            f"{name} has a Dataverse database.",
            summary_it=f"L'ambiente {name} ha un database Dataverse.",
            title_it=title_it,
            evidence=evidence,
        )
    summary = f"{name} has no Dataverse database: the connector needs one (create a new environment with one)."
    summary_it = (
        f"L'ambiente {name} non ha un database Dataverse, necessario al connettore: creare un nuovo ambiente con un "
        "database Dataverse."
    )
    return finding(
        *args,
        Status.fail,
        summary,
        summary_it=summary_it,
        title_it=title_it,
        evidence=evidence,
        entries=_ENV_ENTRIES,
        fix=fix,
    )


async def _storage_capacity(ctx: CheckContext) -> CheckResult:
    pp: PowerPlatformClient = client(ctx, PP)
    title, title_it = _TITLES["storage-capacity"]
    args = ("storage-capacity", title, PP)
    entries = ("pre-power-automate",)
    fix = Fix(entry="pre-power-automate", detail="Free up or buy Dataverse database capacity (at least 1 GB).")
    capacities = await pp.tenant_capacity()
    database = next((c for c in capacities if (c.capacity_type or "").casefold() == "database"), None)
    available = database.available if database is not None else None
    if database is None or available is None:
        summary = "The tenant's database capacity was not reported; check it in the Power Platform admin center."
        summary_it = (
            "La capacità di database del tenant non è stata indicata; verificarla nell'interfaccia di "
            "amministrazione di Power Platform."
        )
        return finding(
            *args,
            Status.warn,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence={"types": [c.capacity_type for c in capacities]},
        )
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
        summary = f"{available / 1024:.1f} GB of database capacity available (at least 1 GB needed)."
        summary_it = f"{available / 1024:.1f} GB di capacità di database disponibili (ne serve almeno 1 GB)."
        return finding(*args, Status.passed, summary, summary_it=summary_it, title_it=title_it, evidence=evidence)
    summary = f"Only {max(available, 0):.0f} MB of database capacity available: the connector needs at least 1 GB."
    summary_it = (
        f"Solo {max(available, 0):.0f} MB di capacità di database disponibili: il connettore richiede almeno 1 GB."
    )
    return finding(
        *args,
        Status.fail,
        summary,
        summary_it=summary_it,
        title_it=title_it,
        evidence=evidence,
        entries=entries,
        fix=fix,
    )


async def _power_automate_license(ctx: CheckContext) -> CheckResult:
    graph: GraphClient = client(ctx, GRAPH)
    title, title_it = _TITLES["power-automate-license"]
    args = ("power-automate-license", title, GRAPH)
    user = (ctx.inputs.get("user_id") or "").strip() or None
    names = await graph.service_plan_names(user)
    flow = [n for n in names if _FLOW_PLAN.search(n)]
    evidence: dict[str, Any] = {"user": user or "me", "flow_plans": flow, "plans": names}
    fix = Fix(entry="pre-power-automate", detail="Assign a Power Automate licence that includes premium connectors.")
    if not flow:
        summary = "No Power Automate service plan found among the user's licences."
        summary_it = "Nessun piano di servizio Power Automate trovato tra le licenze dell'utente."
        return finding(
            *args,
            Status.fail,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=("pre-power-automate",),
            fix=fix,
        )
    plans = ", ".join(flow)
    if all(_STANDARD_ONLY.match(n) for n in flow):
        summary = (
            f"Only standard Power Automate plans found ({plans}): the Partner Center Referrals connector is premium."
        )
        summary_it = (
            f"Trovati solo piani Power Automate standard ({plans}): il connettore Partner Center Referrals è premium."
        )
        return finding(
            *args,
            Status.warn,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=("pre-power-automate",),
            fix=fix,
        )
    return finding(
        *args,
        Status.passed,
        f"Power Automate plans found: {plans}.",
        summary_it=f"Piani Power Automate trovati: {plans}.",
        title_it=title_it,
        evidence=evidence,
    )


def platform_checks() -> list[Check]:
    """Dataverse present, storage capacity, Power Automate licence (all prerequisites)."""
    return [
        declare(
            _TITLES,
            "dataverse-present",
            systems=(PP,),
            needs=(PP.value,),
            entries=_ENV_ENTRIES,
            area="prerequisites",
            estimated_calls=1,
            run=_dataverse_present,
        ),
        declare(
            _TITLES,
            "storage-capacity",
            systems=(PP,),
            needs=(PP.value,),
            entries=("pre-power-automate",),
            area="prerequisites",
            estimated_calls=1,
            run=_storage_capacity,
        ),
        declare(
            _TITLES,
            "power-automate-license",
            systems=(GRAPH,),
            needs=(GRAPH.value,),
            entries=("pre-power-automate",),
            area="prerequisites",
            estimated_calls=1,
            run=_power_automate_license,
        ),
    ]
