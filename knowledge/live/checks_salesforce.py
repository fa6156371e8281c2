"""Salesforce checks: the Customize Application permission, the referral currency, and the org's daily API quota."""

from __future__ import annotations

from typing import Any

from knowledge.live.base import Check, CheckContext, CheckResult, Fix, Status, System
from knowledge.live.checks_common import client, finding
from knowledge.live.salesforce import SalesforceClient

SF = System.salesforce
QUOTA_WARN = 0.10  # warn when less than 10 % of the daily API requests are left
QUOTA_FAIL = 0.02  # fail below 2 %
_QUOTA_ENTRIES = ("run-disconnected", "run-flow-failures")
_CURRENCY_ENTRIES = ("pre-crm-fields", "run-bidirectional")


async def _customize_application(ctx: CheckContext) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
    args = ("sf-customize-application", "Salesforce Customize Application permission", SF)
    user_id = (ctx.inputs.get("salesforce_user_id") or "").strip() or await sf.current_user_id()
    evidence = {"user_id": user_id}
    if await sf.user_can_customize(user_id):
        summary = "The Salesforce user has Customize Application (profile or permission set)."
        return finding(*args, Status.passed, summary, evidence={**evidence, "customize_application": True})
    return finding(
        *args,
        Status.fail,
        "The Salesforce user lacks Customize Application: use a System Administrator or grant the permission.",
        evidence={**evidence, "customize_application": False},
        entries=("pre-crm-role",),
        fix=Fix(entry="pre-crm-role"),
    )


async def _currency(ctx: CheckContext) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
    args = ("sf-currency", "Referral currency field configured on Salesforce", SF)
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
    found = f" Connector currency field(s) on Opportunity: {', '.join(referral_fields)}." if referral_fields else ""
    if not currencies:
        summary = (
            "The org is single-currency: Opportunity has no CurrencyIsoCode, the connector's default deal currency "
            'field. Enable multi-currency or set the "Deal value currency code" environment variable.' + found
        )
        return finding(
            *args, Status.warn, summary, evidence=evidence, entries=_CURRENCY_ENTRIES, fix=Fix(entry="pre-crm-fields")
        )
    active = sorted(c.iso_code for c in currencies if c.is_active)
    corporate = next((c.iso_code for c in currencies if c.is_corporate), None)
    evidence.update({"active_currencies": active, "corporate_currency": corporate})
    if not active:
        return finding(
            *args,
            Status.fail,
            "Multi-currency is enabled but no currency is active." + found,
            evidence=evidence,
            entries=_CURRENCY_ENTRIES,
            fix=Fix(entry="pre-crm-fields"),
        )
    summary = f"Multi-currency is active: {', '.join(active)} (corporate {corporate or 'unknown'}).{found}"
    return finding(*args, Status.passed, summary, evidence=evidence)


async def _api_quota(ctx: CheckContext) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
    args = ("sf-api-quota", "Salesforce daily API requests left", SF)
    limits = await sf.limits()
    ratio = limits.remaining_ratio
    evidence = {"max": limits.daily_max, "remaining": limits.daily_remaining, "remaining_pct": round(ratio * 100, 1)}
    said = f"{limits.daily_remaining} of {limits.daily_max} daily API requests left ({ratio:.0%})"
    faq = " (the FAQ quotes 10K calls/day for the paid connector; this is the org's own Salesforce limit)"
    if ratio < QUOTA_FAIL:
        summary = f"{said}: the connector's flows will fail until the rolling 24-hour limit frees up{faq}."
        fix = Fix(entry="run-flow-failures", detail="Wait for the limit to free up or raise the org's API allocation.")
        return finding(*args, Status.fail, summary, evidence=evidence, entries=_QUOTA_ENTRIES, fix=fix)
    if ratio < QUOTA_WARN:
        summary = f"{said}: close to the org's limit{faq}."
        return finding(*args, Status.warn, summary, evidence=evidence, entries=_QUOTA_ENTRIES)
    return finding(*args, Status.passed, f"{said}{faq}.", evidence=evidence)


def salesforce_checks() -> list[Check]:
    """The Salesforce prerequisite and maintenance checks."""
    return [
        Check(
            id="sf-customize-application",
            title="Salesforce Customize Application permission",
            systems=(SF,),
            needs=(SF.value,),
            entries=("pre-crm-role",),
            area="prerequisites",
            estimated_calls=3,
            run=_customize_application,
        ),
        Check(
            id="sf-currency",
            title="Referral currency field configured on Salesforce",
            systems=(SF,),
            needs=(SF.value,),
            entries=_CURRENCY_ENTRIES,
            area="prerequisites",
            estimated_calls=2,
            run=_currency,
        ),
        Check(
            id="sf-api-quota",
            title="Salesforce daily API requests left",
            systems=(SF,),
            needs=(SF.value,),
            entries=_QUOTA_ENTRIES,
            area="maintenance",
            estimated_calls=1,
            run=_api_quota,
        ),
    ]
