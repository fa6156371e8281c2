"""Remediator verifies its change: after a step changed something it re-runs the affected checks (explicit `checks`,
the app's check runner); nothing is re-run when no step succeeded; a failing re-run never hides the
outcome of the change."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from tenant.base import CheckResult, LiveCheckFailed, Status, System
from tenant.remediation import RemediationPlan, RemediationStep, Remediator

PA = System.power_automate


@dataclass
class _Flows:
    """A Power Automate client whose `start` fails for the ids in `refuse`."""

    refuse: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)

    async def start(self, flow_id: str) -> None:
        if flow_id in self.refuse:
            raise LiveCheckFailed(PA, "Power Automate answered 400.")
        self.started.append(flow_id)

    async def list_flows(self) -> list[Any]:
        return []


@dataclass
class _Checks:
    """Re-runs nothing: answers with `results` (or raises `error`) and records the plans it was given."""

    results: list[CheckResult] = field(default_factory=list)
    error: Exception | None = None
    plans: list[RemediationPlan] = field(default_factory=list)

    async def recheck(self, plan: RemediationPlan) -> list[CheckResult]:
        self.plans.append(plan)
        if self.error is not None:
            raise self.error
        return self.results


def _plan(*flow_ids: str) -> RemediationPlan:
    steps = tuple(RemediationStep(kind="start-flow", flow=f"Flow {i}", flow_id=i) for i in flow_ids)
    return RemediationPlan(action="start-flows-in-order", check_id="connector-flows", system=PA, steps=steps)


def _passed(check_id: str = "connector-flows") -> CheckResult:
    return CheckResult(id=check_id, title="t", system=PA, status=Status.passed, summary="All 6 connector flows are on.")


async def test_the_affected_checks_are_rerun_after_the_change() -> None:
    flows, checks = _Flows(), _Checks(results=[_passed(), _passed("flow-activation-order")])
    plan = _plan("f-1", "f-2")
    outcome = await Remediator({PA: flows}, ["admin"], checks=checks).execute(plan)
    assert outcome.ok and flows.started == ["f-1", "f-2"] and checks.plans == [plan]
    assert [r.id for r in outcome.verified] == ["connector-flows", "flow-activation-order"]
    assert outcome.after == {"flows": {}, "verified": {"connector-flows": "pass", "flow-activation-order": "pass"}}


async def test_a_partial_change_is_verified_too_but_nothing_is_rerun_when_nothing_changed() -> None:
    checks = _Checks(results=[_passed()])
    remediator = Remediator({PA: _Flows(refuse={"f-2"})}, ["admin"], checks=checks)
    partly = await remediator.execute(_plan("f-1", "f-2"))
    assert not partly.ok and partly.verified and len(checks.plans) == 1
    nothing = await remediator.execute(_plan("f-2", "f-1"))
    assert not nothing.ok and nothing.verified == () and len(checks.plans) == 1


async def test_without_checks_the_outcome_is_unverified() -> None:
    outcome = await Remediator({PA: _Flows()}, ["admin"]).execute(_plan("f-1"))
    assert outcome.ok and outcome.verified == () and "verified" not in outcome.after


async def test_a_failing_recheck_keeps_the_outcome_of_the_change(caplog: pytest.LogCaptureFixture) -> None:
    checks = _Checks(error=RuntimeError("boom"))
    with caplog.at_level(logging.ERROR, logger="tenant.remediation"):
        outcome = await Remediator({PA: _Flows()}, ["admin"], checks=checks).execute(_plan("f-1"))
    assert outcome.ok and outcome.verified == () and "re-running the checks" in caplog.text
