"""Dialog options and persisted conversation data (pydantic), plus the ports the dialogs depend on.

Options travel as `model_dump()` dicts inside dialog state and are read back with `model_validate`,
so stored state never records Python class paths.
"""

from __future__ import annotations

from typing import Any, Protocol

from botbuilder.core import TurnContext

from assistant.case import (
    ConversationData,
    ItemStatus,
    RemediationResult,
)
from knowledge.models import Area, Lang, Match
from tenant.base import CheckResult
from tenant.remediation import RemediationOutcome, RemediationPlan
from tenant.runner import Sweep

LANG_KEY = "cosell.lang"  # turn_state: the language of this turn's replies
LANG_CHANGED_KEY = "cosell.lang_locked"  # turn_state: set when the user chose a language explicitly
MATCH_KEY = "cosell.match"  # turn_state: the matcher's verdict for this turn's text (for `ask --json`)
ANSWER_KEY = "cosell.answer"  # turn_state: the text of the answer shown this turn


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


class Remediation(Protocol):
    """Confirm-gated fixes of live findings, for the users on the admin allow-list."""

    def allowed(self, *user_ids: str | None) -> bool:
        """True when any of the user's ids is on the admin allow-list."""

    async def plan(self, action: str, finding: CheckResult) -> RemediationPlan:
        """The preview of exactly what `action` would change (raises the LiveCheckError family)."""

    async def execute(self, plan: RemediationPlan) -> RemediationOutcome:
        """Apply a confirmed plan, stopping at the first failed step; when a step changed something, the checks it
        affects are re-run (their cached results replaced) and come back in the outcome's `verified`."""


_DATA_KEY = "cosell.data"  # turn_state: this conversation's ConversationData, loaded by the bot handler


def set_conversation_data(ctx: TurnContext, data: ConversationData) -> None:
    """Make `data` this turn's conversation data (the bot handler loads it, and saves it after the turn)."""
    ctx.turn_state[_DATA_KEY] = data


def conversation_data(ctx: TurnContext) -> ConversationData | None:
    """This turn's conversation data; None on turns the handler did not load it for."""
    data = ctx.turn_state.get(_DATA_KEY)
    return data if isinstance(data, ConversationData) else None


def turn_lang(ctx: TurnContext) -> Lang:
    """The language replies of this turn use (set by the bot handler)."""
    lang: Lang = ctx.turn_state.get(LANG_KEY, "en")
    return lang


def set_match(ctx: TurnContext, result: Match) -> None:
    """Record the matcher's verdict for this turn (read by `ask --json`)."""
    ctx.turn_state[MATCH_KEY] = result
