"""The analytics data: a turn's facts as stored, a window of them as the store reads it back, the report's figures.

`TurnFacts` holds ids, kinds and statuses only — never what the user wrote. The only user text the report shows is
an example per group of unanswered questions, taken from the transcript (redacted when stored, and again, with
e-mail addresses masked, when shown: `assistant.analytics.figures`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

#: the matcher's verdict on a turn's text: an entry answered, a clarifying question, nothing found (the matcher
#: abstained), an off-topic question pointed to Microsoft's page for it, small talk
Verdict = Literal["answer", "clarify", "none", "neighbour", "smalltalk"]
Check = tuple[str, str, str]  # a live check shown in the turn: (check id, system, status)


@dataclass(frozen=True)
class TurnFacts:
    """What the assistant made of one turn: the verdict (None when the matcher did not run: a command, a card
    button, a vote), the entry whose answer was shown, the live checks shown."""

    verdict: Verdict | None = None
    entry_id: str | None = None
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Turn:
    """One incoming activity of the window with its facts; `text` (redacted when stored) only where the report may
    need it (`Window.texts`)."""

    row: int
    conversation: tuple[str, str]  # (channel id, conversation id)
    at: datetime
    message: bool  # a message (the user wrote or pressed something), not an event, invoke or update
    facts: TurnFacts


@dataclass(frozen=True)
class Vote:
    conversation_id: str
    at: datetime
    entry_id: str
    helpful: bool


@dataclass(frozen=True)
class Window:
    """Everything the report is computed from, read by the store (`assistant.ports.Analytics`) for
    [`since`, `until`)."""

    since: datetime
    until: datetime
    turns: list[Turn] = field(default_factory=list)  # incoming activities, oldest first
    last_activity: dict[tuple[str, str], datetime] = field(default_factory=dict)  # any direction, in the window
    votes: list[Vote] = field(default_factory=list)
    clean_checklists: set[str] = field(default_factory=set)  # conversation ids: a checklist ended with no open item
    escalated: set[tuple[str, str]] = field(default_factory=set)  # conversations a case was opened in
    texts: dict[int, str] = field(default_factory=dict)  # transcript row → redacted text (see `Analytics.window`)


class Outcomes(BaseModel):
    """Sessions (conversations) of the window by outcome; the four outcomes add up to `engaged`."""

    engaged: int
    resolved: int
    escalated: int
    abandoned: int
    active: int  # engaged, no outcome yet, last activity less than the abandon threshold ago
    resolution_rate: float | None
    escalation_rate: float | None
    abandon_rate: float | None


class Figures(BaseModel):
    """One entry's, or one area's, figures."""

    key: str  # the entry id, or the area
    area: str
    conversations: int  # conversations it answered
    answers: int  # times its answer was shown
    helpful: int
    not_helpful: int
    helpful_rate: float | None  # helpful share of the votes; None without votes
    escalated: int  # of its conversations, those escalated
    escalation_rate: float | None


class QuestionGroup(BaseModel):
    """Similar questions the assistant did not answer, or whose answer did not help."""

    count: int
    unanswered: int  # the matcher abstained
    not_helpful: int  # the user said the answer did not help
    example: str  # redacted, e-mail addresses masked, truncated


class CheckFigures(BaseModel):
    """One live check's (or system's) results shown in the window."""

    key: str  # check id, or system
    system: str
    results: int
    failed: int
    errors: int  # could not run (error), apart from failures
    failure_rate: float | None  # failed / results that reached a verdict (pass, warn, fail)


class Report(BaseModel):
    """The report (`cosell-bot report --json`, `GET /admin/report`)."""

    since: datetime
    until: datetime
    days: int
    abandon_after_minutes: int
    definitions: dict[str, str]
    outcomes: Outcomes
    questions: int  # turns the matcher judged
    answered: int  # of those, answered with an entry
    unanswered: int  # of those, the matcher abstained
    unanswered_rate: float | None
    helpful_rate: float | None  # all votes
    entries: list[Figures]
    areas: list[Figures]
    unanswered_groups: list[QuestionGroup]
    checks: list[CheckFigures]
    systems: list[CheckFigures]
