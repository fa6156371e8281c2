"""The ports of the application core: the Protocols the dialogs talk through, SDK-free.

The tenant as the dialogs see it: `LiveFindings` (live checks) and `Remediation` (confirm-gated fixes); and the
`Journal`, the durable record of feedback votes, handoff requests, checklist outcomes and remediations.
"""

from __future__ import annotations

from typing import Any, Protocol

from assistant.case import ItemStatus, RemediationResult
from knowledge.models import Area, Lang
from tenant.base import CheckResult
from tenant.remediation import RemediationOutcome, RemediationPlan
from tenant.runner import Sweep


class Journal(Protocol):
    """Durable record of what users told us: feedback, handoff requests, checklist outcomes."""

    async def record_feedback(self, conversation_id: str, entry_id: str, helpful: bool, lang: Lang) -> None:
        """Store a helpful / not helpful vote on an answer."""

    async def record_handoff(self, conversation_id: str, channel_id: str, lang: Lang, summary: str) -> str:
        """Store a request to talk to a person; return its reference."""

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
