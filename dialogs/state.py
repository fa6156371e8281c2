"""What the dialogs keep on the botbuilder `TurnContext`: the turn_state keys and their typed accessors.

The models these carry (`ConversationData`, the dialogs' options) are SDK-free and live in `assistant/case.py`; the
ports the dialogs depend on are in `assistant/ports.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from botbuilder.core import TurnContext

from assistant.analytics.model import TurnFacts, Verdict
from assistant.case import MAX_MATCHES, ConversationData, MatchRecord
from knowledge.crm import CRM_NAMES, Crm
from knowledge.models import Lang, Match
from tenant.base import CheckResult
from tenant.checks.common import crm_of

LANG_KEY = "cosell.lang"  # turn_state: the language of this turn's replies
LANG_CHANGED_KEY = "cosell.lang_locked"  # turn_state: set when the user chose a language explicitly
#: turn_state: while set, replies go out at once even in a turn whose answers wait for its state to be saved
#: (progress notes: `bot.sdk.turn_context.HeldReplies`)
SEND_NOW = "cosell.send_now"
MATCH_KEY = "cosell.match"  # turn_state: the matcher's verdict for this turn's text (for `ask --json`)
ANSWER_KEY = "cosell.answer"  # turn_state: the text of the answer shown this turn
FINDINGS_KEY = "cosell.findings"  # turn_state: the live findings shown this turn (for `ask --json`)
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


def turn_facts(ctx: TurnContext) -> TurnFacts | None:
    """What the dialogs made of this turn, for the usage report (stored on the turn's transcript row): the matcher's
    verdict, the entry whose answer was shown, the live checks shown; None when there is nothing to say."""
    state = ctx.turn_state
    found: Match | None = state.get(MATCH_KEY)
    answer = state.get(ANSWER_KEY)
    findings: list[CheckResult] = state.get(FINDINGS_KEY) or []
    if found is None and answer is None and not findings:
        return None
    verdict: Verdict | None = None
    if found is not None:
        # an off-topic question pointed to Microsoft's page for it was understood (`MainDialog`): not "unanswered"
        verdict = "neighbour" if found.kind == "none" and found.neighbour else found.kind
    return TurnFacts(
        verdict=verdict,
        entry_id=getattr(answer, "entry_id", None),
        checks=tuple((r.id, r.system.value, r.status.value) for r in findings),
    )


def record_findings(ctx: TurnContext, results: Iterable[CheckResult]) -> None:
    """Keep each check's latest result, with when it ran, for a hand-over bundle (and this turn's, for `ask`)."""
    results = list(results)
    ctx.turn_state[FINDINGS_KEY] = [*ctx.turn_state.get(FINDINGS_KEY, ()), *results]
    data = conversation_data(ctx)
    if data is None:
        return
    remember_crm(ctx, crm_of(results))  # the connector's flows are named after the CRM they sync with
    at = datetime.now(UTC).isoformat()
    for result in results:
        data.findings[result.id] = {**result.model_dump(mode="json"), "checked_at": at}


def remember_crm(ctx: TurnContext, crm: str | None) -> None:
    """Keep the partner's CRM for the rest of the conversation (None: nothing learnt, keep what is known)."""
    data = conversation_data(ctx)
    if data is not None and crm in CRM_NAMES:
        data.crm = crm


def conversation_crm(ctx: TurnContext) -> Crm | None:
    """The partner's CRM as known in this conversation (None: not known)."""
    data = conversation_data(ctx)
    return data.crm if data is not None else None


def record_answer(ctx: TurnContext, entry: str, confidence: float, via: str) -> None:
    """Keep an answer the assistant gave (the latest `MAX_MATCHES`), for a hand-over bundle."""
    data = conversation_data(ctx)
    if data is None:
        return
    data.matches = [*data.matches, MatchRecord(entry=entry, confidence=confidence, via=via, at=datetime.now(UTC))][
        -MAX_MATCHES:
    ]
