"""The CRM side of the referral sync doctor: a Dynamics 365 opportunity checked for what the connector needs.

Given an opportunity id (input "opportunity_id"): "Sync with Partner Center" on (the field is found by its display
label, as its logical name is UNVERIFIED), a deal value and a close date, a currency, the deal still open, and a
customer account whose country is a two-letter ISO code. The connector's environment variables "Deal value field
name" and "Customer Account Country Code field name" say which columns it really reads (external-apis.md §5.4-5.6).
"""

from __future__ import annotations

import re
from typing import Any

from tenant.base import Check, CheckContext, CheckResult, Fix, LiveCheckFailed, Status, System
from tenant.checks.common import client, finding
from tenant.checks.referral import suggest_country_code
from tenant.clients.dataverse import DataverseClient, Opportunity

DV = System.dataverse
_ID = "crm-opportunity-sync"
_TITLE = "CRM opportunity ready to sync"
_TITLE_IT = "Opportunità CRM pronta per la sincronizzazione"
_VALUE_VARIABLE = "Deal value field name"
_COUNTRY_VARIABLE = "Customer Account Country Code field name"
_COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,99}")
_ISO2 = re.compile(r"[A-Z]{2}")
_CLOSED = {1: ("Won", "vinta"), 2: ("Lost", "persa")}
_Problem = tuple[str, str, str]  # English, Italian, FAQ entry


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
        problems.append(
            (f"no deal value in {value_field}", f"nessun valore della trattativa in {value_field}", "run-bidirectional")
        )
    if opp.estimated_close_date is None:
        problems.append(("no estimated close date", "nessuna data di chiusura stimata", "run-bidirectional"))
    if not opp.currency_id:
        problems.append(("no currency", "nessuna valuta", "pre-crm-fields"))
    if opp.statecode in _CLOSED:
        won, vinta = _CLOSED[opp.statecode]
        problems.append(
            (
                f"closed as {won}: no further sync",
                f"chiusa come {vinta}: nessuna ulteriore sincronizzazione",
                "run-pc-not-synced-to-crm",
            )
        )
    return problems


def _sync_problems(opp: Opportunity, sync_field: str | None) -> list[_Problem]:
    if sync_field is None:
        return [
            (
                'the connector\'s "Sync with Partner Center" field is missing from opportunities',
                'il campo "Sync with Partner Center" del connettore manca nelle opportunità',
                "pre-crm-fields",
            )
        ]
    if (opp.model_extra or {}).get(sync_field) is not True:
        return [('"Sync with Partner Center" is off', '"Sync with Partner Center" è disattivato', "run-not-synced")]
    return []


async def _country_problems(
    dv: DataverseClient, opp: Opportunity, field: str, evidence: dict[str, Any]
) -> list[_Problem]:
    if not opp.account_id:
        return [("no customer account", "nessun account cliente", "run-not-synced")]
    account = await dv.get_account(opp.account_id, () if field == "address1_country" else (field,))
    country = account.country if field == "address1_country" else (account.model_extra or {}).get(field)
    evidence.update(account=account.name, country=country)
    text = country.strip() if isinstance(country, str) else ""
    if _ISO2.fullmatch(text):
        return []
    code = suggest_country_code(text) if text else None
    hint, hint_it = (f" (use {code})", f" (usare {code})") if code else ("", "")
    shown = f'"{text}"' if text else "empty"
    shown_it = f'"{text}"' if text else "vuoto"
    return [
        (
            f"the account's country in {field} is {shown}, not a two-letter ISO code{hint}",
            f"il paese dell'account in {field} è {shown_it}, non un codice ISO di due lettere{hint_it}",
            "run-country-code",
        )
    ]


async def _opportunity_sync(ctx: CheckContext) -> CheckResult:
    args = (_ID, _TITLE, DV)
    opportunity_id = (ctx.inputs.get("opportunity_id") or "").strip()
    if not opportunity_id:
        return finding(
            *args,
            Status.skipped,
            "Give a CRM opportunity id to check that opportunity.",
            summary_it="Indicare l'ID di un'opportunità CRM per verificarla.",
            title_it=_TITLE_IT,
        )
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
        return finding(
            *args,
            Status.fail,
            f"No CRM opportunity {opportunity_id}.",
            title_it=_TITLE_IT,
            summary_it=f"Nessuna opportunità CRM {opportunity_id}.",
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
    evidence["problems"] = [{"problem": en, "entry": entry} for en, _it, entry in problems]
    if not problems:
        return finding(
            *args,
            Status.passed,
            f"Opportunity {opp.name or opp.id} has what the sync needs.",
            summary_it=f"L'opportunità {opp.name or opp.id} ha tutto ciò che serve per la sincronizzazione.",
            title_it=_TITLE_IT,
            evidence=evidence,
        )
    entries = [entry for _en, _it, entry in problems]
    return finding(
        *args,
        Status.fail,
        f"Opportunity {opp.name or opp.id}: " + "; ".join(en for en, _it, _e in problems) + ".",
        summary_it=f"Opportunità {opp.name or opp.id}: " + "; ".join(it for _en, it, _e in problems) + ".",
        title_it=_TITLE_IT,
        evidence=evidence,
        entries=entries,
        fix=Fix(entry=entries[0]),
    )


def opportunity_checks() -> list[Check]:
    """The CRM-side sync check (needs the input "opportunity_id")."""
    return [
        Check(
            id=_ID,
            title=_TITLE,
            title_it=_TITLE_IT,
            systems=(DV,),
            needs=(DV.value,),
            entries=("run-not-synced", "run-country-code", "run-bidirectional", "run-pc-not-synced-to-crm"),
            area="maintenance",
            estimated_calls=4,
            run=_opportunity_sync,
        )
    ]
