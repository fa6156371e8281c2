"""Prerequisite checks: the Partner Center role, CRM roles, currency, users, and connection references."""

from __future__ import annotations

from tenant.base import Check, CheckContext, CheckResult, Fix, Status, System
from tenant.checks.common import client, declare, finding
from tenant.clients.dataverse import DataverseClient
from tenant.clients.partner_center import PartnerCenterClient

PC, DV = System.partner_center, System.dataverse
_ADMIN_ROLES = ("system administrator", "system customizer")
# (English, Italian) title per check id
_TITLES = {
    "pc-referrals-role": (
        "Partner Center Referrals admin role",
        "Ruolo Amministratore delle segnalazioni (Referrals admin) in Partner Center",
    ),
    "crm-roles": ("CRM security roles", "Ruoli di sicurezza del CRM"),
    "crm-currency": ("CRM currency", "Valuta del CRM"),
    "crm-sales-users": ("Sales team as CRM users", "Team di vendita come utenti del CRM"),
    "connection-references": (
        "Connection references bound to connections",
        "Riferimenti di connessione associati alle connessioni",
    ),
}


async def _pc_referrals_role(ctx: CheckContext) -> CheckResult:
    pc: PartnerCenterClient = client(ctx, PC)
    entries = ("pre-pc-role", "run-access-denied")
    title, title_it = _TITLES["pc-referrals-role"]
    args = ("pc-referrals-role", title, PC)
    if await pc.probe_referrals_access():
        return finding(
            *args,
            Status.passed,
            "The signed-in user can read referrals.",
            summary_it="L'utente connesso può leggere le segnalazioni.",
            title_it=title_it,
            evidence={"access": True},
        )
    return finding(
        *args,
        Status.fail,
        "The signed-in user lacks the Referrals admin role.",
        summary_it="All'utente connesso manca il ruolo Amministratore delle segnalazioni (Referrals admin).",
        title_it=title_it,
        evidence={"access": False},
        entries=entries,
        fix=Fix(entry="pre-pc-role"),
    )


async def _crm_roles(ctx: CheckContext) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    me = await dv.who_am_i()
    roles = await dv.user_role_names(me.user_id)
    title, title_it = _TITLES["crm-roles"]
    args = ("crm-roles", title, DV)
    evidence = {"user_id": me.user_id, "roles": sorted(roles)}
    admin = sorted({r for r in roles if r.strip().casefold() in _ADMIN_ROLES})
    if admin:
        summary_it = f"L'utente ha {'il ruolo' if len(admin) == 1 else 'i ruoli'} {', '.join(admin)}."
        return finding(
            *args,
            Status.passed,
            f"The user has {', '.join(admin)}.",
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
        )
    found = ", ".join(sorted(roles))
    return finding(
        *args,
        Status.fail,
        f"The user has neither System Administrator nor System Customizer (roles found: {found or 'none'}).",
        summary_it="L'utente non ha né il ruolo Amministratore di sistema (System Administrator) né il ruolo "
        f"Personalizzatore di sistema (System Customizer); ruoli trovati: {found or 'nessuno'}.",
        title_it=title_it,
        evidence=evidence,
        entries=("pre-crm-role", "run-access-denied"),
        fix=Fix(entry="pre-crm-role"),
    )


async def _crm_currency(ctx: CheckContext) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    base = await dv.base_currency()
    active = [c for c in await dv.transaction_currencies() if c.statecode in (None, 0)]
    title, title_it = _TITLES["crm-currency"]
    args = ("crm-currency", title, DV)
    codes = sorted({c.iso_code for c in active if c.iso_code})
    evidence = {"base_currency": base.iso_code, "active_currencies": len(active), "codes": codes}
    if not active:
        return finding(
            *args,
            Status.fail,
            "No active currency is set up in the CRM.",
            summary_it="Nel CRM non è configurata alcuna valuta attiva.",
            title_it=title_it,
            evidence=evidence,
            entries=("pre-crm-fields",),
            fix=Fix(entry="pre-crm-fields"),
        )
    summary = (
        f"Base currency {base.iso_code or 'unknown'}, {len(active)} active currenc{'y' if len(active) == 1 else 'ies'}."
    )
    summary_it = (
        f"Valuta di base {base.iso_code or 'sconosciuta'}, {len(active)} "
        f"{'valuta attiva' if len(active) == 1 else 'valute attive'}."
    )
    return finding(*args, Status.passed, summary, summary_it=summary_it, title_it=title_it, evidence=evidence)


