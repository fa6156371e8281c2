"""Salesforce checks: the Customize Application permission, the referral currency, and the org's daily API quota."""

from __future__ import annotations

from typing import Any

from tenant.base import Check, CheckContext, CheckResult, Fix, Status, System
from tenant.checks.common import client, declare, finding
from tenant.clients.salesforce import SalesforceClient

SF = System.salesforce
QUOTA_WARN = 0.10  # warn when less than 10 % of the daily API requests are left
QUOTA_FAIL = 0.02  # fail below 2 %
_QUOTA_ENTRIES = ("run-disconnected", "run-flow-failures")
_CURRENCY_ENTRIES = ("pre-crm-fields", "run-bidirectional")
# (English, Italian) title per check id
_TITLES = {
    "sf-customize-application": (
        "Salesforce Customize Application permission",
        "Autorizzazione Customize Application in Salesforce",
    ),
    "sf-currency": (
        "Referral currency field configured on Salesforce",
        "Campo valuta delle segnalazioni configurato in Salesforce",
    ),
    "sf-api-quota": ("Salesforce daily API requests left", "Richieste API giornaliere residue in Salesforce"),
}


async def _customize_application(ctx: CheckContext) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
    title, title_it = _TITLES["sf-customize-application"]
    args = ("sf-customize-application", title, SF)
    user_id = (ctx.inputs.get("salesforce_user_id") or "").strip() or await sf.current_user_id()
    evidence = {"user_id": user_id}
    if await sf.user_can_customize(user_id):
        summary = "The Salesforce user has Customize Application (profile or permission set)."
        summary_it = (
            "L'utente Salesforce ha l'autorizzazione Customize Application (dal profilo o da un set di autorizzazioni)."
        )
        return finding(
            *args,
            Status.passed,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence={**evidence, "customize_application": True},
        )
    return finding(
        *args,
        Status.fail,
        "The Salesforce user lacks Customize Application: use a System Administrator or grant the permission.",
        summary_it="All'utente Salesforce manca l'autorizzazione Customize Application: usare un amministratore di "
        "sistema (System Administrator) o concedere l'autorizzazione.",
        title_it=title_it,
        evidence={**evidence, "customize_application": False},
        entries=("pre-crm-role",),
        fix=Fix(entry="pre-crm-role"),
    )


async def _currency(ctx: CheckContext) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
    title, title_it = _TITLES["sf-currency"]
    args = ("sf-currency", title, SF)
    currencies = await sf.currencies()
    opportunity = await sf.describe("Opportunity")
    referral_fields = sorted(
        f.name for f in opportunity.fields if f.custom and "currency" in (f.label or "").casefold()
    )
    evidence: dict[str, Any] = {
        "multi_currency": bool(currencies),
        "opportunity_currency_field": opportunity.field("CurrencyIsoCode") is not None,
        "referral_currency_fields": referral_fields,
    }
    fields = ", ".join(referral_fields)
    found = f" Connector currency field(s) on Opportunity: {fields}." if referral_fields else ""
    found_it = f" Campi valuta del connettore sull'oggetto Opportunity: {fields}." if referral_fields else ""
    if not currencies:
        summary = (
            "The org is single-currency: Opportunity has no CurrencyIsoCode, the connector's default deal currency "
            'field. Enable multi-currency or set the "Deal value currency code" environment variable.' + found
        )
        summary_it = (
            "L'organizzazione usa una sola valuta: l'oggetto Opportunity non ha il campo CurrencyIsoCode, che il "
            "connettore usa per impostazione predefinita per la valuta della trattativa. Abilitare la gestione "
            'multivaluta oppure impostare la variabile di ambiente "Deal value currency code".' + found_it
        )
        return finding(
            *args,
            Status.warn,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=_CURRENCY_ENTRIES,
            fix=Fix(entry="pre-crm-fields"),
        )
    active = sorted(c.iso_code for c in currencies if c.is_active)
    corporate = next((c.iso_code for c in currencies if c.is_corporate), None)
    evidence.update({"active_currencies": active, "corporate_currency": corporate})
    if not active:
        return finding(
            *args,
            Status.fail,
            "Multi-currency is enabled but no currency is active." + found,
            summary_it="La gestione multivaluta è abilitata ma nessuna valuta è attiva." + found_it,
            title_it=title_it,
            evidence=evidence,
            entries=_CURRENCY_ENTRIES,
            fix=Fix(entry="pre-crm-fields"),
        )
    summary = f"Multi-currency is active: {', '.join(active)} (corporate {corporate or 'unknown'}).{found}"
    summary_it = (
        f"La gestione multivaluta è attiva: {', '.join(active)} (valuta aziendale {corporate or 'sconosciuta'})."
        + found_it
    )
    return finding(*args, Status.passed, summary, summary_it=summary_it, title_it=title_it, evidence=evidence)


async def _api_quota(ctx: CheckContext) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
    title, title_it = _TITLES["sf-api-quota"]
    args = ("sf-api-quota", title, SF)
    limits = await sf.limits()
    ratio = limits.remaining_ratio
    evidence = {"max": limits.daily_max, "remaining": limits.daily_remaining, "remaining_pct": round(ratio * 100, 1)}
    said = f"{limits.daily_remaining} of {limits.daily_max} daily API requests left ({ratio:.0%})"
    said_it = f"{limits.daily_remaining} richieste API giornaliere residue su {limits.daily_max} ({ratio:.0%})"
    faq = " (the FAQ quotes 10K calls/day for the paid connector; this is the org's own Salesforce limit)"
    faq_it = (
        " (le FAQ indicano 10K chiamate al giorno per il connettore a pagamento; questo è il limite Salesforce "
        "dell'organizzazione)"
    )
    if ratio < QUOTA_FAIL:
        summary = f"{said}: the connector's flows will fail until the rolling 24-hour limit frees up{faq}."
        summary_it = (
            f"{said_it}: i flussi del connettore non riusciranno finché non si libera spazio nel limite mobile di "
            f"24 ore{faq_it}."
        )
        fix = Fix(entry="run-flow-failures", detail="Wait for the limit to free up or raise the org's API allocation.")
        return finding(
            *args,
            Status.fail,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=_QUOTA_ENTRIES,
            fix=fix,
        )
    if ratio < QUOTA_WARN:
        summary = f"{said}: close to the org's limit{faq}."
        summary_it = f"{said_it}: vicino al limite dell'organizzazione{faq_it}."
        return finding(
            *args,
            Status.warn,
            summary,
            summary_it=summary_it,
            title_it=title_it,
            evidence=evidence,
            entries=_QUOTA_ENTRIES,
        )
    return finding(
        *args, Status.passed, f"{said}{faq}.", summary_it=f"{said_it}{faq_it}.", title_it=title_it, evidence=evidence
    )


def salesforce_checks() -> list[Check]:
    """The Salesforce prerequisite and maintenance checks."""
    return [
        declare(
            _TITLES,
            "sf-customize-application",
            systems=(SF,),
            needs=(SF.value,),
            entries=("pre-crm-role",),
            area="prerequisites",
            estimated_calls=3,
            run=_customize_application,
        ),
        declare(
            _TITLES,
            "sf-currency",
            systems=(SF,),
            needs=(SF.value,),
            entries=_CURRENCY_ENTRIES,
            area="prerequisites",
            estimated_calls=2,
            run=_currency,
        ),
        declare(
            _TITLES,
            "sf-api-quota",
            systems=(SF,),
            needs=(SF.value,),
            entries=_QUOTA_ENTRIES,
            area="maintenance",
            estimated_calls=1,
            run=_api_quota,
        ),
    ]
