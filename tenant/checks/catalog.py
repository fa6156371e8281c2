"""The live checks the assistant runs, one per FAQ item with an API behind it (external-apis.md §0).

Declared in knowledge/data/checks (ids, titles, systems, needs, FAQ entries, and every finding's words in English
and Italian); run by the coroutines the modules imported here register (`tenant.checks.common.check`). Evidence
holds ids, names and values, never secrets: signed URLs are compared and reported only as "matches"/"differs"
plus their host.
"""

from __future__ import annotations

from tenant.base import Check
from tenant.checks import crm, flows, opportunity, platform, referral, salesforce, usage
from tenant.checks.common import build_checks, registered
from tenant.checks.flows import entry_for_code
from tenant.checks.referral import suggest_country_code
from tenant.texts import book

__all__ = ["all_checks", "entry_for_code", "suggest_country_code"]
_MODULES = (platform, crm, salesforce, usage, flows, referral, opportunity)  # imported for their registrations


def all_checks() -> list[Check]:
    """Every live check, prerequisites first, in the order a sweep shows them (the data's order); raises
    CatalogError when a declared check has no run function or a run function no declaration."""
    return build_checks(book(), registered())
