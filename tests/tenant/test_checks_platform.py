"""The platform prerequisite checks (Dataverse present, storage, Power Automate licence) through CheckRunner with
plain fake clients returning the clients' own models."""

from __future__ import annotations

from typing import Any

from tenant.base import CheckResult, LiveCheckFailed, Status, System
from tenant.checks.catalog import all_checks
from tenant.clients.power_platform import Environment, TenantCapacity
from tenant.runner import CheckRunner
from tests.fakes import assert_bilingual

PP, GRAPH = System.power_platform, System.graph
ENV = "Default-72f988bf"


def _environment(name: str = ENV, *, dataverse: bool = True) -> Environment:
    props: dict[str, Any] = {"displayName": f"Env {name}", "environmentSku": "Production"}
    if dataverse:
        props["databaseType"] = "CommonDataService"
        props["linkedEnvironmentMetadata"] = {"instanceUrl": "https://org.crm4.dynamics.com/", "instanceState": "Ready"}
    return Environment.model_validate({"name": name, "properties": props})


def _capacity(total: float | None, actual: float | None, kind: str = "Database") -> TenantCapacity:
    return TenantCapacity.model_validate(
        {"capacityType": kind, "capacityUnits": "MB", "totalCapacity": total, "consumption": {"actual": actual}}
    )


class FakePowerPlatform:
    def __init__(
        self,
        *,
        environment_id: str = ENV,
        environments: list[Environment] | None = None,
        capacity: list[TenantCapacity] | None = None,
        error: Exception | None = None,
    ) -> None:
        self.environment_id = environment_id
        self.environments = environments if environments is not None else [_environment()]
        self.capacity = capacity if capacity is not None else [_capacity(10240, 2048)]
        self.error = error
        self.asked: list[str] = []

    async def list_environments(self) -> list[Environment]:
        return self.environments

    async def get_environment(self, environment_id: str) -> Environment:
        self.asked.append(environment_id)
        if self.error is not None:
            raise self.error
        return next(e for e in self.environments if e.name == environment_id)

    async def tenant_capacity(self) -> list[TenantCapacity]:
        return self.capacity


class FakeGraph:
    def __init__(self, plans: list[str]) -> None:
        self.plans = plans
        self.users: list[str | None] = []

    async def service_plan_names(self, user_id: str | None = None) -> list[str]:
        self.users.append(user_id)
        return sorted(self.plans)


async def run_check(check_id: str, inputs: dict[str, str] | None = None, **clients: Any) -> CheckResult:
    systems = {PP: clients.get("pp"), GRAPH: clients.get("graph")}
    present = {system: c for system, c in systems.items() if c is not None}
    runner = CheckRunner(all_checks(), clients=present, credentials={s.value for s in present}, counter=None)
    sweep = await runner.run(ids=[check_id], inputs=inputs)
    assert [r.id for r in sweep.results] == [check_id]
    assert_bilingual(sweep.results[0])  # every result a check can give, in Italian too
    return sweep.results[0]


def test_platform_checks_are_prerequisites() -> None:
    checks = {c.id: c for c in all_checks()}
    assert checks["dataverse-present"].entries == ("pre-power-automate", "pre-d365-for-salesforce")
    assert checks["storage-capacity"].entries == ("pre-power-automate",)
    assert checks["power-automate-license"].needs == ("graph",)
    assert {checks[i].area for i in ("dataverse-present", "storage-capacity", "power-automate-license")} == {
        "prerequisites"
    }


# --- dataverse-present --------------------------------------------------------------------------------------------


async def test_dataverse_present_passes_with_a_linked_instance() -> None:
    pp = FakePowerPlatform()
    result = await run_check("dataverse-present", pp=pp)
    assert result.status is Status.passed and result.evidence["dataverse"] is True
    assert pp.asked == [ENV]


async def test_dataverse_missing_fails_pointing_at_a_new_environment() -> None:
    pp = FakePowerPlatform(environments=[_environment(dataverse=False)])
    result = await run_check("dataverse-present", pp=pp)
    assert result.status is Status.fail
    assert result.entries == ("pre-power-automate", "pre-d365-for-salesforce")
    assert result.fix is not None and result.fix.entry == "pre-d365-for-salesforce"


