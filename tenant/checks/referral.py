"""The referral-sync check: what keeps one Partner Center referral from syncing with the CRM."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from tenant.base import Check, CheckContext, CheckResult, Fix, Status, System
from tenant.checks.common import client, finding
from tenant.clients.partner_center import PartnerCenterClient, Referral

PC = System.partner_center
_ISO2 = re.compile(r"[A-Z]{2}")

# English and Italian names (plus a few common variants) → ISO 3166-1 alpha-2
_COUNTRIES: dict[str, tuple[str, ...]] = {
    "IT": ("Italy", "Italia"),
    "US": ("United States", "United States of America", "USA", "Stati Uniti", "Stati Uniti d'America"),
    "DE": ("Germany", "Germania"),
    "FR": ("France", "Francia"),
    "ES": ("Spain", "Spagna"),
    "PT": ("Portugal", "Portogallo"),
    "GB": ("United Kingdom", "UK", "Great Britain", "England", "Regno Unito", "Gran Bretagna", "Inghilterra"),
    "IE": ("Ireland", "Irlanda"),
    "NL": ("Netherlands", "The Netherlands", "Holland", "Paesi Bassi", "Olanda"),
    "BE": ("Belgium", "Belgio"),
    "LU": ("Luxembourg", "Lussemburgo"),
    "CH": ("Switzerland", "Svizzera"),
    "AT": ("Austria",),
    "DK": ("Denmark", "Danimarca"),
    "SE": ("Sweden", "Svezia"),
    "NO": ("Norway", "Norvegia"),
    "FI": ("Finland", "Finlandia"),
    "IS": ("Iceland", "Islanda"),
    "PL": ("Poland", "Polonia"),
    "CZ": ("Czech Republic", "Czechia", "Repubblica Ceca", "Cechia"),
    "SK": ("Slovakia", "Slovacchia"),
    "HU": ("Hungary", "Ungheria"),
    "RO": ("Romania",),
    "BG": ("Bulgaria",),
    "GR": ("Greece", "Grecia"),
    "HR": ("Croatia", "Croazia"),
    "SI": ("Slovenia",),
    "RS": ("Serbia",),
    "MT": ("Malta",),
    "CY": ("Cyprus", "Cipro"),
    "SM": ("San Marino",),
    "VA": ("Vatican City", "Holy See", "Città del Vaticano", "Vaticano"),
    "MC": ("Monaco", "Principato di Monaco"),
    "TR": ("Turkey", "Türkiye", "Turchia"),
    "UA": ("Ukraine", "Ucraina"),
    "RU": ("Russia", "Russian Federation", "Federazione Russa"),
    "IL": ("Israel", "Israele"),
    "AE": ("United Arab Emirates", "UAE", "Emirati Arabi Uniti"),
    "SA": ("Saudi Arabia", "Arabia Saudita"),
    "EG": ("Egypt", "Egitto"),
    "ZA": ("South Africa", "Sudafrica"),
    "MA": ("Morocco", "Marocco"),
    "NG": ("Nigeria",),
    "KE": ("Kenya",),
    "CA": ("Canada",),
    "MX": ("Mexico", "Messico"),
    "BR": ("Brazil", "Brasile"),
    "AR": ("Argentina",),
    "CL": ("Chile", "Cile"),
    "CO": ("Colombia",),
    "PE": ("Peru", "Perù"),
    "CN": ("China", "Cina"),
    "JP": ("Japan", "Giappone"),
    "KR": ("South Korea", "Korea", "Republic of Korea", "Corea del Sud"),
    "IN": ("India",),
    "SG": ("Singapore",),
    "HK": ("Hong Kong",),
    "TW": ("Taiwan",),
    "TH": ("Thailand", "Tailandia", "Thailandia"),
    "VN": ("Vietnam", "Viet Nam"),
    "MY": ("Malaysia", "Malesia"),
    "ID": ("Indonesia",),
    "PH": ("Philippines", "Filippine"),
    "AU": ("Australia",),
    "NZ": ("New Zealand", "Nuova Zelanda"),
}


def _fold(text: str) -> str:
    """Casefolded, accents and punctuation dropped, whitespace collapsed: "Città" == "citta"."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", plain.casefold()).split())


_BY_NAME = {_fold(name): code for code, names in _COUNTRIES.items() for name in names}


def suggest_country_code(name: str) -> str | None:
    """The ISO 3166 alpha-2 code for a country name in English or Italian ("Italia" → "IT"), else None."""
    return _BY_NAME.get(_fold(name))


# a problem found on a referral: (English, Italian, FAQ entry)
_Problem = tuple[str, str, str]


def _solution_problems(referral: Referral) -> list[_Problem]:
    details = referral.details
    solutions = details.requirements.solutions if details and details.requirements else ()
    if not solutions:
        return [
            (
                "no solution (Solution ID) on the referral",
                "nessuna soluzione (Solution ID) nella segnalazione",
                "run-solution-id",
            )
        ]
    if missing := [s for s in solutions if not (s.id or "").strip()]:
        names = ", ".join(s.name or "unnamed" for s in missing)
        names_it = ", ".join(s.name or "senza nome" for s in missing)
        return [
            (
                f"solution without a Solution ID: {names}",
                f"soluzione senza Solution ID: {names_it}",
                "run-solution-id",
            )
        ]
    return []


