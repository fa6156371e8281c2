"""Prerequisite checks: the Partner Center role, CRM roles, currency, users, and connection references."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tenant.base import Check, CheckContext, CheckResult, Fix, Status, System
from tenant.checks.common import Say, check, checks_from, client

if TYPE_CHECKING:  # annotations only: the clients (and httpx) load when a credential makes one (bot/live.py)
    from tenant.clients.dataverse import DataverseClient
    from tenant.clients.partner_center import PartnerCenterClient

PC, DV = System.partner_center, System.dataverse
_ADMIN_ROLES = ("system administrator", "system customizer")


@check("pc-referrals-role")
async def _pc_referrals_role(ctx: CheckContext, say: Say) -> CheckResult:
    pc: PartnerCenterClient = client(ctx, PC)
    if await pc.probe_referrals_access():
        return say("access", Status.passed, evidence={"access": True})
    return say(
        "no-access",
        Status.fail,
        evidence={"access": False},
        entries=("pre-pc-role", "run-access-denied"),
        fix=Fix(entry="pre-pc-role"),
    )


@check("crm-roles")
async def _crm_roles(ctx: CheckContext, say: Say) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    me = await dv.who_am_i()
    roles = await dv.user_role_names(me.user_id)
    evidence = {"user_id": me.user_id, "roles": sorted(roles)}
    admin = sorted({r for r in roles if r.strip().casefold() in _ADMIN_ROLES})
    if admin:
        return say("admin", Status.passed, roles=admin, evidence=evidence)
    return say(
        "no-admin",
        Status.fail,
        roles=sorted(roles),
        evidence=evidence,
        entries=("pre-crm-role", "run-access-denied"),
        fix=Fix(entry="pre-crm-role"),
    )


@check("crm-currency")
async def _crm_currency(ctx: CheckContext, say: Say) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    base = await dv.base_currency()
    active = [c for c in await dv.transaction_currencies() if c.statecode in (None, 0)]
    codes = sorted({c.iso_code for c in active if c.iso_code})
    evidence = {"base_currency": base.iso_code, "active_currencies": len(active), "codes": codes}
    if not active:
        return say(
            "no-currency", Status.fail, evidence=evidence, entries=("pre-crm-fields",), fix=Fix(entry="pre-crm-fields")
        )
    return say("currencies", Status.passed, base=base.iso_code, active=len(active), evidence=evidence)


@check("crm-sales-users")
async def _crm_sales_users(ctx: CheckContext, say: Say) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    users = await dv.enabled_users()
    evidence: dict[str, object] = {"enabled_users": len(users)}
    if len(users) > 1:
        return say("enough", Status.passed, users=len(users), evidence=evidence)
    if users:
        evidence["user"] = users[0].full_name or users[0].id
    return say(
        "too-few",
        Status.warn,
        users=len(users),
        evidence=evidence,
        entries=("pre-crm-fields",),
        fix=Fix(entry="pre-crm-fields"),
    )


@check("connection-references")
async def _connection_references(ctx: CheckContext, say: Say) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    refs = [r for r in await dv.connection_references() if r.statecode != 1]
    entries = ("cfg-add-connections", "cfg-flows-wont-turn-on", "cfg-signin-error")
    unbound = sorted(r.display_name or r.logical_name for r in refs if not (r.connection_id or "").strip())
    evidence: dict[str, object] = {"references": len(refs), "unbound": unbound}
    if not refs:
        return say("none", Status.warn, evidence=evidence, entries=entries[:2])
    if unbound:
        return say(
            "unbound",
            Status.fail,
            count=len(unbound),
            names=unbound,
            evidence=evidence,
            entries=entries,
            fix=Fix(entry="cfg-add-connections"),
        )
    return say("all-bound", Status.passed, references=len(refs), evidence=evidence)


def crm_checks() -> list[Check]:
    """The prerequisite checks plus the connection-reference check."""
    return checks_from(__name__)
