"""The CRM side of the referral sync doctor: a Dynamics 365 opportunity checked for what the connector needs.

Given an opportunity id (input "opportunity_id"): "Sync with Partner Center" on (the field is found by its display
label, as its logical name is UNVERIFIED), a deal value and a close date, a currency, the deal still open, and a
customer account whose country is a two-letter ISO code. The connector's environment variables "Deal value field
name" and "Customer Account Country Code field name" say which columns it really reads (external-apis.md §5.4-5.6).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from knowledge.messages import Phrase, phrase
from tenant.base import Check, CheckContext, CheckResult, Fix, LiveCheckFailed, Status, System
from tenant.checks.common import Say, check, checks_from, client
from tenant.checks.referral import suggest_country_code

if TYPE_CHECKING:  # annotations only: the clients (and httpx) load when a credential makes one (bot/live.py)
    from tenant.clients.dataverse import DataverseClient, Opportunity

DV = System.dataverse
_VALUE_VARIABLE = "Deal value field name"
_COUNTRY_VARIABLE = "Customer Account Country Code field name"
_COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,99}")
_ISO2 = re.compile(r"[A-Z]{2}")
_CLOSED = {1: "won", 2: "lost"}  # statecode: the message naming the outcome
_Problem = tuple[Phrase, str]  # words (a phrase of the check's messages), FAQ entry


def _column(variables: dict[str, str], name: str, default: str) -> str:
    """The column an environment variable names, when it names a plausible one."""
    value = variables.get(name, "").strip().lower()
    return value if _COLUMN.fullmatch(value) else default


def _deal_problems(opp: Opportunity, value_field: str) -> list[_Problem]:
    value = opp.estimated_value if value_field == "estimatedvalue" else (opp.model_extra or {}).get(value_field)
    try:
        amount = float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        amount = 0.0
    problems: list[_Problem] = []
    if amount <= 0:
        problems.append((phrase("no-deal-value", field=value_field), "run-bidirectional"))
    if opp.estimated_close_date is None:
        problems.append((phrase("no-close-date"), "run-bidirectional"))
    if not opp.currency_id:
        problems.append((phrase("no-currency"), "pre-crm-fields"))
    if opp.statecode in _CLOSED:
        problems.append((phrase("closed", outcome=phrase(_CLOSED[opp.statecode])), "run-pc-not-synced-to-crm"))
    return problems


def _sync_problems(opp: Opportunity, sync_field: str | None) -> list[_Problem]:
    if sync_field is None:
        return [(phrase("no-sync-field"), "pre-crm-fields")]
    if (opp.model_extra or {}).get(sync_field) is not True:
        return [(phrase("sync-off"), "run-not-synced")]
    return []


async def _country_problems(
    dv: DataverseClient, opp: Opportunity, field: str, evidence: dict[str, Any]
) -> list[_Problem]:
    if not opp.account_id:
        return [(phrase("no-account"), "run-not-synced")]
    account = await dv.get_account(opp.account_id, () if field == "address1_country" else (field,))
    country = account.country if field == "address1_country" else (account.model_extra or {}).get(field)
    evidence.update(account=account.name, country=country)
    text = country.strip() if isinstance(country, str) else ""
    if _ISO2.fullmatch(text):
        return []
    if not text:
        return [(phrase("country-empty", field=field), "run-country-code")]
    code = suggest_country_code(text)
    hint = phrase("use-code", code=code) if code else ""
    return [(phrase("country-not-iso", field=field, country=text, hint=hint), "run-country-code")]


async def _opportunity_id(ctx: CheckContext) -> tuple[str, str]:
    """The opportunity to check: the one given, else the CRM ID on the given referral; and the referral id
    (empty when an opportunity id was given, or no referral either)."""
    given = (ctx.inputs.get("opportunity_id") or "").strip()
    referral_id = (ctx.inputs.get("referral_id") or "").strip()
    pc = ctx.clients.get(System.partner_center)
    if given or not referral_id or pc is None:
        return given, ""
    referral = await pc.get_referral(referral_id)
    return (referral.external_reference_id or "").strip(), referral_id


@check("crm-opportunity-sync")
async def _opportunity_sync(ctx: CheckContext, say: Say) -> CheckResult:
    opportunity_id, referral_id = await _opportunity_id(ctx)
    if not opportunity_id:
        if referral_id:
            return say("referral-without-crm-id", Status.skipped, referral=referral_id)
        return say("no-input", Status.skipped)
    dv: DataverseClient = client(ctx, DV)
    variables = await dv.environment_variables()
    value_field = _column(variables, _VALUE_VARIABLE, "estimatedvalue")
    country_field = _column(variables, _COUNTRY_VARIABLE, "address1_country")
    found = await dv.find_attributes("opportunity", "Sync with Partner Center")
    sync_field = found[0].logical_name if found else None
    extras = tuple(f for f in (sync_field, value_field) if f and f != "estimatedvalue")
    try:
        opp = await dv.get_opportunity(opportunity_id, extras)
    except LiveCheckFailed as exc:
        if exc.status != 404:
            raise
        return say(
            "not-found",
            Status.fail,
            opportunity=opportunity_id,
            entries=("run-not-synced",),
            fix=Fix(entry="run-not-synced"),
        )
    evidence: dict[str, Any] = {
        "opportunity_id": opp.id,
        "name": opp.name,
        "sync_field": sync_field,
        "value_field": value_field,
        "country_field": country_field,
    }
    problems = [*_sync_problems(opp, sync_field), *_deal_problems(opp, value_field)]
    problems += await _country_problems(dv, opp, country_field, evidence)
    evidence["problems"] = [{"problem": say.text(problem), "entry": entry} for problem, entry in problems]
    if not problems:
        return say("ready", Status.passed, opportunity=opp.name or opp.id, evidence=evidence)
    entries = [entry for _problem, entry in problems]
    return say(
        "problems",
        Status.fail,
        opportunity=opp.name or opp.id,
        problems=[problem for problem, _entry in problems],
        evidence=evidence,
        entries=entries,
        fix=Fix(entry=entries[0]),
    )


def opportunity_checks() -> list[Check]:
    """The CRM-side sync check (needs the input "opportunity_id")."""
    return checks_from(__name__)
