"""The live checks the assistant runs, one per FAQ item with an API behind it (external-apis.md §0).

Every title and summary comes in English and Italian (`CheckResult.text(lang)`). Evidence holds ids, names and
values, never secrets: signed URLs are compared and reported only as "matches"/"differs" plus their host.
"""

from __future__ import annotations

from tenant.base import Check
from tenant.checks.crm import crm_checks
from tenant.checks.flows import entry_for_code, flow_checks
from tenant.checks.opportunity import opportunity_checks
from tenant.checks.platform import platform_checks
from tenant.checks.referral import referral_checks, suggest_country_code
from tenant.checks.salesforce import salesforce_checks
from tenant.checks.usage import usage_checks

__all__ = ["all_checks", "entry_for_code", "suggest_country_code"]


def all_checks() -> list[Check]:
    """Every live check, prerequisites first, in the order a sweep shows them."""
    crm, flows, sf = crm_checks(), flow_checks(), salesforce_checks()
    prerequisites = [c for c in (*crm, *sf, *usage_checks()) if c.area == "prerequisites"]
    configuration = [c for c in crm if c.area == "configuration"]
    maintenance = [c for c in sf if c.area == "maintenance"]
    return [
        *platform_checks(),
        *prerequisites,
        *flows[:2],
        *configuration,
        *flows[2:],
        *maintenance,
        *referral_checks(),
        *opportunity_checks(),
    ]
