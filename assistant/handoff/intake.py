"""Escalation: turns a conversation into a support case — the preview the user approves, then the case and its
bundle, built from what the conversation kept (`ConversationData`), the journal and the transcript store.

SDK-free: the hand-over dialog describes the requester (`Requester`, from what the channel proved) and calls
`preview` and `submit`; the desk (`assistant.handoff.desk`) stores the case and queues its delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from assistant.case import ConversationData, HandoffPreview
from assistant.handoff import model as handoff_model
from assistant.handoff.bundle import (
    BundleTenant,
    BundleUser,
    CaseBundle,
    Checklist,
    ChecklistItem,
    Finding,
    MatchedEntry,
    Remediation,
    Vote,
    build_bundle,
)
from assistant.handoff.desk import SupportDesk
from assistant.handoff.model import SupportCase, new_ref
from assistant.ports import Journal, TranscriptStore
from knowledge.loader import KnowledgeBase
from knowledge.models import Area, Lang

Crm = Literal["dynamics", "salesforce"]


@dataclass(frozen=True)
class Requester:
    """Who asks for support and where: the user's conversation as the channel described it."""

    channel_id: str
    conversation_id: str
    lang: Lang
    locale: str
    user_id: str | None = None
    user_name: str | None = None
    aad_object_id: str | None = None  # set only when the channel proved who the user is
    tenant_id: str | None = None
    reference: dict[str, Any] = field(default_factory=dict)  # ConversationReference JSON, to reach the user later


class Escalation:
    """Builds hand-over previews and cases; `desk` stores them and tells support."""

    def __init__(self, desk: SupportDesk, transcripts: TranscriptStore, journal: Journal, kb: KnowledgeBase) -> None:
        self.desk = desk
        self._transcripts = transcripts
        self._journal = journal
        self._kb = kb

    async def bundle(self, who: Requester, data: ConversationData, description: str, ref: str) -> CaseBundle:
        """The case's bundle as it would be sent now (redacted whole)."""
        rows = await self._transcripts.get_transcript(who.channel_id, who.conversation_id)
        findings = [_finding(raw) for raw in data.findings.values()]
        return build_bundle(
            ref=ref,
            channel=who.channel_id,
            conversation_id=who.conversation_id,
            locale=who.locale,
            user=BundleUser(
                name=who.user_name,
                id=who.user_id,
                aad_object_id=who.aad_object_id,
                verified=who.aad_object_id is not None,
            ),
            tenant=BundleTenant(tenant_id=who.tenant_id, crm=_crm(findings)),
            description=description,
            matched=[self._matched(m.entry, m.confidence, m.via, m.at) for m in data.matches],
            checklists=[self._checklist(area, items) for area, items in data.checklists.items()],
            findings=findings,
            remediations=[_remediation(r) for r in await self._journal.remediations_for(who.conversation_id)],
            feedback=[
                Vote(entry=v["entry_id"], helpful=v["helpful"], at=v["at"])
                for v in await self._journal.feedback_for(who.conversation_id)
            ],
            activities=[row["activity"] for row in rows],
        )

    async def preview(self, who: Requester, data: ConversationData, description: str) -> HandoffPreview:
        """What the user is shown before sending: exactly what the bundle holds, in brief."""
        bundle = await self.bundle(who, data, description, "preview")
        return HandoffPreview(
            description=bundle.description,
            summary=bundle.summary,
            checks=[(f.status, f.title) for f in (bundle.failing or bundle.findings)],
            matched=[m.entry for m in bundle.matched],
            fixes=[(r.action, r.result) for r in bundle.remediations],
            messages=len(bundle.transcript),
            targets=list(self.desk.targets),
        )

    async def submit(self, who: Requester, data: ConversationData, description: str) -> SupportCase:
        """Build the bundle again, whole, store the case and queue its delivery; return the stored case."""
        ref = new_ref()
        bundle = await self.bundle(who, data, description, ref)
        now = handoff_model.utcnow()
        case = SupportCase(
            ref=ref,
            created=now,
            updated=now,
            channel_id=who.channel_id,
            conversation_id=who.conversation_id,
            lang=who.lang,
            user_id=who.user_id,
            user_name=who.user_name,
            aad_object_id=who.aad_object_id,
            description=bundle.description,
            summary=bundle.summary,
            user_reference=who.reference,
        )
        return await self.desk.open(case, bundle)

    def _matched(self, entry_id: str, confidence: float, via: str, at: datetime) -> MatchedEntry:
        title = self._kb.get(entry_id).content("en").title if entry_id in self._kb.by_id else entry_id
        return MatchedEntry(entry=entry_id, title=title, confidence=round(confidence, 3), via=via, at=at)

    def _checklist(self, area: str, items: Mapping[str, str]) -> Checklist:
        known = {e.id: e for e in self._kb.area(Area(area))} if area in Area.__members__ else {}
        return Checklist(
            area=area,
            items=[
                ChecklistItem(
                    entry=entry, check=known[entry].content("en").check if entry in known else entry, outcome=s
                )
                for entry, s in items.items()
            ],
        )


def _finding(raw: dict[str, Any]) -> Finding:
    status = raw.get("status")
    return Finding(
        check=str(raw.get("id", "")),
        title=str(raw.get("title", "")),
        system=str(raw.get("system", "")),
        status=str(getattr(status, "value", status) or ""),
        summary=str(raw.get("summary", "")),
        evidence=raw.get("evidence") if isinstance(raw.get("evidence"), dict) else {},
        checked_at=raw.get("checked_at"),
    )


def _remediation(raw: dict[str, Any]) -> Remediation:
    return Remediation(
        at=raw.get("at"),
        action=str(raw.get("action", "")),
        result=str(raw.get("result", "")),
        detail=raw.get("detail"),
        before=raw.get("before") or {},
        after=raw.get("after") or {},
    )


def _crm(findings: list[Finding]) -> Crm | None:
    systems = {f.system for f in findings if f.status in ("pass", "warn", "fail")}
    if "dataverse" in systems:
        return "dynamics"
    return "salesforce" if "salesforce" in systems else None