async def test_dataverse_present_uses_the_environment_input_first() -> None:
    pp = FakePowerPlatform(environments=[_environment(), _environment("Other-1", dataverse=False)])
    result = await run_check("dataverse-present", {"environment_id": "Other-1"}, pp=pp)
    assert result.status is Status.fail and pp.asked == ["Other-1"]


async def test_unknown_environment_fails_and_other_errors_stay_errors() -> None:
    gone = FakePowerPlatform(error=LiveCheckFailed(PP, "Power Platform admin answered 404.", status=404))
    result = await run_check("dataverse-present", pp=gone)
    assert result.status is Status.fail and result.evidence == {"environment_id": ENV, "found": False}
    denied = FakePowerPlatform(error=LiveCheckFailed(PP, "Power Platform admin answered 403.", status=403))
    result = await run_check("dataverse-present", pp=denied)
    assert result.status is Status.error and "403" in result.summary


async def test_without_an_environment_id_the_environments_are_listed() -> None:
    some = FakePowerPlatform(environment_id="", environments=[_environment(), _environment("E2", dataverse=False)])
    result = await run_check("dataverse-present", pp=some)
    assert result.status is Status.warn and result.evidence["with_dataverse"] == [f"Env {ENV}"]
    none = FakePowerPlatform(environment_id="", environments=[_environment("E2", dataverse=False)])
    assert (await run_check("dataverse-present", pp=none)).status is Status.fail


async def test_platform_checks_skip_without_credentials() -> None:
    for check_id in ("dataverse-present", "storage-capacity", "power-automate-license"):
        result = await run_check(check_id)
        assert result.status is Status.skipped


# --- storage-capacity ---------------------------------------------------------------------------------------------


async def test_storage_passes_with_a_gigabyte_or_more() -> None:
    result = await run_check("storage-capacity", pp=FakePowerPlatform(capacity=[_capacity(10240, 9216)]))
    assert result.status is Status.passed and result.evidence["available_mb"] == 1024
    assert result.fix is None


async def test_storage_under_a_gigabyte_fails() -> None:
    pp = FakePowerPlatform(capacity=[_capacity(20480, 1, "File"), _capacity(10240, 9600)])
    result = await run_check("storage-capacity", pp=pp)
    assert result.status is Status.fail and result.entries == ("pre-power-automate",)
    assert result.evidence["available_mb"] == 640 and "640 MB" in result.summary
    over = await run_check("storage-capacity", pp=FakePowerPlatform(capacity=[_capacity(10240, 12000)]))
    assert over.status is Status.fail and "Only 0 MB" in over.summary


async def test_storage_not_reported_warns() -> None:
    for capacity in ([], [_capacity(None, 10)], [_capacity(100, 1, "File")]):
        result = await run_check("storage-capacity", pp=FakePowerPlatform(capacity=capacity))
        assert result.status is Status.warn


# --- power-automate-license ---------------------------------------------------------------------------------------


async def test_license_passes_listing_the_flow_plans() -> None:
    graph = FakeGraph(["EXCHANGE_S_ENTERPRISE", "FLOW_O365_P2", "FLOW_PER_USER"])
    result = await run_check("power-automate-license", graph=graph)
    assert result.status is Status.passed
    assert result.evidence["flow_plans"] == ["FLOW_O365_P2", "FLOW_PER_USER"] and result.evidence["user"] == "me"
    assert graph.users == [None]


async def test_license_missing_fails_and_standard_only_warns() -> None:
    none = await run_check("power-automate-license", graph=FakeGraph(["EXCHANGE_S_ENTERPRISE"]))
    assert none.status is Status.fail and none.entries == ("pre-power-automate",)
    assert none.fix is not None and none.fix.entry == "pre-power-automate"
    seeded = await run_check("power-automate-license", graph=FakeGraph(["FLOW_O365_P3", "FLOW_FREE"]))
    assert seeded.status is Status.warn and "premium" in seeded.summary


async def test_license_of_a_given_user() -> None:
    graph = FakeGraph(["FLOW_DYN_APPS"])
    result = await run_check("power-automate-license", {"user_id": "u-42"}, graph=graph)
    assert result.status is Status.passed and graph.users == ["u-42"] and result.evidence["user"] == "u-42"
