"""Salesforce checks: the Customize Application permission, the referral currency, and the org's daily API quota."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knowledge.messages import phrase
from tenant.base import Check, CheckContext, CheckResult, Fix, Status, System
from tenant.checks.common import Say, check, checks_from, client

if TYPE_CHECKING:  # annotations only: the clients (and httpx) load when a credential makes one (bot/live.py)
    from tenant.clients.salesforce import SalesforceClient

SF = System.salesforce
QUOTA_WARN = 0.10  # warn when less than 10 % of the daily API requests are left
QUOTA_FAIL = 0.02  # fail below 2 %
_QUOTA_ENTRIES = ("run-disconnected", "run-flow-failures")
_CURRENCY_ENTRIES = ("pre-crm-fields", "run-bidirectional")


@check("sf-customize-application")
async def _customize_application(ctx: CheckContext, say: Say) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
    user_id = (ctx.inputs.get("salesforce_user_id") or "").strip() or await sf.current_user_id()
    evidence = {"user_id": user_id}
    if await sf.user_can_customize(user_id):
        return say("granted", Status.passed, evidence={**evidence, "customize_application": True})
    return say(
        "missing",
        Status.fail,
        evidence={**evidence, "customize_application": False},
        entries=("pre-crm-role",),
        fix=Fix(entry="pre-crm-role"),
    )


@check("sf-currency")
async def _currency(ctx: CheckContext, say: Say) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
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
    fields = phrase("currency-fields", names=referral_fields) if referral_fields else ""
    if not currencies:
        return say(
            "single-currency",
            Status.warn,
            fields=fields,
            evidence=evidence,
            entries=_CURRENCY_ENTRIES,
            fix=Fix(entry="pre-crm-fields"),
        )
    active = sorted(c.iso_code for c in currencies if c.is_active)
    corporate = next((c.iso_code for c in currencies if c.is_corporate), None)
    evidence.update({"active_currencies": active, "corporate_currency": corporate})
    if not active:
        return say(
            "none-active",
            Status.fail,
            fields=fields,
            evidence=evidence,
            entries=_CURRENCY_ENTRIES,
            fix=Fix(entry="pre-crm-fields"),
        )
    return say("active", Status.passed, active=active, corporate=corporate, fields=fields, evidence=evidence)


@check("sf-api-quota")
async def _api_quota(ctx: CheckContext, say: Say) -> CheckResult:
    sf: SalesforceClient = client(ctx, SF)
    limits = await sf.limits()
    ratio = limits.remaining_ratio
    evidence = {"max": limits.daily_max, "remaining": limits.daily_remaining, "remaining_pct": round(ratio * 100, 1)}
    left, faq = phrase("left", remaining=limits.daily_remaining, max=limits.daily_max, ratio=ratio), phrase("faq")
    if ratio < QUOTA_FAIL:
        fix = Fix(entry="run-flow-failures", detail="Wait for the limit to free up or raise the org's API allocation.")
        return say("exhausted", Status.fail, left=left, faq=faq, evidence=evidence, entries=_QUOTA_ENTRIES, fix=fix)
    if ratio < QUOTA_WARN:
        return say("low", Status.warn, left=left, faq=faq, evidence=evidence, entries=_QUOTA_ENTRIES)
    return say("enough", Status.passed, left=left, faq=faq, evidence=evidence)


def salesforce_checks() -> list[Check]:
    """The Salesforce prerequisite and maintenance checks."""
    return checks_from(__name__)
