"""CheckRunner after a change to the tenant: `invalidate()` drops cached results (every tenant and inputs) so the
next run reads again, and `affected()` picks the checks a fix may have changed from the declarations and the cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tenant.base import Check, CheckContext, CheckResult, Fix, Status, System
from tenant.checks.catalog import all_checks
from tenant.runner import CheckRunner

PC, PA, DV = System.partner_center, System.power_automate, System.dataverse


class Counted:
    """A check body returning `status` (with `fix`), counting its calls."""

    def __init__(self, check_id: str, system: System, status: Status = Status.passed, fix: Fix | None = None) -> None:
        self.check_id, self.system, self.status, self.fix = check_id, system, status, fix
        self.calls = 0

    async def __call__(self, ctx: CheckContext) -> CheckResult:
        self.calls += 1
        return CheckResult(
            id=self.check_id, title=self.check_id, system=self.system, status=self.status, summary="s", fix=self.fix
        )


def _check(body: Counted, systems: Sequence[System], **fields: Any) -> Check:
    return Check(id=body.check_id, title=body.check_id, systems=tuple(systems), run=body, **fields)


def _runner(checks: Sequence[Check]) -> CheckRunner:
    clients = {PC: "pc", PA: "pa", DV: "dv"}
    return CheckRunner(checks, clients=clients, credentials={"partner_center", "power_automate"}, counter=None)


async def test_invalidate_drops_only_those_ids_for_every_tenant_and_inputs() -> None:
    a, b = Counted("a", PC), Counted("b", PC)
    run = _runner([_check(a, (PC,)), _check(b, (PC,))])
    await run.run()
    await run.run(tenant="fabrikam", inputs={"days": "14"})
    assert (a.calls, b.calls) == (2, 2)
    assert (await run.run()).cached == ["a", "b"]

    assert run.invalidate(["a", "unknown"]) == 2  # both scopes of "a"
    again = await run.run()
    assert again.cached == ["b"] and (a.calls, b.calls) == (3, 2)
    assert (await run.run()).cached == ["a", "b"]  # the cache now holds the re-run's result
    await run.run(tenant="fabrikam", inputs={"days": "14"})
    assert a.calls == 4  # the other scope was dropped too
    assert run.invalidate([]) == 0 and run.invalidate(["a", "b"]) == 4


def test_affected_by_the_real_flow_fixes_comes_from_the_declarations() -> None:
    run = _runner(all_checks())
    flows_on = ("cfg-flows-wont-turn-on",)
    # same source (PA, DV) + same FAQ entry on the finding's system; not connection-references (Dataverse only)
    assert run.affected("connector-flows", system=PA, entries=flows_on, action="start-flows-in-order") == [
        "connector-flows",
        "flow-activation-order",
        "webhook-registration",
    ]
    order = ("cfg-activate-pc-to-crm",)
    assert run.affected("flow-activation-order", system=PA, entries=order, action="start-flows-in-order") == [
        "connector-flows",
        "flow-activation-order",
    ]
    assert run.affected("webhook-registration", system=PC, entries=flows_on, action="register-webhook") == [
        "webhook-registration"
    ]
    runs = ("cfg-workflow-trigger-not-found", "run-access-denied")  # shared with checks on other systems only
    assert run.affected("failed-runs", system=PA, entries=runs, action="resubmit-failed-runs") == ["failed-runs"]


def test_affected_without_a_system_uses_the_declared_ones() -> None:
    run = _runner(all_checks())
    assert run.affected("webhook-registration", entries=("cfg-flows-wont-turn-on",)) == [
        "connector-flows",
        "webhook-registration",
    ]


async def test_affected_includes_checks_whose_cached_result_offers_the_same_fix() -> None:
    fix = Fix(action="restart-it")
    origin = Counted("origin", PA, Status.fail, fix)
    other = Counted("other", PA, Status.fail, fix)  # another entry: related only by the fix it offers
    passing = Counted("passing", PA)
    elsewhere = Counted("elsewhere", PC, Status.fail, fix)  # same fix, but it doesn't call the changed system
    run = _runner(
        [
            _check(origin, (PA,), entries=("e1",)),
            _check(other, (PA, PC), entries=("e2",)),
            _check(passing, (PA, PC), entries=("e3",)),
            _check(elsewhere, (PC,), entries=("e4",)),
        ]
    )
    assert run.affected("origin", system=PA, entries=("e1",), action="restart-it") == ["origin"]  # nothing cached
    await run.run()
    assert run.affected("origin", system=PA, entries=("e1",), action="restart-it") == ["origin", "other"]
    run.invalidate(["other"])
    assert run.affected("origin", system=PA, entries=("e1",), action="restart-it") == ["origin"]
