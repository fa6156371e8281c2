"""What a dialog asks to show, language-neutral, besides its prompts (`assistant.case.PromptSpec`): the channel's
renderer turns each into markdown or an Adaptive Card in the turn's language."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.case import PromptSpec
from tenant.base import CheckResult
from tenant.remediation import RemediationOutcome, RemediationPlan


@dataclass(frozen=True)
class Findings:
    """A sweep's live findings, under the live-checks heading; one honest line when nothing could be checked.

    `offers`: the remediation actions this user is offered as a "Fix it for me" button beside their finding (the
    dialog decides who may fix; none by default)."""

    results: tuple[CheckResult, ...]
    offers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FixReport:
    """What a confirmed fix did, step by step, and the affected checks as re-run right after it."""

    outcome: RemediationOutcome
    plan: RemediationPlan


#: everything a dialog shows through the channel's renderer
View = PromptSpec | Findings | FixReport
