"""The live-check vocabulary: results, check declarations, the error family, and the ports checks use.

SDK-free (no botbuilder, no aiohttp): dialogs see live checks only through these types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from knowledge.messages import Bilingual


class System(StrEnum):
    """An external system a check calls."""

    partner_center = "partner_center"
    power_automate = "power_automate"
    dataverse = "dataverse"
    power_platform = "power_platform"
    graph = "graph"
    salesforce = "salesforce"


class Status(StrEnum):
    """Outcome of one check."""

    passed = "pass"
    warn = "warn"
    fail = "fail"
    skipped = "skipped"
    error = "error"


class Fix(BaseModel):
    """How to fix a finding: the FAQ entry whose steps apply, and a remediation action where one exists."""

    model_config = ConfigDict(frozen=True)

    entry: str | None = None
    action: str | None = None  # id of a confirm-gated remediation, e.g. "start-child-flows"
    detail: str | None = None


class CheckResult(BaseModel):
    """What one check found. `evidence` holds ids, names and values found — never secrets.

    `title_it` and `summary_it` are the Italian title and summary; `text(lang)` picks the pair to show.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    system: System
    status: Status
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    entries: tuple[str, ...] = ()
    fix: Fix | None = None
    elapsed_ms: float = 0.0
    title_it: str = ""
    summary_it: str = ""

    def text(self, lang: str) -> tuple[str, str]:
        """(title, summary) in Italian when `lang` is "it" and the Italian one is there, else in English."""
        if lang == "it":
            return self.title_it or self.title, self.summary_it or self.summary
        return self.title, self.summary


class LiveCheckError(Exception):
    """Base of the errors a client raises; messages are plain sentences, never secrets or bodies.

    `message` is English, or both languages at once (`tenant.texts.said(...)`); `message_it` is the sentence in
    Italian where the raiser gives one (empty otherwise).
    """

    def __init__(
        self, system: System, message: str | Bilingual, *, status: int | None = None, message_it: str = ""
    ) -> None:
        if isinstance(message, Bilingual):
            message_it = message.it
            message = message.en
        super().__init__(message)
        self.system = system
        self.status = status
        self.message_it = message_it


class LiveCheckUnavailable(LiveCheckError):
    """The system could not answer now: timeout, connection error, 429/5xx after the allowed retries."""

    def __init__(
        self,
        system: System,
        message: str | Bilingual,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        message_it: str = "",
    ) -> None:
        super().__init__(system, message, status=status, message_it=message_it)
        self.retry_after = retry_after


class LiveCheckFailed(LiveCheckError):
    """The system answered with a refusal or something unexpected: 4xx (401/403 are findings), bad shape."""


class CredentialMissing(LiveCheckError):
    """No credential is configured for the system: the check is skipped, with this reason."""


class CallCounter(Protocol):
    """Counts API calls per system per day (the paid connector's quota is 10K calls/day)."""

    async def add(self, system: System, calls: int = 1) -> None:
        """Record `calls` calls made to `system` today (a failure to record is logged, never raised)."""

    async def today(self, system: System) -> int:
        """Calls recorded for `system` today."""
        ...


CheckFn = Callable[["CheckContext"], Awaitable[CheckResult]]


class Check(BaseModel):
    """A check's declaration: what it calls, what it needs, which FAQ entries it diagnoses."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    title: str
    title_it: str = ""  # the title in Italian
    systems: tuple[System, ...]
    needs: tuple[str, ...] = ()  # credential names, e.g. ("partner_center",)
    entries: tuple[str, ...] = ()
    area: str | None = None  # prerequisites | configuration | maintenance
    estimated_calls: int = 1
    run: CheckFn


class CheckContext(Protocol):
    """What a running check gets: the clients for the systems it declared, and the inputs it was given."""

    @property
    def clients(self) -> Mapping[System, Any]:
        """Ready clients per system (only systems with credentials)."""

    @property
    def inputs(self) -> Mapping[str, str]:
        """User-provided inputs (e.g. an opportunity id)."""
