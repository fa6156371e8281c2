"""In-memory implementations of the dialogs' ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from knowledge.models import Area, Lang


@dataclass
class FakeJournal:
    """Records what the dialogs journal, in lists."""

    feedback: list[tuple[str, str, bool, Lang]] = field(default_factory=list)
    checklists: list[tuple[str, Area, dict[str, str]]] = field(default_factory=list)
    remediations: list[dict[str, Any]] = field(default_factory=list)

    async def record_feedback(self, conversation_id: str, entry_id: str, helpful: bool, lang: Lang) -> None:
        self.feedback.append((conversation_id, entry_id, helpful, lang))

    async def record_checklist(self, conversation_id: str, area: Area, results: dict[str, Any]) -> None:
        self.checklists.append((conversation_id, area, dict(results)))

    async def record_remediation(
        self,
        conversation_id: str,
        user_id: str,
        action: str,
        *,
        before: dict[str, Any],
        after: dict[str, Any],
        result: str,
        detail: str | None = None,
    ) -> None:
        self.remediations.append(
            {
                "conversation_id": conversation_id,
                "user_id": user_id,
                "action": action,
                "before": before,
                "after": after,
                "result": result,
                "detail": detail,
            }
        )

    async def feedback_for(self, conversation_id: str) -> list[dict[str, Any]]:
        votes = [vote for vote in self.feedback if vote[0] == conversation_id]
        return [{"at": None, "entry_id": e, "helpful": h, "lang": lg} for _, e, h, lg in votes]

    async def remediations_for(self, conversation_id: str) -> list[dict[str, Any]]:
        return [dict(r, at=None) for r in self.remediations if r["conversation_id"] == conversation_id]


@dataclass
class FakeLiveFindings:
    """Live checks with canned results: `results` per check id; `by_entry` maps FAQ entries to check ids."""

    results: dict[str, Any]
    by_entry: dict[str, list[str]]
    configured: bool = True
    sweeps: list[dict[str, Any]] = field(default_factory=list)

    def ids_for(self, entry_id: str) -> list[str]:
        return list(self.by_entry.get(entry_id, ()))

    async def sweep(self, *, area: str | None = None, ids: list[str] | None = None, inputs: Any = None) -> Any:
        from tenant.runner import Sweep

        self.sweeps.append({"area": area, "ids": ids})
        chosen = [r for i, r in self.results.items() if (ids is None or i in ids)]
        if area is not None:
            chosen = [r for r in chosen if r.evidence.get("area") == area]
        return Sweep(results=chosen, elapsed_ms=1.0, api_calls=len(chosen))


@dataclass
class FakeRemediation:
    """A remediation port with a canned plan: `admins` may remediate; `fail_at` makes that step (0-based) fail."""

    admins: frozenset[str] = frozenset()
    fail_at: int | None = None
    planned: list[str] = field(default_factory=list)
    executed: list[Any] = field(default_factory=list)

    def allowed(self, *user_ids: str | None) -> bool:
        return any(uid in self.admins for uid in user_ids if uid)

    async def plan(self, action: str, finding: Any) -> Any:
        from tenant.remediation import RemediationPlan, RemediationStep

        self.planned.append(action)
        steps = (
            RemediationStep(kind="start-flow", flow="Partner Center to CRM - Helper", flow_id="f-3"),
            RemediationStep(kind="start-flow", flow="Partner Center to Dynamics 365", flow_id="f-2"),
        )
        before = {"flows": {s.flow: "Stopped" for s in steps}}
        return RemediationPlan(action=action, check_id=finding.id, entries=finding.entries, steps=steps, before=before)

    async def execute(self, plan: Any) -> Any:
        from tenant.remediation import RemediationOutcome, StepResult

        self.executed.append(plan)
        results = []
        for n, step in enumerate(plan.steps):
            if n == self.fail_at:
                results.append(StepResult(step=step, ok=False, detail="Power Automate answered 400."))
                break
            results.append(StepResult(step=step, ok=True))
        after = {"flows": {r.step.flow: "Started" if r.ok else "Stopped" for r in results}}
        return RemediationOutcome(
            action=plan.action, results=tuple(results), not_run=len(plan.steps) - len(results), after=after
        )


def offline(routes: dict[tuple[str, str], Any], host: str) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering each (method, path) on `host` with its responses in turn; any other call — another
    path, another host, or one response too many — fails the test (the fail-on-network idea)."""
    queues = {key: list(replies) for key, replies in routes.items()}
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        key = (request.method, request.url.path)
        if request.url.host != host or not queues.get(key):
            pytest.fail(f"unexpected outbound call: {request.url.host} {key}")
        return queues[key].pop(0)

    return httpx.MockTransport(handler), seen


def assert_bilingual(result: Any) -> None:
    """A live-check result (`CheckResult`) carries its title and summary in Italian too; what a check found
    (pass, warn, fail) is really translated, so the Italian differs from the English."""
    assert result.title_it and result.summary_it, f"{result.id} ({result.status}): no Italian for {result.summary!r}"
    if result.status.value in ("pass", "warn", "fail"):
        assert result.title_it != result.title, f"{result.id}: title not translated: {result.title!r}"
        assert result.summary_it != result.summary, f"{result.id}: summary not translated: {result.summary!r}"
