"""The referral sync trace: walk the hops a co-sell referral takes and stop at the first broken one.

Partner Center referral → webhook registration (four events) → "Partner Center to <CRM>" flow on →
CRM ID written back to the referral → the CRM opportunity exists → the deal is not closed Won/Lost.
Each hop says what it found and which FAQ entry applies when it is broken. SDK-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tenant.base import LiveCheckError, System
from tenant.checks.common import connector_flow

HopStatus = Literal["ok", "broken", "unknown"]


class Hop(BaseModel):
    """One hop of the trace."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: HopStatus
    detail: str
    entry: str | None = None


class Trace(BaseModel):
    """The hops walked, in order; `broken_at` names the first broken hop, if any."""

    model_config = ConfigDict(frozen=True)

    referral_id: str | None
    hops: list[Hop]

    @property
    def broken_at(self) -> str | None:
        """The first broken hop's name."""
        return next((h.name for h in self.hops if h.status == "broken"), None)


def _hop(name: str, ok: bool, good: str, bad: str, entry: str) -> Hop:
    return Hop(name=name, status="ok" if ok else "broken", detail=good if ok else bad, entry=None if ok else entry)


async def _webhook_hop(pc: Any) -> Hop:
    registration = await pc.get_webhook_registration()
    if registration is None:
        return _hop(
            "webhook", False, "", "No webhook is registered for this Partner Center tenant.", "cfg-flows-wont-turn-on"
        )
    missing = registration.missing_events
    return _hop(
        "webhook", not missing, "All four referral events are registered.",
        f"Events not registered: {', '.join(missing)}.", "cfg-flows-wont-turn-on",
    )  # fmt: skip


async def _flow_hop(flows: Any) -> Hop:
    found = [f for f in (connector_flow(x.name, x.display_name, x.state == "Started", x.state or "") for x in
                         await flows.list_flows()) if f is not None and f.role == "parent"]  # fmt: skip
    if not found:
        return _hop("flow", False, "", "No 'Partner Center to <CRM>' flow was found.", "cfg-flows-wont-turn-on")
    off = [f.name for f in found if not f.on]
    return _hop("flow", not off, f"{found[0].name} is on.", f"{', '.join(off)} is off.", "cfg-activate-pc-to-crm")


async def trace_referral(clients: Mapping[System, Any], referral_id: str) -> Trace:
    """Walk the hops for one Partner Center referral; hops whose system has no client are `unknown`."""
    hops: list[Hop] = []
    pc, flows, dv = (clients.get(s) for s in (System.partner_center, System.power_automate, System.dataverse))
    if pc is None:
        return Trace(
            referral_id=referral_id,
            hops=[Hop(name="referral", status="unknown", detail="No Partner Center credential.")],
        )
    try:
        referral = await pc.get_referral(referral_id)
    except LiveCheckError as exc:
        return Trace(referral_id=referral_id, hops=[Hop(name="referral", status="unknown", detail=str(exc))])
    hops.append(Hop(name="referral", status="ok", detail=f"Referral found: {referral.status}/{referral.substatus}."))
    steps = [("webhook", pc, _webhook_hop), ("flow", flows, _flow_hop)]
    for name, client, probe in steps:
        if client is None:
            hops.append(Hop(name=name, status="unknown", detail="No credential for this system."))
            continue
        try:
            hops.append(await probe(client))
        except LiveCheckError as exc:
            hops.append(Hop(name=name, status="unknown", detail=str(exc)))
    crm_id = (referral.external_reference_id or "").strip()
    hops.append(_hop("crm-id", bool(crm_id), f"CRM ID {crm_id} is on the referral.",
                     "No CRM ID was written back to the referral.", "run-pc-not-synced-to-crm"))  # fmt: skip
    if crm_id and dv is not None:
        try:
            opportunity = await dv.get_opportunity(crm_id)
            hops.append(Hop(name="crm-record", status="ok", detail=f"CRM opportunity found: {opportunity.name}."))
        except LiveCheckError as exc:
            hops.append(Hop(name="crm-record", status="broken", detail=str(exc), entry="run-bidirectional"))
    closed = (referral.status or "").casefold() == "closed" and (referral.substatus or "").casefold() in ("won", "lost")
    hops.append(_hop("open", not closed, "The deal is open.", f"The deal is closed as {referral.substatus}.",
                     "run-pc-not-synced-to-crm"))  # fmt: skip
    return Trace(referral_id=referral_id, hops=hops)


async def trace_opportunity(clients: Mapping[System, Any], opportunity_id: str, *, max_pages: int = 3) -> Trace:
    """Find the referral carrying this CRM opportunity id (filtering on it is undocumented, so page through a
    bounded list), then trace it."""
    pc = clients.get(System.partner_center)
    if pc is None:
        return Trace(
            referral_id=None, hops=[Hop(name="referral", status="unknown", detail="No Partner Center credential.")]
        )
    try:
        referrals = await pc.list_referrals(max_pages=max_pages)
    except LiveCheckError as exc:
        return Trace(referral_id=None, hops=[Hop(name="referral", status="unknown", detail=str(exc))])
    wanted = opportunity_id.strip().casefold()
    match = next((r for r in referrals if (r.external_reference_id or "").strip().casefold() == wanted), None)
    if match is None:
        detail = f"No Partner Center referral (of the {len(referrals)} read) carries CRM ID {opportunity_id}."
        return Trace(
            referral_id=None, hops=[Hop(name="referral", status="broken", detail=detail, entry="run-not-synced")]
        )
    return await trace_referral(clients, match.id)
