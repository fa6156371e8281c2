"""The partner's CRM in the assistant's words: the `<CRM>` placeholder of the data, and the CRM a text names.

The troubleshooting page names the connector's flows after the CRM ("Partner Center to Dynamics 365",
"Salesforce to Partner Center"); the data write `<CRM>` where the name depends on it. Every text shown goes through
`crm_words`, so the placeholder never reaches a user: the CRM's name when it is known, a neutral word otherwise
(a bare `<CRM>` would read as an HTML tag and vanish: "…and Partner Center to last").
"""

from __future__ import annotations

import re
from typing import Literal

from knowledge.models import Entry, Lang

Crm = Literal["dynamics", "salesforce"]
PLACEHOLDER = "<CRM>"
CRM_NAMES: dict[Crm, str] = {"dynamics": "Dynamics 365", "salesforce": "Salesforce"}
NEUTRAL: dict[Lang, str] = {"en": "your CRM", "it": "il tuo CRM"}
_NAMED: tuple[tuple[Crm, re.Pattern[str]], ...] = (
    ("dynamics", re.compile(r"\b(dynamics(\s*365)?|d365|dataverse)\b", re.IGNORECASE)),
    ("salesforce", re.compile(r"\b(sales\s?force|sfdc)\b", re.IGNORECASE)),
)


def crm_name(crm: Crm | None, lang: Lang) -> str:
    """The CRM's product name, or the neutral word of `lang` when it is not known."""
    return CRM_NAMES[crm] if crm is not None else NEUTRAL[lang]


def crm_words(text: str, crm: Crm | None, lang: Lang) -> str:
    """`text` with every `<CRM>` replaced by the CRM's name (or the neutral word)."""
    return text.replace(PLACEHOLDER, crm_name(crm, lang))


def crm_in_text(text: str | None) -> Crm | None:
    """The CRM a message names ("we use Salesforce", "Dynamics 365"), when it names exactly one."""
    found = {crm for crm, pattern in _NAMED if pattern.search(text or "")}
    return found.pop() if len(found) == 1 else None


def needs_crm(entry: Entry) -> bool:
    """Whether the entry's answer names flows after the CRM (its text holds the placeholder)."""
    return PLACEHOLDER in entry.model_dump_json()


def matching_words(text: str) -> str:
    """`text` as the matcher indexes it: the placeholder read as the flows' names the source page gives."""
    return text.replace(PLACEHOLDER, "Salesforce")