async def _crm_sales_users(ctx: CheckContext) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    users = await dv.enabled_users()
    title, title_it = _TITLES["crm-sales-users"]
    args = ("crm-sales-users", title, DV)
    evidence: dict[str, object] = {"enabled_users": len(users)}
    if len(users) > 1:
        return finding(
            *args,
            Status.passed,
            f"{len(users)} enabled users in the CRM.",
            summary_it=f"{len(users)} utenti abilitati nel CRM.",
            title_it=title_it,
            evidence=evidence,
        )
    if users:
        evidence["user"] = users[0].full_name or users[0].id
    return finding(
        *args,
        Status.warn,
        f"Only {len(users)} enabled user in the CRM: add the sales team as CRM users.",
        summary_it=f"{'Un solo utente abilitato' if users else 'Nessun utente abilitato'} nel CRM: aggiungere il "
        "team di vendita come utenti del CRM.",
        title_it=title_it,
        evidence=evidence,
        entries=("pre-crm-fields",),
        fix=Fix(entry="pre-crm-fields"),
    )


async def _connection_references(ctx: CheckContext) -> CheckResult:
    dv: DataverseClient = client(ctx, DV)
    refs = [r for r in await dv.connection_references() if r.statecode != 1]
    title, title_it = _TITLES["connection-references"]
    args = ("connection-references", title, DV)
    entries = ("cfg-add-connections", "cfg-flows-wont-turn-on", "cfg-signin-error")
    unbound = sorted(r.display_name or r.logical_name for r in refs if not (r.connection_id or "").strip())
    evidence: dict[str, object] = {"references": len(refs), "unbound": unbound}
    if not refs:
        summary = "No active connection references found: is the connector solution installed?"
        summary_it = "Nessun riferimento di connessione attivo trovato: la soluzione del connettore è installata?"
        return finding(
            *args,
            Status.warn,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=entries[:2],
        )
    if unbound:
        some = (
            "1 riferimento di connessione non ha"
            if len(unbound) == 1
            else f"{len(unbound)} riferimenti di connessione non hanno"
        )
        return finding(
            *args,
            Status.fail,
            f"{len(unbound)} connection reference(s) have no connection: {', '.join(unbound)}.",
            summary_it=f"{some} una connessione: {', '.join(unbound)}.",
            title_it=title_it,
            evidence=evidence,
            entries=entries,
            fix=Fix(entry="cfg-add-connections"),
        )
    return finding(
        *args,
        Status.passed,
        f"All {len(refs)} connection references have a connection.",
        summary_it=f"Tutti i riferimenti di connessione ({len(refs)}) hanno una connessione.",
        title_it=title_it,
        evidence=evidence,
    )


def crm_checks() -> list[Check]:
    """The prerequisite checks plus the connection-reference check."""
    return [
        declare(
            _TITLES,
            "pc-referrals-role",
            systems=(PC,),
            needs=(PC.value,),
            entries=("pre-pc-role", "run-access-denied"),
            area="prerequisites",
            estimated_calls=1,
            run=_pc_referrals_role,
        ),
        declare(
            _TITLES,
            "crm-roles",
            systems=(DV,),
            needs=(DV.value,),
            entries=("pre-crm-role", "run-access-denied"),
            area="prerequisites",
            estimated_calls=2,
            run=_crm_roles,
        ),
        declare(
            _TITLES,
            "crm-currency",
            systems=(DV,),
            needs=(DV.value,),
            entries=("pre-crm-fields",),
            area="prerequisites",
            estimated_calls=2,
            run=_crm_currency,
        ),
        declare(
            _TITLES,
            "crm-sales-users",
            systems=(DV,),
            needs=(DV.value,),
            entries=("pre-crm-fields",),
            area="prerequisites",
            estimated_calls=1,
            run=_crm_sales_users,
        ),
        declare(
            _TITLES,
            "connection-references",
            systems=(DV,),
            needs=(DV.value,),
            entries=("cfg-add-connections", "cfg-flows-wont-turn-on", "cfg-signin-error"),
            area="configuration",
            estimated_calls=1,
            run=_connection_references,
        ),
    ]
