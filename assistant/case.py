"""The conversation's case model, SDK-free: what a conversation keeps and what its dialogs pass each other (pydantic).

Options travel as `model_dump()` dicts inside dialog state and are read back with `model_validate`, so stored state
never records Python class paths (moving these classes here from `dialogs/state.py` orphaned nothing). The accessors
that reach these models through a botbuilder `TurnContext` stay in `dialogs/state.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.crm import Crm
from knowledge.models import Area, Lang
from tenant.base import CheckResult
from tenant.remediation import RemediationPlan

ItemStatus = Literal["done", "fixed", "open", "skipped"]
RemediationResult = Literal["refused", "cancelled", "done", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ChecklistOptions(_Model):
    """Where a checklist walk is: area, current item, and the status of each item so far."""

    area: Area
    index: int = 0
    results: dict[str, ItemStatus] = Field(default_factory=dict)
    swept: bool = False  # live checks already ran for this walk


class AnswerOptions(_Model):
    """The entry to present and how it was found."""

    entry_id: str
    confidence: float = 0.0
    via: str = "fuzzy"


class ClarifyOptions(_Model):
    """The candidate entries of a clarifying question."""

    alternatives: list[str]


class RemediationOptions(_Model):
    """The fixes to offer, one at a time: failed findings that carry a `fix.action` (typed here, dumped to JSON
    only where dialog state is saved)."""

    findings: list[CheckResult]


class PromptSpec(_Model):
    """A language-neutral description of a prompt, rendered in the turn's language each time it is shown."""

    kind: Literal[
        "answer",
        "item",
        "clarify",
        "summary",
        "fix_offer",
        "fix_confirm",
        "handoff_offer",
        "handoff_describe",
        "handoff_preview",
        "handoff_rate",
        "crm_ask",
    ]
    entry_id: str | None = None
    area: Area | None = None
    index: int = 0
    alternatives: list[str] = Field(default_factory=list)
    results: dict[str, ItemStatus] = Field(default_factory=dict)  # summary: status per entry id
    action: str | None = None  # fix_offer / fix_confirm: the remediation action
    finding: str | None = None  # fix_offer: the finding's title and summary
    # fix_offer: True = this user may run the fix ("Fix it for me" button); False = say who can and how, no button
    fix_offered: bool = True
    plan: RemediationPlan | None = None  # fix_confirm: the exact changes (ids, names, hosts; no secrets)
    preview: HandoffPreview | None = None  # handoff_preview: what will be shared
    case_ref: str | None = None  # handoff_rate: the resolved case


class HandoffPreview(_Model):
    """What the hand-over preview shows: exactly what the bundle will hold, in brief (the bundle is built again,
    whole, when the user presses Send)."""

    description: str
    summary: str
    checks: list[tuple[str, str]] = Field(default_factory=list)  # (status, title) of the checks support will see
    matched: list[str] = Field(default_factory=list)  # entry ids the assistant answered with
    fixes: list[tuple[str, str]] = Field(default_factory=list)  # (action, result)
    messages: int = 0  # transcript lines shared
    redacted: bool = True
    targets: list[str] = Field(default_factory=list)  # where it goes (teams, webhook, handoff_event)


class HandoffOptions(_Model):
    """How a hand-over started: the user's request text, and why it was offered (None: the user asked)."""

    request: str = ""
    reason: str | None = None


class MatchRecord(_Model):
    """An entry the assistant answered with, and how sure it was (kept for the hand-over bundle)."""

    entry: str
    confidence: float
    via: str
    at: datetime


class DialogEnd(_Model):
    """What a child dialog returns to the main dialog: optionally text to route as a new question."""

    redirect: str | None = None
    fixed: list[str] = Field(default_factory=list)  # FAQ entries whose finding a remediation fixed


class ConversationData(_Model):
    """Per-conversation data kept in conversation state."""

    lang: Lang | None = None
    lang_locked: bool = False
    turns: int = 0
    last_entry: str | None = None
    checklists: dict[str, dict[str, ItemStatus]] = Field(default_factory=dict)
    live_hidden_told: bool = False  # the user was told why live checks are not shown to them
    matches: list[MatchRecord] = Field(default_factory=list)  # the latest answers (at most MAX_MATCHES)
    findings: dict[str, dict[str, Any]] = Field(default_factory=dict)  # check id → latest CheckResult + checked_at
    not_helpful: int = 0  # "No, it didn't help" votes in this conversation
    misses: int = 0  # messages in a row the assistant did not understand
    offered: list[str] = Field(default_factory=list)  # reasons escalation was offered for (each once: never nag)
    case_ref: str | None = None  # the open support case of this conversation, while there is one
    crm: Crm | None = None  # the partner's CRM, from the live checks or the user's own words
    crm_asked: bool = False  # "Dynamics 365 or Salesforce?" was asked: never again in this conversation


MAX_MATCHES = 20
