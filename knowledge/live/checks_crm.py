"""Prerequisite checks: the Partner Center role, CRM roles, currency, users, and connection references."""

from __future__ import annotations

from knowledge.live.base import Check, CheckContext, CheckResult, Fix, Status, System
from knowledge.live.checks_common import client, finding
from knowledge.live.dataverse import DataverseClient
from knowledge.live.partner_center import PartnerCenterClient

PC, DV = System.partner_center, System.dataverse
_ADMIN_ROLES = ("system administrator", "system customizer")


async def _pc_referrals_role(ctx: CheckContext) -> CheckResult:
    pc: PartnerCenterClient = client(ctx, PC)
    entries = ("pre-pc-role", "run-access-denied")
    args = ("pc-referrals-role", "Partner Center Referrals admin role", PC)
    if await pc.probe_referrals_access():
        return finding(*args, Status.passed, "The signed-in user can read referrals.", evidence={"access": True})
    return finding(
        *args,
        Status.fail,
        "The signed-in user lacks the Referrals admin role.",
        evidence={"access": False},
        entries=entries,
        fix=Fix(entry="pre-pc-role"),
    )


async def _crm_roles(ctx: CheckContext) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    me = await dv.who_am_i()
    roles = await dv.user_role_names(me.user_id)
    args = ("crm-roles", "CRM security roles", DV)
    evidence = {"user_id": me.user_id, "roles": sorted(roles)}
    admin = sorted({r for r in roles if r.strip().casefold() in _ADMIN_ROLES})
    if admin:
        return finding(*args, Status.passed, f"The user has {', '.join(admin)}.", evidence=evidence)
    found = ", ".join(sorted(roles)) or "none"
    return finding(
        *args,
        Status.fail,
        f"The user has neither System Administrator nor System Customizer (roles found: {found}).",
        evidence=evidence,
        entries=("pre-crm-role", "run-access-denied"),
        fix=Fix(entry="pre-crm-role"),
    )


async def _crm_currency(ctx: CheckContext) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    base = await dv.base_currency()
    active = [c for c in await dv.transaction_currencies() if c.statecode in (None, 0)]
    args = ("crm-currency", "CRM currency", DV)
    codes = sorted({c.iso_code for c in active if c.iso_code})
    evidence = {"base_currency": base.iso_code, "active_currencies": len(active), "codes": codes}
    if not active:
        return finding(
            *args,
            Status.fail,
            "No active currency is set up in the CRM.",
            evidence=evidence,
            entries=("pre-crm-fields",),
            fix=Fix(entry="pre-crm-fields"),
        )
    summary = (
        f"Base currency {base.iso_code or 'unknown'}, {len(active)} active currenc{'y' if len(active) == 1 else 'ies'}."
    )
    return finding(*args, Status.passed, summary, evidence=evidence)


async def _crm_sales_users(ctx: CheckContext) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    users = await dv.enabled_users()
    args = ("crm-sales-users", "Sales team as CRM users", DV)
    evidence: dict[str, object] = {"enabled_users": len(users)}
    if len(users) > 1:
        return finding(*args, Status.passed, f"{len(users)} enabled users in the CRM.", evidence=evidence)
    if users:
        evidence["user"] = users[0].full_name or users[0].id
    return finding(
        *args,
        Status.warn,
        f"Only {len(users)} enabled user in the CRM: add the sales team as CRM users.",
        evidence=evidence,
        entries=("pre-crm-fields",),
        fix=Fix(entry="pre-crm-fields"),
    )


async def _connection_references(ctx: CheckContext) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    refs = [r for r in await dv.connection_references() if r.statecode != 1]
    args = ("connection-references", "Connection references bound to connections", DV)
    entries = ("cfg-add-connections", "cfg-flows-wont-turn-on", "cfg-signin-error")
    unbound = sorted(r.display_name or r.logical_name for r in refs if not (r.connection_id or "").strip())
    evidence: dict[str, object] = {"references": len(refs), "unbound": unbound}
    if not refs:
        summary = "No active connection references found: is the connector solution installed?"
        return finding(*args, Status.warn, summary, evidence=evidence, entries=entries[:2])
    if unbound:
        return finding(
            *args,
            Status.fail,
            f"{len(unbound)} connection reference(s) have no connection: {', '.join(unbound)}.",
            evidence=evidence,
            entries=entries,
            fix=Fix(entry="cfg-add-connections"),
        )
    return finding(*args, Status.passed, f"All {len(refs)} connection references have a connection.", evidence=evidence)


def crm_checks() -> list[Check]:
    """The prerequisite checks plus the connection-reference check."""
    return [
        Check(
            id="pc-referrals-role",
            title="Partner Center Referrals admin role",
            systems=(PC,),
            needs=(PC.value,),
            entries=("pre-pc-role", "run-access-denied"),
            area="prerequisites",
            estimated_calls=1,
            run=_pc_referrals_role,
        ),
        Check(
            id="crm-roles",
            title="CRM security roles",
            systems=(DV,),
            needs=(DV.value,),
            entries=("pre-crm-role", "run-access-denied"),
            area="prerequisites",
            estimated_calls=2,
            run=_crm_roles,
        ),
        Check(
            id="crm-currency",
            title="CRM currency",
            systems=(DV,),
            needs=(DV.value,),
            entries=("pre-crm-fields",),
            area="prerequisites",
            estimated_calls=2,
            run=_crm_currency,
        ),
        Check(
            id="crm-sales-users",
            title="Sales team as CRM users",
            systems=(DV,),
            needs=(DV.value,),
            entries=("pre-crm-fields",),
            area="prerequisites",
            estimated_calls=1,
            run=_crm_sales_users,
        ),
        Check(
            id="connection-references",
            title="Connection references bound to connections",
            systems=(DV,),
            needs=(DV.value,),
            entries=("cfg-add-connections", "cfg-flows-wont-turn-on", "cfg-signin-error"),
            area="configuration",
            estimated_calls=1,
            run=_connection_references,
        ),
    ]