def _customer_problems(referral: Referral) -> list[_Problem]:
    problems: list[_Problem] = []
    profile = referral.customer_profile
    country = ((profile.address.country if profile and profile.address else None) or "").strip()
    if not country:
        problems.append(
            ("no country on the customer address", "nessun paese nell'indirizzo del cliente", "run-country-code")
        )
    elif not _ISO2.fullmatch(country):
        code = suggest_country_code(country)
        hint, hint_it = (f" (use {code})", f" (usare {code})") if code else ("", "")
        problems.append(
            (
                f"country {country!r} is not a two-letter ISO code{hint}",
                f"il paese {country!r} non è un codice ISO di due lettere{hint_it}",
                "run-country-code",
            )
        )
    consent = referral.consent
    if consent and consent.consent_to_share_referral_with_microsoft_sellers:
        if not [p for p in (profile.team if profile else ()) if p.email or p.phone_number]:
            problems.append(
                (
                    "Microsoft help requested but no customer contact",
                    "è stato richiesto l'aiuto di Microsoft ma manca un contatto del cliente",
                    "run-not-synced",
                )
            )
    return problems


def _deal_problems(referral: Referral) -> list[_Problem]:
    problems: list[_Problem] = []
    details = referral.details
    if details is None or details.deal_value is None or details.deal_value <= 0:
        problems.append(("no deal value", "nessun valore della trattativa", "run-bidirectional"))
    if details is None or details.closing_date_time is None:
        problems.append(("no closing date", "nessuna data di chiusura", "run-bidirectional"))
    if not (referral.external_reference_id or "").strip():
        problems.append(
            (
                "no CRM ID written back (externalReferenceId is empty)",
                "nessun ID CRM riportato nella segnalazione (externalReferenceId è vuoto)",
                "run-pc-not-synced-to-crm",
            )
        )
    if (referral.status or "").casefold() == "closed" and (referral.substatus or "").casefold() in ("won", "lost"):
        problems.append(
            (
                f"closed as {referral.substatus}: no further sync",
                f"chiusa come {referral.substatus}: nessuna ulteriore sincronizzazione",
                "run-pc-not-synced-to-crm",
            )
        )
    return problems


def _problems(referral: Referral) -> list[_Problem]:
    """(problem, problem in Italian, FAQ entry), in the order the FAQ walks through them."""
    return [*_solution_problems(referral), *_customer_problems(referral), *_deal_problems(referral)]


_TITLE = "Referral ready to sync"
_TITLE_IT = "Segnalazione pronta per la sincronizzazione"


async def _referral_sync(ctx: CheckContext) -> CheckResult:
    args = ("referral-sync", _TITLE, PC)
    referral_id = (ctx.inputs.get("referral_id") or "").strip()
    if not referral_id:
        return finding(
            *args,
            Status.skipped,
            "Give a referral id to check that referral.",
            summary_it="Indicare l'ID di una segnalazione per verificarla.",
            title_it=_TITLE_IT,
        )
    pc: PartnerCenterClient = client(ctx, PC)
    referral = await pc.get_referral(referral_id)
    problems = _problems(referral)
    profile = referral.customer_profile
    evidence: dict[str, Any] = {
        "referral_id": referral.id,
        "status": referral.status,
        "substatus": referral.substatus,
        "country": profile.address.country if profile and profile.address else None,
        "crm_id": referral.external_reference_id or None,
        "problems": [{"problem": text, "entry": entry} for text, _it, entry in problems],
    }
    if not problems:
        return finding(
            *args,
            Status.passed,
            f"Referral {referral.id} has what the sync needs.",
            summary_it=f"La segnalazione {referral.id} ha tutto ciò che serve per la sincronizzazione.",
            title_it=_TITLE_IT,
            evidence=evidence,
        )
    entries = [entry for _text, _it, entry in problems]
    summary = f"Referral {referral.id}: " + "; ".join(text for text, _it, _entry in problems) + "."
    summary_it = f"Segnalazione {referral.id}: " + "; ".join(it for _text, it, _entry in problems) + "."
    return finding(
        *args,
        Status.fail,
        summary,
        summary_it=summary_it,
        title_it=_TITLE_IT,
        evidence=evidence,
        entries=entries,
        fix=Fix(entry=entries[0]),
    )


def referral_checks() -> list[Check]:
    """The referral-sync check (needs the input "referral_id")."""
    return [
        Check(
            id="referral-sync",
            title=_TITLE,
            title_it=_TITLE_IT,
            systems=(PC,),
            needs=(PC.value,),
            entries=(
                "run-solution-id",
                "run-country-code",
                "run-not-synced",
                "run-bidirectional",
                "run-pc-not-synced-to-crm",
            ),
            area="maintenance",
            estimated_calls=1,
            run=_referral_sync,
        )
    ]
