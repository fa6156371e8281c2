"""The support case and its outbox, as the escalation port stores them (pydantic, SDK-free).

A `SupportCase` is created when the user presses **Send** on the hand-over preview. It keeps what is needed to reach
both sides later from any instance: the user's conversation reference (`user_reference`, the JSON of a Bot Framework
`ConversationReference`) and, once the Teams target has posted the case, the support thread's (`support_thread`).

Everything that must reach someone goes through the outbox: one `OutboxItem` per (case, target, key), created in the
same transaction as the case or the event that causes it, delivered by `assistant.handoff.outbox.Outbox` with
retries and a lease, so it is delivered once per target even with several instances and across restarts.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CaseStatus = Literal["open", "taken", "resolved"]
CASE_STATUSES: tuple[CaseStatus, ...] = ("open", "taken", "resolved")
DeliveryStatus = Literal["pending", "delivered", "failed"]
EventKind = Literal["created", "user_message", "staff_reply", "taken", "resolved", "rating", "status", "returned"]

# outbox targets: where a case or a message goes (each enabled by settings, see bot/settings.py)
TEAMS = "teams"  # the support channel in Teams: the case card, then user messages into its thread
USER = "user"  # the user's own conversation: "taken", staff replies, "resolved" (proactive messages)
HANDOFF_EVENT = "handoff_event"  # the Bot Framework `handoff.initiate` event, for agent hubs
WEBHOOK = "webhook"  # the signed webhook carrying the bundle

_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone


def new_ref() -> str:
    """A fresh case reference, e.g. `CS-7K3Q9P` (32^6 ≈ 10^9 values; the store refuses a duplicate)."""
    return "CS-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


def utcnow() -> datetime:
    """Now, in UTC (one clock for the escalation code, patched by tests)."""
    return datetime.now(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SupportCase(_Model):
    """One hand-over to support staff. Personal fields: `user_name`, `user_id`, `aad_object_id`, `description`."""

    ref: str
    status: CaseStatus = "open"
    created: datetime
    updated: datetime
    channel_id: str
    conversation_id: str
    lang: Literal["en", "it"] = "en"
    user_id: str | None = None
    user_name: str | None = None
    aad_object_id: str | None = None  # only when the channel proved it
    description: str = ""
    summary: str = ""
    taken_by: str | None = None  # display name of the support engineer who took it
    resolved_by: str | None = None
    resolution: str | None = None
    rating: int | None = None  # 1-5, asked for when the case is resolved
    with_support: bool = True  # the user's messages go to support (False after "back to the assistant")
    user_reference: dict[str, Any] = Field(default_factory=dict)  # ConversationReference JSON of the user's chat
    support_thread: dict[str, Any] | None = None  # ConversationReference JSON of the Teams thread + "card_id"

    @property
    def active(self) -> bool:
        """True while support may still act on the case (open or taken)."""
        return self.status != "resolved"


class CaseEvent(_Model):
    """Something that happened to a case, in order: what the user and staff said, who took or resolved it."""

    ref: str
    seq: int = 0
    at: datetime
    kind: EventKind
    author: str | None = None
    text: str = ""


class OutboxItem(_Model):
    """One thing to deliver to one target, once. `key` is unique per (ref, target): "case", "event:<seq>", …"""

    id: int = 0
    ref: str
    target: str
    key: str
    payload: dict[str, Any] = Field(default_factory=dict)
    status: DeliveryStatus = "pending"
    attempts: int = 0
    next_at: datetime
    last_error: str | None = None
    delivered_at: datetime | None = None
    detail: dict[str, Any] = Field(default_factory=dict)  # what the target returned (ids, HTTP status)


class DeliveryFailed(Exception):
    """A target could not deliver. `retry` False: retrying cannot help (e.g. the webhook answered 400).

    The message must hold no secret and no user text: it is stored with the item and logged.
    """

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
