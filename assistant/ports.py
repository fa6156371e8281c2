"""The ports of the application core: the Protocols the dialogs and the host talk through, SDK-free.

Persistence (implemented in `stores/`, one folder per backend; `bot/wiring.py` picks the implementation):

- `StateStore`: conversation and user state, key → (encoded text, e-tag), with optimistic concurrency; a write that
  loses the race raises `StateConflict`. The botbuilder `Storage` the dialogs' state goes through is an adapter over
  it (`bot/sdk/storage.py`), which does the encoding and keeps the e-tags on the items.
- `TranscriptStore` (`TranscriptSink`, the write side): the redacted activity log per conversation, each turn's
  facts (`assistant.analytics.model.TurnFacts`) on its incoming row.
- `Analytics`: the read side of those facts, the journal and the cases for the usage report.
- `Journal`: feedback votes, handoff requests, checklist outcomes, remediations.
- `CallCounter`: API calls per system per day (re-exported from `tenant.base`, where the check runner declares it).
- `TokenCacheStore`: the encrypted msal token cache's blobs (from `tenant.auth.entra`, which declares it).
- `CaseStore`: support cases (escalation), their bundles, their events and the delivery outbox
  (`assistant.handoff.model` holds the models).
- `Retention`: bounded, private storage across all of them: the periodic purge of what is older than the retention
  settings, and the erasure of one person's data.

The tenant as the dialogs see it: `LiveFindings` (live checks) and `Remediation` (confirm-gated fixes).

`Area`, `Lang` and `System` are re-exported because the ports' signatures use them: an implementation outside the
layers (`stores/`) takes them from here, never from `knowledge` or `tenant` directly (import-linter contracts in
`pyproject.toml`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from assistant.analytics.model import TurnFacts, Window
from assistant.case import ItemStatus, RemediationResult
from assistant.handoff.model import CaseEvent, CaseStatus, OutboxItem, SupportCase
from knowledge.models import Area, Lang
from tenant.auth.entra import TokenCacheStore
from tenant.base import CallCounter, CheckResult, System
from tenant.remediation import RemediationOutcome, RemediationPlan
from tenant.runner import Sweep

__all__ = [
    "Analytics",
    "Area",
    "CallCounter",
    "CaseConflict",
    "CaseEvent",
    "CaseStatus",
    "CaseStore",
    "DeliveryTarget",
    "Journal",
    "Lang",
    "LiveFindings",
    "OutboxItem",
    "Remediation",
    "Retention",
    "StateChange",
    "StateConflict",
    "StateStore",
    "StoredState",
    "SupportCase",
    "System",
    "TokenCacheStore",
    "TranscriptSink",
    "TranscriptStore",
    "TurnFacts",
    "Window",
]


class StateConflict(Exception):
    """A write lost an optimistic-concurrency race: the stored item changed since it was read.

    The message names the key only, never the data.
    """

    def __init__(self, key: str) -> None:
        super().__init__(f"e-tag conflict writing state key {key!r}")
        self.key = key


class StoredState(NamedTuple):
    """One stored state item: its encoded text and the e-tag of that version."""

    data: str
    etag: str


class StateChange(NamedTuple):
    """One state item to write: its encoded text and the e-tag the writer read.

    `etag` None: insert only (the key must not exist yet); "*": write unconditionally; any other value: update only
    if the stored e-tag is still that one.
    """

    data: str
    etag: str | None


class StateStore(Protocol):
    """Conversation and user state by key, with optimistic concurrency (e-tags).

    The data is opaque text to the store (the host's encoding of the item, stored and returned as is). E-tags are
    the store's: every successful write gives each written key a new one, never reused for that key.
    """

    async def read(self, keys: Iterable[str]) -> dict[str, StoredState]:
        """The stored items of `keys`; missing keys are absent from the result."""
        ...

    async def write(self, changes: Mapping[str, StateChange]) -> dict[str, str]:
        """Write all of `changes` or none; return each key's new e-tag.

        Raises:
            StateConflict: an e-tag check failed (see `StateChange`); nothing was written.
        """
        ...

    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the items of `keys` (missing keys are ignored)."""
        ...


class TranscriptSink(Protocol):
    """Anything that can record serialised activities with their direction."""

    async def log_serialized(
        self, entries: Sequence[tuple[dict[str, Any], str]], facts: TurnFacts | None = None
    ) -> None:
        """Store serialised activities (`Activity.serialize()` dicts), redacted, in order; direction "in" or "out".
        `facts` (what the assistant made of the turn: `assistant.analytics`) go with the first "in" activity.

        Raises:
            ValueError: a direction is neither "in" nor "out".
        """
        ...


class TranscriptStore(TranscriptSink, Protocol):
    """The redacted activity log per conversation: written by the transcript middleware, read by operators."""

    async def get_transcript(
        self, channel_id: str, conversation_id: str, *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Oldest first: `{"seq", "direction", "timestamp", "activity"}`; with `limit`, the latest ones."""
        ...

    async def list_conversations(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        """Conversations with a transcript, most recently active first."""
        ...

    async def delete_transcript(self, channel_id: str, conversation_id: str) -> None:
        """Forget one conversation's transcript."""
        ...


class Analytics(Protocol):
    """What the usage report is computed from (`assistant.analytics.figures.build_report`), read-only."""

    async def window(self, since: datetime, until: datetime) -> Window:
        """The incoming activities with their facts, the last activity of each conversation, the votes, the
        conversations whose checklist ended with no open item and those a case was opened in, all in [`since`,
        `until`); `texts`: the redacted text of the messages the matcher abstained on and of the answered or
        clarified ones in conversations with a not-helpful vote."""
        ...


class Journal(Protocol):
    """Durable record of what users told us: feedback, checklist outcomes, remediations (hand-overs are cases:
    `CaseStore`)."""

    async def record_feedback(self, conversation_id: str, entry_id: str, helpful: bool, lang: Lang) -> None:
        """Store a helpful / not helpful vote on an answer."""

    async def record_checklist(self, conversation_id: str, area: Area, results: dict[str, ItemStatus]) -> None:
        """Store the outcome of a checklist walk."""

    async def record_remediation(
        self,
        conversation_id: str,
        user_id: str,
        action: str,
        *,
        before: dict[str, Any],
        after: dict[str, Any],
        result: RemediationResult,
        detail: str | None = None,
    ) -> None:
        """Store who asked for which remediation, the state before and after, and how it ended."""

    async def feedback_for(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's votes, oldest first: `{"at": datetime, "entry_id", "helpful": bool, "lang"}`."""
        ...

    async def remediations_for(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's remediations, oldest first: `{"at": datetime, "user_id", "action", "result",
        "detail", "before": dict, "after": dict}` (redacted when recorded)."""
        ...


class CaseConflict(Exception):
    """A case changed since it was read (another turn or instance updated it first); re-read and try again."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"case {ref} changed since it was read")
        self.ref = ref


class CaseStore(Protocol):
    """Support cases with their bundle, their events and the outbox of what must reach someone, durable and shared
    by every instance. Each write is one transaction: a case (or an event) and the outbox items it causes are
    committed together or not at all."""

    async def create(self, case: SupportCase, bundle: dict[str, Any], items: Sequence[OutboxItem] = ()) -> None:
        """Store a new case, its bundle (the `cosell.case.v1` JSON) and its first outbox items.

        Raises:
            CaseConflict: a case with this ref exists already (nothing was written).
        """
        ...

    async def get(self, ref: str) -> SupportCase | None:
        """The case `ref`, or None."""
        ...

    async def bundle(self, ref: str) -> dict[str, Any] | None:
        """The bundle stored with the case, or None."""
        ...

    async def list_cases(self, status: CaseStatus | None = None, *, limit: int = 100) -> list[SupportCase]:
        """Cases, newest first; only those in `status` when given."""
        ...

    async def active_for(self, channel_id: str, conversation_id: str) -> SupportCase | None:
        """The newest case of this conversation that is not resolved, or None."""
        ...

    async def by_thread(self, thread_conversation_id: str) -> SupportCase | None:
        """The case whose Teams support thread is `thread_conversation_id` (its `support_thread["conversation"]
        ["id"]`, with or without the `;messageid=` suffix), or None."""
        ...

    async def update(
        self,
        case: SupportCase,
        *,
        expect_updated: datetime,
        event: CaseEvent | None = None,
        items: Sequence[OutboxItem] = (),
    ) -> CaseEvent | None:
        """Save `case` if its stored `updated` is still `expect_updated`; append `event` (its `seq` assigned here,
        returned) and the outbox items, in the same transaction.

        Raises:
            CaseConflict: the case changed (or is gone) since it was read; nothing was written.
        """
        ...

    async def events(self, ref: str) -> list[CaseEvent]:
        """The case's events, oldest first."""
        ...

    async def claim(self, owner: str, now: datetime, lease: timedelta, *, limit: int = 20) -> list[OutboxItem]:
        """Lease up to `limit` pending items due at `now` (never one another owner holds an unexpired lease on),
        oldest first; the lease ends at `now + lease`. Atomic across processes sharing the store."""
        ...

    async def settle(
        self,
        item_id: int,
        owner: str,
        *,
        delivered: bool,
        detail: Mapping[str, Any] | None = None,
        error: str | None = None,
        next_at: datetime | None = None,
    ) -> bool:
        """Record an attempt on a leased item: delivered (with `detail`), or not: `error` kept, `attempts` + 1, due
        again at `next_at` (None: given up, status "failed"). False, and nothing written, when `owner` no longer
        holds the lease."""
        ...

    async def deliveries(self, ref: str) -> list[OutboxItem]:
        """The case's outbox items, oldest first."""
        ...

    async def retry(self, ref: str, now: datetime) -> int:
        """Make the case's failed items pending again, due at `now`; return how many."""
        ...


class Retention(Protocol):
    """Bounded, private storage over every store: what is older than the retention goes, and one person's data can
    be erased on request. Counts are rows per table (a table's name as the key); neither method touches open cases'
    history nor blocks turns for long (small transactions)."""

    async def purge(self, *, dry_run: bool = False) -> dict[str, int]:
        """Delete conversation state and transcripts older than the conversation retention, and resolved cases
        (with their rows), the journal and the API call counts older than the case retention; with `dry_run`,
        only count them."""
        ...

    async def forget(self, user_id: str, *, dry_run: bool = False) -> dict[str, int]:
        """Erase the data of user `user_id` everywhere: their state, the state and transcripts of their
        conversations, those conversations' journal rows, and their cases' personal fields (the cases' history
        stays); with `dry_run`, only count what would change.

        Raises:
            ValueError: `user_id` is empty.
        """
        ...


class DeliveryTarget(Protocol):
    """Somewhere the outbox delivers to (the Teams support channel, the user's conversation, a webhook, …)."""

    name: str

    async def deliver(self, item: OutboxItem, case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
        """Deliver one item; return what to keep of the answer (ids, HTTP status). A `"thread"` key in it is the
        support thread the case was posted in (`SupportCase.support_thread`).

        Raises:
            DeliveryFailed: not delivered (`retry` says whether trying again can help); other exceptions count as
                retryable failures.
        """
        ...


class LiveFindings(Protocol):
    """Live checks on the admin's tenant, as the dialogs see them (None when nothing is configured)."""

    @property
    def configured(self) -> bool:
        """True when at least one system has credentials."""

    def ids_for(self, entry_id: str) -> list[str]:
        """Ids of the checks that diagnose `entry_id`."""

    async def sweep(
        self, *, area: str | None = None, ids: list[str] | None = None, inputs: dict[str, str] | None = None
    ) -> Sweep:
        """Run checks (of an area, or by id); client failures come back as `error` results, not exceptions."""


class Remediation(Protocol):
    """Confirm-gated fixes of live findings, for the users on the admin allow-list."""

    def allowed(self, *user_ids: str | None) -> bool:
        """True when any of the user's ids is on the admin allow-list."""

    async def plan(self, action: str, finding: CheckResult) -> RemediationPlan:
        """The preview of exactly what `action` would change (raises the LiveCheckError family)."""

    async def execute(self, plan: RemediationPlan) -> RemediationOutcome:
        """Apply a confirmed plan, stopping at the first failed step; when a step changed something, the checks it
        affects are re-run (their cached results replaced) and come back in the outcome's `verified`."""
