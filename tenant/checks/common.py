"""Helpers the live checks share: result building, client lookup, and the connector's flow names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tenant.base import Check, CheckContext, CheckResult, CredentialMissing, Fix, Status, System


def client(ctx: CheckContext, system: System) -> Any:
    """The ready client for `system`; a missing one skips the check (no credential, nothing to call)."""
    found = ctx.clients.get(system)
    if found is None:
        raise CredentialMissing(
            system,
            f"No client configured for {system.value}: check skipped.",
            message_it=f"Nessun client configurato per {system.value}: verifica saltata.",
        )
    return found


def declare(titles: Mapping[str, tuple[str, str]], check_id: str, **fields: Any) -> Check:
    """A `Check` whose English and Italian titles come from its module's title table."""
    title, title_it = titles[check_id]
    return Check(id=check_id, title=title, title_it=title_it, **fields)


def finding(
    check_id: str,
    title: str,
    system: System,
    status: Status,
    summary: str,
    *,
    summary_it: str = "",
    title_it: str = "",
    evidence: dict[str, Any] | None = None,
    entries: tuple[str, ...] | list[str] = (),
    fix: Fix | None = None,
) -> CheckResult:
    """One check's result, with its title and summary in Italian too; `entries` keep their order without
    duplicates."""
    return CheckResult(
        id=check_id,
        title=title,
        title_it=title_it,
        system=system,
        status=status,
        summary=summary,
        summary_it=summary_it,
        evidence=evidence or {},
        entries=tuple(dict.fromkeys(entries)),
        fix=fix,
    )


def host(url: str | None) -> str | None:
    """The host of a URL, the only part of a signed URL that may be shown."""
    return urlsplit(url).hostname if url else None


def same_url(a: str, b: str) -> bool:
    """Equal up to host case and query-parameter order (signed trigger URLs carry api-version, sp, sv, sig)."""
    left, right = urlsplit(a.strip()), urlsplit(b.strip())
    return (
        left.scheme.lower() == right.scheme.lower()
        and (left.hostname or "") == (right.hostname or "")
        and left.port == right.port
        and left.path.rstrip("/") == right.path.rstrip("/")
        and sorted(parse_qsl(left.query, keep_blank_values=True))
        == sorted(parse_qsl(right.query, keep_blank_values=True))
    )


# --- the connector's flows -------------------------------------------------------------------------------------

CRMS = ("Dynamics 365", "Salesforce", "CRM")
# role: parent = "Partner Center to <CRM>"; child = activated before the parent (cfg-activate-pc-to-crm);
# first = activated first in the Salesforce solution (cfg-flows-wont-turn-on); other = everything else
_TEMPLATES = (
    ("Partner Center Webhook Registration", "other"),
    ("Create Co-sell Referral - {crm} to Partner Center", "other"),
    ("Partner Center Microsoft Co-sell Referral Updates to {crm}", "child"),
    ("Partner Center to {crm}", "parent"),
    ("Partner Center to {crm} - Helper", "child"),
    ("{crm} to Partner Center", "first"),
    ("{crm} Opportunity to Partner Center", "other"),
    ("{crm} Microsoft Solutions to Partner Center", "other"),
)
_START_RANK = {"child": 0, "first": 0, "other": 1, "parent": 2}
_PREVIEW = re.compile(r"\(\s*insider\s+preview\s*\)", re.IGNORECASE)


def normalize_flow_name(name: str) -> str:
    """Case-insensitive, without " (Insider Preview)", whitespace collapsed."""
    return " ".join(_PREVIEW.sub(" ", name).split()).casefold()


def _known() -> dict[str, tuple[str | None, str]]:
    known: dict[str, tuple[str | None, str]] = {}
    for template, role in _TEMPLATES:
        if "{crm}" not in template:
            known[normalize_flow_name(template)] = (None, role)
            continue
        for crm in CRMS:
            known[normalize_flow_name(template.format(crm=crm))] = (crm, role)
    return known


KNOWN_FLOWS = _known()


@dataclass(frozen=True)
class ConnectorFlow:
    """A connector flow found in the environment, from either the Flow API or Dataverse."""

    id: str
    name: str  # display name as found
    on: bool
    state: str
    crm: str | None  # Dynamics 365 | Salesforce | CRM; None for the shared webhook registration flow
    role: str  # parent | child | first | other
    trigger: str = "manual"

    @property
    def start_rank(self) -> int:
        return _START_RANK[self.role]


def connector_flow(
    flow_id: str, name: str | None, on: bool, state: str, triggers: tuple[str, ...] = ()
) -> ConnectorFlow | None:
    """The flow as a ConnectorFlow when its display name is one of the connector's, else None."""
    known = KNOWN_FLOWS.get(normalize_flow_name(name or ""))
    if known is None or name is None:
        return None
    trigger = "manual" if not triggers or "manual" in triggers else triggers[0]
    return ConnectorFlow(flow_id, name, on, state, known[0], known[1], trigger)


def start_order(flows: list[ConnectorFlow]) -> list[str]:
    """Names in the order to turn them on: child flows first, the Partner Center to <CRM> flow last."""
    return [f.name for f in sorted(flows, key=lambda f: f.start_rank)]
