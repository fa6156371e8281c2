"""The diagnostic bundle (`schema: "cosell.case.v1"`): everything a support engineer needs to start where the
assistant stopped, as one versioned JSON document.

`build_bundle` takes what the conversation, the journal and the transcript store hold and returns the bundle with
every string passed through `assistant.redaction` (secret-named keys dropped, credential shapes masked). The JSON
Schema of this model is checked in at `deploy/cosell.case.v1.schema.json` (a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.redaction.masking import redact, redact_activity

SCHEMA = "cosell.case.v1"
MAX_TRANSCRIPT = 400  # activities kept in a bundle: the newest (a long conversation keeps its end, where it broke)
MAX_SUMMARY = 300  # characters of the one-line summary
CaseStatus = Literal["open", "taken", "resolved"]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BundleUser(_Part):
    """Who asked. `aad_object_id` only when the channel proved it (a Teams user under a validated token)."""

    name: str | None = None
    id: str | None = None
    aad_object_id: str | None = None
    verified: bool = False


class BundleTenant(_Part):
    """The partner's tenant, when the live checks or the user said which."""

    tenant_id: str | None = None
    environment: str | None = None
    crm: Literal["dynamics", "salesforce"] | None = None


class MatchedEntry(_Part):
    """An FAQ entry the assistant answered with, and how sure it was."""

    entry: str
    title: str
    confidence: float
    via: str
    at: datetime | None = None


class ChecklistItem(_Part):
    entry: str
    check: str
    outcome: str  # done / fixed / open / skipped, as the user reported it


class Checklist(_Part):
    area: str
    items: list[ChecklistItem]


class Finding(_Part):
    """A live check's latest result, with its evidence."""

    check: str
    title: str
    system: str
    status: str  # pass / warn / fail / skipped / error
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    checked_at: datetime | None = None


class Remediation(_Part):
    """A fix offered, refused, cancelled, done or failed (the remediation journal)."""

    at: datetime | None = None
    action: str
    result: str
    detail: str | None = None
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)


class Vote(_Part):
    entry: str
    helpful: bool
    at: datetime | None = None


class TranscriptLine(_Part):
    """One message of the conversation: who said it, when, its text (a card's plain-text summary for a card)."""

    at: datetime | None = None
    role: Literal["user", "bot", "support"]
    text: str


class CaseBundle(_Part):
    """The whole hand-over: see the module docstring and `deploy/cosell.case.v1.schema.json`."""

    schema_: Literal["cosell.case.v1"] = Field(default="cosell.case.v1", alias="schema")
    ref: str
    created: datetime
    status: CaseStatus = "open"
    channel: str
    conversation_id: str
    locale: str
    user: BundleUser
    tenant: BundleTenant = Field(default_factory=BundleTenant)
    description: str
    summary: str
    matched: list[MatchedEntry] = Field(default_factory=list)
    checklists: list[Checklist] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    remediations: list[Remediation] = Field(default_factory=list)
    feedback: list[Vote] = Field(default_factory=list)
    transcript: list[TranscriptLine] = Field(default_factory=list)
    transcript_truncated: int = 0  # older activities left out (MAX_TRANSCRIPT)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The bundle as its JSON document (`schema` key, ISO timestamps)."""
        return self.model_dump(mode="json", by_alias=True)

    @property
    def failing(self) -> list[Finding]:
        """The findings support should look at first: failed, then warnings, then errors (checks that could not
        look)."""
        order = {"fail": 0, "warn": 1, "error": 2}
        return sorted((f for f in self.findings if f.status in order), key=lambda f: order[f.status])


def _text_of(activity: Mapping[str, Any]) -> str:
    """What the user saw of an activity: its text, else a card's summary or fallback text, else its kind."""
    if isinstance(activity.get("text"), str) and activity["text"].strip():
        return str(activity["text"])
    if isinstance(activity.get("summary"), str) and activity["summary"].strip():
        return str(activity["summary"])
    attachments = activity.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        content = attachment.get("content") if isinstance(attachment, dict) else None
        if isinstance(content, dict) and isinstance(content.get("fallbackText"), str):
            return str(content["fallbackText"])
    value = activity.get("value")
    if isinstance(value, dict) and isinstance(value.get("choice"), str):
        return f"[{value['choice']}]"
    return ""


def transcript_lines(activities: Iterable[Mapping[str, Any]]) -> list[TranscriptLine]:
    """The conversation's messages as transcript lines (typing indicators, events and empty activities left out)."""
    lines = []
    for activity in activities:
        if activity.get("type") != "message":
            continue
        text = _text_of(activity)
        if not text:
            continue
        sender = activity.get("from") or {}
        role = sender.get("role") if isinstance(sender, dict) else None
        lines.append(TranscriptLine(at=_when(activity.get("timestamp")), role=_role(role), text=text))
    return lines


def _role(role: object) -> Literal["user", "bot", "support"]:
    if role == "bot":
        return "bot"
    return "support" if role == "support" else "user"


def _when(value: object) -> datetime | None:
    """An activity's timestamp as an aware datetime (Bot Framework timestamps without an offset are UTC)."""
    when = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def one_line_summary(description: str, findings: Sequence[Finding], matched: Sequence[MatchedEntry]) -> str:
    """The case in one line: the first failing check, else the last answer, else the user's own words.

    Redacted before it is cut: cut first, a token could lose the tail its pattern needs and be kept in part.
    """
    failing = [f for f in findings if f.status == "fail"]
    if failing:
        more = f" (+{len(failing) - 1} more failing)" if len(failing) > 1 else ""
        line = f"{failing[0].title}: {failing[0].summary}{more}"
    elif matched:
        line = f"Asked about: {matched[-1].title}"
    else:
        line = description
    return " ".join(redact(line).split())[:MAX_SUMMARY] or "Asked to talk to support"


def build_bundle(
    *,
    ref: str,
    channel: str,
    conversation_id: str,
    locale: str,
    user: BundleUser,
    description: str,
    tenant: BundleTenant | None = None,
    matched: Sequence[MatchedEntry] = (),
    checklists: Sequence[Checklist] = (),
    findings: Sequence[Finding] = (),
    remediations: Sequence[Remediation] = (),
    feedback: Sequence[Vote] = (),
    activities: Sequence[Mapping[str, Any]] = (),
    created: datetime | None = None,
) -> CaseBundle:
    """The bundle of one case, redacted whole (the same rules as transcripts, the journal and the log)."""
    lines = transcript_lines(activities)
    dropped = max(0, len(lines) - MAX_TRANSCRIPT)
    bundle = CaseBundle(
        ref=ref,
        created=created or datetime.now(UTC),
        channel=channel,
        conversation_id=conversation_id,
        locale=locale,
        user=user,
        tenant=tenant or BundleTenant(),
        description=description,
        summary=one_line_summary(description, findings, matched),
        matched=list(matched),
        checklists=list(checklists),
        findings=list(findings),
        remediations=list(remediations),
        feedback=list(feedback),
        transcript=lines[dropped:],
        transcript_truncated=dropped,
    )
    return CaseBundle.model_validate(redact_activity(bundle.to_json()))
