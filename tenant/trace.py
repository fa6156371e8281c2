"""The referral sync trace: the hops a co-sell referral takes, each judged by the live checks that read it.

Partner Center referral (ready to sync, CRM ID written back, deal open) → webhook registration (four events, the
flow's current trigger URL) → the connector flows on, in order, with their connections → no failed runs → the CRM
opportunity ready to sync → the rest of the tenant (prerequisites, quotas).

The trace decides nothing itself: it is a view of one sweep's results (the same ones `diagnose` prints and the chat
shows), so every surface reaches the same verdict from the same evidence. A hop is broken when one of its checks
failed, unknown when none could look, ok otherwise. SDK-free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from knowledge.models import Lang
from tenant.base import CheckResult, Status
from tenant.texts import said

#: hop name → the checks that judge it, in the order a referral travels; every other check is the "tenant" hop
SYNC_PATH: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("referral", ("referral-sync",)),
    ("webhook", ("webhook-registration",)),
    ("flow", ("connector-flows", "flow-activation-order", "connection-references")),
    ("runs", ("failed-runs",)),
    ("crm-record", ("crm-opportunity-sync",)),
)
OTHER_HOP = "tenant"


class Hop(BaseModel):
    """One hop of the trace: its verdict, why, the FAQ entry that fixes it, and the verdict of each check."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: str  # ok | broken | unknown
    detail: str
    entry: str | None = None
    checks: dict[str, str] = {}  # check id → status ("pass", "fail", …)


class Trace(BaseModel):
    """The hops walked, in order; `broken_at` names the first broken hop, if any."""

    model_config = ConfigDict(frozen=True)

    referral_id: str | None
    hops: list[Hop]

    @property
    def broken_at(self) -> str | None:
        """The first broken hop's name."""
        return next((h.name for h in self.hops if h.status == "broken"), None)

    def verdicts(self) -> dict[str, str]:
        """Every check's status, over all hops."""
        return {check: status for hop in self.hops for check, status in hop.checks.items()}


def _hop(name: str, results: list[CheckResult], lang: Lang) -> Hop:
    checks = {r.id: r.status.value for r in results}
    failed = [r for r in results if r.status is Status.fail]
    looked = [r for r in results if r.status in (Status.passed, Status.warn)]
    if failed:
        entry = next((r.fix.entry for r in failed if r.fix and r.fix.entry), None) or next(
            (e for r in failed for e in r.entries), None
        )
        detail = " ".join(r.text(lang)[1] for r in failed)
        return Hop(name=name, status="broken", detail=detail, entry=entry, checks=checks)
    if looked and not any(r.status is Status.error for r in results):
        words = said("trace-tenant-ok", count=len(looked)) if name == OTHER_HOP else None
        detail = (words.it if lang == "it" else words.en) if words else " ".join(r.text(lang)[1] for r in looked)
        return Hop(name=name, status="ok", detail=detail, checks=checks)
    reasons = " ".join(dict.fromkeys(r.text(lang)[1] for r in results if r.status is not Status.passed))
    return Hop(name=name, status="unknown", detail=reasons or "-", checks=checks)


_GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_OPPORTUNITY = re.compile(r"opportunit|\bcrm\s*id\b", re.IGNORECASE)


def inputs_in(text: str | None) -> dict[str, str]:
    """The record a question names, as check inputs: its first GUID, an opportunity id when the question speaks of
    an opportunity (or a CRM ID), else a referral id; empty when it names none."""
    found = _GUID.search(text or "")
    if found is None:
        return {}
    key = "opportunity_id" if _OPPORTUNITY.search(text or "") else "referral_id"
    return {key: found.group(0)}


def trace_from(results: Iterable[CheckResult], referral_id: str | None = None, lang: Lang = "en") -> Trace:
    """The trace of one sweep's `results` (run with the referral's or the opportunity's id as inputs)."""
    by_id = {r.id: r for r in results}
    referral = by_id.get("referral-sync")
    found_id = referral.evidence.get("referral_id") if referral else None
    hops: list[Hop] = []
    for name, ids in SYNC_PATH:
        found = [by_id.pop(i) for i in ids if i in by_id]
        if found:
            hops.append(_hop(name, found, lang))
    if by_id:
        hops.append(_hop(OTHER_HOP, list(by_id.values()), lang))
    return Trace(referral_id=referral_id or found_id, hops=hops)
