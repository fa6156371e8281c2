"""The referral-sync check: what keeps one Partner Center referral from syncing with the CRM."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from knowledge.messages import Phrase, phrase
from tenant.base import Check, CheckContext, CheckResult, Fix, Status, System
from tenant.checks.common import Say, check, checks_from, client

if TYPE_CHECKING:  # annotations only: the clients (and httpx) load when a credential makes one (bot/live.py)
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


# a problem found on a referral: its words (a phrase of the check's messages) and its FAQ entry
_Problem = tuple[Phrase, str]


def _solution_problems(referral: Referral) -> list[_Problem]:
    details = referral.details
    solutions = details.requirements.solutions if details and details.requirements else ()
    if not solutions:
        return [(phrase("no-solution"), "run-solution-id")]
    if missing := [s for s in solutions if not (s.id or "").strip()]:
        names = [s.name or phrase("unnamed") for s in missing]
        return [(phrase("solution-without-id", names=names), "run-solution-id")]
    return []


def _customer_problems(referral: Referral) -> list[_Problem]:
    problems: list[_Problem] = []
    profile = referral.customer_profile
    country = ((profile.address.country if profile and profile.address else None) or "").strip()
    if not country:
        problems.append((phrase("no-country"), "run-country-code"))
    elif not _ISO2.fullmatch(country):
        code = suggest_country_code(country)
        hint = phrase("use-code", code=code) if code else ""
        problems.append((phrase("country-not-iso", country=country, hint=hint), "run-country-code"))
    consent = referral.consent
    if consent and consent.consent_to_share_referral_with_microsoft_sellers:
        if not [p for p in (profile.team if profile else ()) if p.email or p.phone_number]:
            problems.append((phrase("no-contact"), "run-not-synced"))
    return problems


def _deal_problems(referral: Referral) -> list[_Problem]:
    problems: list[_Problem] = []
    details = referral.details
    if details is None or details.deal_value is None or details.deal_value <= 0:
        problems.append((phrase("no-deal-value"), "run-bidirectional"))
    if details is None or details.closing_date_time is None:
        problems.append((phrase("no-closing-date"), "run-bidirectional"))
    if not (referral.external_reference_id or "").strip():
        problems.append((phrase("no-crm-id"), "run-pc-not-synced-to-crm"))
    if (referral.status or "").casefold() == "closed" and (referral.substatus or "").casefold() in ("won", "lost"):
        problems.append((phrase("closed", substatus=referral.substatus), "run-pc-not-synced-to-crm"))
    return problems


def _problems(referral: Referral) -> list[_Problem]:
    """(problem, FAQ entry), in the order the FAQ walks through them."""
    return [*_solution_problems(referral), *_customer_problems(referral), *_deal_problems(referral)]


async def referral_carrying(pc: PartnerCenterClient, opportunity_id: str) -> tuple[Referral | None, int]:
    """The referral whose CRM ID is `opportunity_id`, and how many referrals were read to look for it (filtering on
    the CRM ID is undocumented, so a bounded list is paged through)."""
    referrals = await pc.list_referrals(max_pages=3)
    wanted = opportunity_id.strip().casefold()
    match = next((r for r in referrals if (r.external_reference_id or "").strip().casefold() == wanted), None)
    return match, len(referrals)


def _not_carried(say: Say, opportunity_id: str, read: int) -> CheckResult:
    """No referral carries the opportunity's CRM ID: the CRM side never reached Partner Center."""
    return say(
        "no-referral",
        Status.fail,
        opportunity=opportunity_id,
        count=read,
        evidence={"opportunity_id": opportunity_id, "read": read},
        entries=("run-not-synced",),
        fix=Fix(entry="run-not-synced"),
    )


@check("referral-sync")
async def _referral_sync(ctx: CheckContext, say: Say) -> CheckResult:
    referral_id = (ctx.inputs.get("referral_id") or "").strip()
    opportunity_id = (ctx.inputs.get("opportunity_id") or "").strip()
    if not (referral_id or opportunity_id):
        return say("no-input", Status.skipped)
    pc: PartnerCenterClient = client(ctx, PC)
    if referral_id:
        referral = await pc.get_referral(referral_id)
    else:  # given the CRM side only: the referral carrying that CRM ID is the one to check
        found, read = await referral_carrying(pc, opportunity_id)
        if found is None:
            return _not_carried(say, opportunity_id, read)
        referral = found
    problems = _problems(referral)
    profile = referral.customer_profile
    evidence: dict[str, Any] = {
        "referral_id": referral.id,
        "status": referral.status,
        "substatus": referral.substatus,
        "country": profile.address.country if profile and profile.address else None,
        "crm_id": referral.external_reference_id or None,
        "problems": [{"problem": say.text(problem), "entry": entry} for problem, entry in problems],
    }
    if not problems:
        return say("ready", Status.passed, referral=referral.id, evidence=evidence)
    entries = [entry for _problem, entry in problems]
    return say(
        "problems",
        Status.fail,
        referral=referral.id,
        problems=[problem for problem, _entry in problems],
        evidence=evidence,
        entries=entries,
        fix=Fix(entry=entries[0]),
    )


def referral_checks() -> list[Check]:
    """The referral-sync check (needs the input "referral_id")."""
    return checks_from(__name__)
