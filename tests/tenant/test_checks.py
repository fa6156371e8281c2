"""The live checks end to end through CheckRunner, with plain fake clients returning the clients' own models."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from tenant.base import CheckResult, Fix, LiveCheckFailed, LiveCheckUnavailable, Status, System
from tenant.checks.catalog import all_checks, entry_for_code, suggest_country_code
from tenant.clients.dataverse import ConnectionReference, Currency, SystemUser, WhoAmI, Workflow
from tenant.clients.flows import Flow, FlowRun
from tenant.clients.partner_center import REQUIRED_EVENTS, Referral, WebhookRegistration
from tenant.runner import CheckRunner
from tests.fakes import assert_bilingual

PC, PA, DV = System.partner_center, System.power_automate, System.dataverse
USER_ID = "5d3c1a2b-7e8f-4a90-b1c2-d3e4f5a6b7c8"
SIGNED = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
URL = f"{SIGNED}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s3cr3t-signature"

SF_FLOWS = (
    "Partner Center Webhook Registration (Insider Preview)",
    "Create Co-sell Referral - Salesforce to Partner Center (Insider Preview)",
    "Partner Center Microsoft Co-sell Referral Updates to Salesforce (Insider Preview)",
    "Partner Center to Salesforce (Insider Preview)",
    "Salesforce to Partner Center (Insider Preview)",
    "Salesforce Opportunity to Partner Center (Insider Preview)",
    "Salesforce Microsoft Solutions to Partner Center (Insider Preview)",
)
HELPER = "Partner Center to CRM - Helper (Insider Preview)"
UPDATES = "Partner Center Microsoft Co-sell Referral Updates to CRM (Insider Preview)"
PARENT = "Partner Center to CRM (Insider Preview)"


def flow(name: str, state: str = "Started", flow_id: str | None = None) -> Flow:
    return Flow.model_validate(
        {
            "name": flow_id or f"id-{abs(hash(name)) % 10**8}",
            "id": "/providers/Microsoft.ProcessSimple/environments/Default-1/flows/x",
            "properties": {
                "displayName": name,
                "state": state,
                "definition": {"triggers": {"manual": {"type": "Request", "kind": "Http"}}},
                "connectionReferences": {},
            },
        }
    )


def failed_run(run_id: str, code: str | None) -> FlowRun:
    props: dict[str, Any] = {
        "status": "Failed",
        "startTime": "2024-05-02T09:00:00Z",
        "trigger": {"name": "manual"},
    }
    if code is not None:
        props["error"] = {"code": code, "message": "details"}
    return FlowRun.model_validate({"name": run_id, "properties": props})


REFERRAL: dict[str, Any] = {
    "id": "c5fb8a1d-0001",
    "engagementId": "65ed-0001",
    "externalReferenceId": "7a1b2c3d-crm",
    "status": "Active",
    "substatus": "Accepted",
    "customerProfile": {
        "name": "Fabrikam",
        "address": {"city": "Milano", "postalCode": "20121", "country": "IT"},
        "team": [{"firstName": "Anna", "lastName": "Rossi", "email": "anna@fabrikam.example"}],
    },
    "consent": {"consentToShareReferralWithMicrosoftSellers": True},
    "details": {
        "dealValue": 10000,
        "currency": "EUR",
        "closingDateTime": "2024-12-01T00:00:00Z",
        "requirements": {"solutions": [{"id": "SOL-15974-MQF", "name": "Contoso Cloud", "solutionType": "3P"}]},
    },
}


class FakePartnerCenter:
    def __init__(
        self,
        *,
        access: bool = True,
        registration: dict[str, Any] | None = None,
        referral: dict[str, Any] | None = None,
        error: Exception | None = None,
    ) -> None:
        self.access = access
        self.registration = registration
        self.referral = referral or REFERRAL
        self.error = error
        self.asked: list[str] = []

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    async def probe_referrals_access(self) -> bool:
        self._raise()
        return self.access

    async def get_webhook_registration(self) -> WebhookRegistration | None:
        self._raise()
        return None if self.registration is None else WebhookRegistration.model_validate(self.registration)

    async def get_referral(self, referral_id: str) -> Referral:
        self._raise()
        self.asked.append(referral_id)
        return Referral.model_validate(self.referral)


class FakeFlows:
    def __init__(
        self,
        flows: list[Flow] | None = None,
        *,
        callback: str | None = URL,
        runs: dict[str, list[FlowRun]] | None = None,
        error: Exception | None = None,
    ) -> None:
        self.flows = flows if flows is not None else [flow(name) for name in SF_FLOWS]
        self.callback = callback
        self.runs = runs or {}
        self.error = error
        self.since: list[datetime | None] = []

    async def list_flows(self) -> list[Flow]:
        if self.error is not None:
            raise self.error
        return self.flows

    async def callback_url(self, flow_id: str, trigger: str = "manual") -> str:
        if self.callback is None:
            raise LiveCheckFailed(PA, "Power Automate returned no callback URL for the trigger.")
        return self.callback

    async def failed_runs(self, flow_id: str, since: datetime | None = None, top: int = 50) -> list[FlowRun]:
        self.since.append(since)
        return self.runs.get(flow_id, [])


class FakeDataverse:
    def __init__(
        self,
        *,
        roles: list[str] | None = None,
        currencies: list[dict[str, Any]] | None = None,
        users: int = 5,
        workflows: list[dict[str, Any]] | None = None,
        references: list[dict[str, Any]] | None = None,
        error: Exception | None = None,
    ) -> None:
        self.roles = roles if roles is not None else ["System Administrator", "Basic User"]
        self.currencies = currencies if currencies is not None else [_currency("EUR", 0), _currency("USD", 0)]
        self.users = users
        self.workflows = workflows or []
        self.references = references or []
        self.error = error

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    async def who_am_i(self) -> WhoAmI:
        self._raise()
        return WhoAmI.model_validate({"UserId": USER_ID, "BusinessUnitId": "bu-1", "OrganizationId": "org-1"})

    async def user_role_names(self, user_id: str) -> list[str]:
        assert user_id == USER_ID
        return self.roles

    async def base_currency(self) -> Currency:
        self._raise()
        return Currency.model_validate(
            {"transactioncurrencyid": "cur-eur", "isocurrencycode": "EUR", "currencyname": "Euro"}
        )

    async def transaction_currencies(self) -> list[Currency]:
        return [Currency.model_validate(c) for c in self.currencies]

    async def enabled_users(self, top: int = 50) -> list[SystemUser]:
        self._raise()
        return [
            SystemUser.model_validate(
                {"systemuserid": f"u-{i}", "fullname": f"Seller {i}", "internalemailaddress": f"s{i}@contoso.example"}
            )
            for i in range(self.users)
        ]

    async def cloud_flows(self, name_contains: str | None = None) -> list[Workflow]:
        self._raise()
        return [Workflow.model_validate(w) for w in self.workflows]

    async def connection_references(self) -> list[ConnectionReference]:
        self._raise()
        return [ConnectionReference.model_validate(r) for r in self.references]


def _currency(code: str, state: int) -> dict[str, Any]:
    return {
        "transactioncurrencyid": f"cur-{code.lower()}",
        "isocurrencycode": code,
        "currencyname": code,
        "exchangerate": "1.0",
        "statecode": state,
    }


def _workflow(name: str, statecode: int) -> dict[str, Any]:
    return {"workflowid": f"wf-{abs(hash(name)) % 10**8}", "name": name, "statecode": statecode, "statuscode": 1}


def _reference(name: str, connection_id: str | None) -> dict[str, Any]:
    return {
        "connectionreferencelogicalname": f"new_{name.lower().replace(' ', '')}",
        "connectionreferencedisplayname": name,
        "connectorid": "/providers/Microsoft.PowerApps/apis/shared_commondataserviceforapps",
        "connectionid": connection_id,
        "statecode": 0,
    }


async def run_check(check_id: str, inputs: dict[str, str] | None = None, **clients: Any) -> CheckResult:
    systems = {PC: clients.get("pc"), PA: clients.get("flows"), DV: clients.get("dv")}
    present = {system: c for system, c in systems.items() if c is not None}
    runner = CheckRunner(all_checks(), clients=present, credentials={s.value for s in present}, counter=None)
    sweep = await runner.run(ids=[check_id], inputs=inputs)
    assert [r.id for r in sweep.results] == [check_id]
    assert_bilingual(sweep.results[0])  # every result a check can give, in Italian too
    return sweep.results[0]


# --- declarations -------------------------------------------------------------------------------------------------


def test_checks_are_declared_with_stable_ids_areas_and_needs() -> None:
    checks = {c.id: c for c in all_checks()}
    assert list(checks) == [
        "dataverse-present",
        "storage-capacity",
        "power-automate-license",
        "pc-referrals-role",
        "crm-roles",
        "crm-currency",
        "crm-sales-users",
        "sf-customize-application",
        "sf-currency",
        "api-quota-forecast",
        "connector-flows",
        "flow-activation-order",
        "connection-references",
        "webhook-registration",
        "failed-runs",
        "sf-api-quota",
        "referral-sync",
        "crm-opportunity-sync",
    ]
    for check in checks.values():
        assert check.area in {"prerequisites", "configuration", "maintenance"}
        assert set(check.needs) <= {s.value for s in check.systems}
        assert check.estimated_calls >= 1 and check.entries
    assert checks["webhook-registration"].needs == ("partner_center", "power_automate")


# --- pc-referrals-role ------------------------------------------------------------------------------------------


async def test_pc_role_passes_when_referrals_are_readable() -> None:
    result = await run_check("pc-referrals-role", pc=FakePartnerCenter())
    assert result.status is Status.passed and result.fix is None


async def test_pc_role_fails_without_referrals_admin() -> None:
    result = await run_check("pc-referrals-role", pc=FakePartnerCenter(access=False))
    assert result.status is Status.fail
    assert "Referrals admin role" in result.summary
    assert result.entries == ("pre-pc-role", "run-access-denied")
    assert result.fix == Fix(entry="pre-pc-role")


async def test_unavailable_client_is_an_error_with_the_plain_message() -> None:
    down = LiveCheckUnavailable(PC, "Partner Center did not answer in time.")
    result = await run_check("pc-referrals-role", pc=FakePartnerCenter(error=down))
    assert result.status is Status.error
    assert result.summary == "Partner Center did not answer in time."


async def test_missing_credential_skips() -> None:
    result = await run_check("pc-referrals-role", dv=FakeDataverse())
    assert result.status is Status.skipped


# --- crm-roles, crm-currency, crm-sales-users -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["System Administrator", "system customizer"])
async def test_crm_roles_pass_with_an_admin_role(role: str) -> None:
    result = await run_check("crm-roles", dv=FakeDataverse(roles=["Salesperson", role]))
    assert result.status is Status.passed
    assert result.evidence["user_id"] == USER_ID


async def test_crm_roles_fail_listing_the_roles_found() -> None:
    result = await run_check("crm-roles", dv=FakeDataverse(roles=["Salesperson", "Basic User"]))
    assert result.status is Status.fail
    assert "Basic User, Salesperson" in result.summary
    assert result.evidence["roles"] == ["Basic User", "Salesperson"]
    assert result.entries == ("pre-crm-role", "run-access-denied")
    assert result.fix is not None and result.fix.entry == "pre-crm-role"


async def test_crm_currency_passes_with_base_and_count() -> None:
    currencies = [_currency("EUR", 0), _currency("USD", 0), _currency("GBP", 1)]
    result = await run_check("crm-currency", dv=FakeDataverse(currencies=currencies))
    assert result.status is Status.passed
    assert result.evidence == {"base_currency": "EUR", "active_currencies": 2, "codes": ["EUR", "USD"]}


async def test_crm_currency_fails_without_an_active_currency() -> None:
    result = await run_check("crm-currency", dv=FakeDataverse(currencies=[_currency("EUR", 1)]))
    assert result.status is Status.fail
    assert result.entries == ("pre-crm-fields",)


async def test_crm_sales_users_pass_and_warn() -> None:
    assert (await run_check("crm-sales-users", dv=FakeDataverse(users=4))).status is Status.passed
    lonely = await run_check("crm-sales-users", dv=FakeDataverse(users=1))
    assert lonely.status is Status.warn
    assert lonely.evidence == {"enabled_users": 1, "user": "Seller 0"}
    assert lonely.entries == ("pre-crm-fields",)


async def test_dataverse_refusal_is_an_error() -> None:
    refused = LiveCheckFailed(DV, "Dataverse refused the request (403).", status=403)
    result = await run_check("crm-sales-users", dv=FakeDataverse(error=refused))
    assert result.status is Status.error and result.summary == "Dataverse refused the request (403)."


# --- connector-flows and flow-activation-order ------------------------------------------------------------------


async def test_connector_flows_pass_when_all_on() -> None:
    result = await run_check("connector-flows", flows=FakeFlows())
    assert result.status is Status.passed
    assert result.evidence["found"] == list(SF_FLOWS)
    assert result.evidence["source"] == "power_automate"


async def test_connector_flows_fail_when_none_found() -> None:
    result = await run_check("connector-flows", flows=FakeFlows([flow("My approval flow")]))
    assert result.status is Status.fail
    assert result.entries == ("cfg-flows-wont-turn-on",)


async def test_connector_flows_fail_listing_off_flows_in_start_order() -> None:
    flows = [
        flow(n, "Stopped" if "to Partner Center" in n or "Partner Center to" in n else "Started") for n in SF_FLOWS
    ]
    result = await run_check("connector-flows", flows=FakeFlows(flows))
    assert result.status is Status.fail
    assert "Partner Center to Salesforce (Insider Preview)" in result.summary
    order = result.evidence["start_order"]
    assert order[0] == "Salesforce to Partner Center (Insider Preview)"
    assert order[-1] == "Partner Center to Salesforce (Insider Preview)"
    assert result.fix == Fix(entry="cfg-flows-wont-turn-on", action="start-flows-in-order")


async def test_connector_flows_match_names_case_insensitively_without_insider_preview() -> None:
    result = await run_check("connector-flows", flows=FakeFlows([flow("partner center to DYNAMICS 365", "Suspended")]))
    assert result.status is Status.fail
    assert result.evidence["off"] == {"partner center to DYNAMICS 365": "Suspended"}


async def test_connector_flows_read_dataverse_when_only_dataverse_is_there() -> None:
    workflows = [_workflow(HELPER, 1), _workflow(UPDATES, 0), _workflow(PARENT, 0)]
    result = await run_check("connector-flows", dv=FakeDataverse(workflows=workflows))
    assert result.status is Status.fail
    assert result.evidence["source"] == "dataverse"
    assert result.evidence["off"] == {UPDATES: "Draft", PARENT: "Draft"}


async def test_connector_flows_fall_back_to_dataverse_when_the_flow_api_refuses() -> None:
    broken = FakeFlows(error=LiveCheckFailed(PA, "Power Automate returned an unexpected answer."))
    dv = FakeDataverse(workflows=[_workflow(HELPER, 1)])
    result = await run_check("connector-flows", flows=broken, dv=dv)
    assert result.status is Status.passed and result.evidence["source"] == "dataverse"


async def test_connector_flows_skip_without_either_client() -> None:
    result = await run_check("connector-flows", pc=FakePartnerCenter())
    assert result.status is Status.skipped


async def test_activation_order_fails_when_parent_and_children_are_off() -> None:
    flows = [flow(PARENT, "Stopped"), flow(HELPER, "Stopped"), flow(UPDATES, "Started")]
    result = await run_check("flow-activation-order", flows=FakeFlows(flows))
    assert result.status is Status.fail
    assert result.evidence["start_order"] == [HELPER, PARENT]
    assert result.entries == ("cfg-activate-pc-to-crm",)
    assert result.fix == Fix(entry="cfg-activate-pc-to-crm", action="start-flows-in-order")


async def test_activation_order_fails_when_parent_is_on_with_a_child_off() -> None:
    flows = [flow(PARENT), flow(HELPER, "Stopped"), flow(UPDATES, "Stopped")]
    result = await run_check("flow-activation-order", flows=FakeFlows(flows))
    assert result.status is Status.fail
    assert result.evidence["start_order"] == [HELPER, UPDATES]
    assert result.evidence["parents"] == {PARENT: "on"}


async def test_activation_order_passes_when_children_are_on() -> None:
    flows = [flow(PARENT, "Stopped"), flow(HELPER), flow(UPDATES)]
    result = await run_check("flow-activation-order", flows=FakeFlows(flows))
    assert result.status is Status.passed
    assert PARENT in result.summary


# --- connection-references --------------------------------------------------------------------------------------


async def test_connection_references_pass_when_bound() -> None:
    refs = [_reference("Partner Center Referrals", "conn-1"), _reference("Dataverse", "conn-2")]
    result = await run_check("connection-references", dv=FakeDataverse(references=refs))
    assert result.status is Status.passed and result.evidence["unbound"] == []


async def test_connection_references_fail_listing_unbound() -> None:
    refs = [_reference("Partner Center Referrals", None), _reference("Dataverse", "conn-2"), _reference("Events", "")]
    result = await run_check("connection-references", dv=FakeDataverse(references=refs))
    assert result.status is Status.fail
    assert result.evidence["unbound"] == ["Events", "Partner Center Referrals"]
    assert result.entries == ("cfg-add-connections", "cfg-flows-wont-turn-on", "cfg-signin-error")
    assert result.fix == Fix(entry="cfg-add-connections")


# --- webhook-registration ---------------------------------------------------------------------------------------


def _registration(url: str = URL, events: tuple[str, ...] = REQUIRED_EVENTS) -> dict[str, Any]:
    return {"SubscriberId": "sub-1", "WebhookUrl": url, "WebhookEvents": list(events)}


async def test_webhook_passes_when_events_and_url_match() -> None:
    reordered = f"{SIGNED}?sig=s3cr3t-signature&sv=1.0&api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun"
    result = await run_check(
        "webhook-registration", pc=FakePartnerCenter(registration=_registration(reordered)), flows=FakeFlows()
    )
    assert result.status is Status.passed
    assert result.evidence["url"] == "matches"
    assert result.evidence["flow"] == "Partner Center to Salesforce (Insider Preview)"


async def test_webhook_fails_when_not_registered() -> None:
    result = await run_check("webhook-registration", pc=FakePartnerCenter(), flows=FakeFlows())
    assert result.status is Status.fail
    assert "not registered" in result.summary
    assert result.fix == Fix(entry="cfg-flows-wont-turn-on", action="register-webhook")


async def test_webhook_fails_listing_missing_events() -> None:
    registration = _registration(events=("referral-created", "referral-updated"))
    result = await run_check("webhook-registration", pc=FakePartnerCenter(registration=registration), flows=FakeFlows())
    assert result.status is Status.fail
    assert "related-referral-created, related-referral-updated" in result.summary
    assert result.evidence["missing_events"] == ["related-referral-created", "related-referral-updated"]


async def test_webhook_fails_when_url_differs_and_shows_hosts_only() -> None:
    old = "https://prod-07.northeurope.logic.azure.com/workflows/old/triggers/manual/paths/invoke?sig=0ld-s1g"
    result = await run_check(
        "webhook-registration", pc=FakePartnerCenter(registration=_registration(old)), flows=FakeFlows()
    )
    assert result.status is Status.fail
    assert result.summary == (
        "The webhook is registered at prod-07.northeurope.logic.azure.com but the flow's current HTTP trigger is at "
        "prod-12.westeurope.logic.azure.com."
    )
    assert "prod-07.northeurope.logic.azure.com" in result.summary_it and "prod-12" in result.summary_it
    assert result.evidence["url"] == "differs"
    assert result.evidence["registered_host"] == "prod-07.northeurope.logic.azure.com"
    assert result.evidence["flow_host"] == "prod-12.westeurope.logic.azure.com"
    dumped = result.model_dump_json()
    assert "sig" not in dumped and "s3cr3t" not in dumped and "0ld-s1g" not in dumped


async def test_webhook_warns_when_url_cannot_be_compared() -> None:
    result = await run_check(
        "webhook-registration", pc=FakePartnerCenter(registration=_registration()), flows=FakeFlows(callback=None)
    )
    assert result.status is Status.warn and result.evidence["url"] == "not compared"


# --- failed-runs ------------------------------------------------------------------------------------------------


async def test_failed_runs_pass_when_none() -> None:
    fake = FakeFlows()
    result = await run_check("failed-runs", flows=fake)
    assert result.status is Status.passed
    assert result.evidence["days"] == 7 and result.evidence["failed"] == 0
    assert len(fake.since) == len(SF_FLOWS)


async def test_failed_runs_group_codes_and_map_entries() -> None:
    parent = flow("Partner Center to Salesforce (Insider Preview)", flow_id="f-parent")
    helper = flow("Salesforce to Partner Center (Insider Preview)", flow_id="f-sf")
    runs = {
        "f-parent": [failed_run("r1", "WorkflowTriggerNotFound"), failed_run("r2", "WorkflowTriggerNotFound")],
        "f-sf": [failed_run("r3", "Unauthorized"), failed_run("r4", "ConnectionAuthorizationFailed")],
    }
    result = await run_check("failed-runs", {"days": "3"}, flows=FakeFlows([parent, helper], runs=runs))
    assert result.status is Status.fail
    assert result.evidence["by_code"] == {
        "WorkflowTriggerNotFound": 2,
        "Unauthorized": 1,
        "ConnectionAuthorizationFailed": 1,
    }
    assert result.evidence["by_flow"] == {parent.display_name: 2, helper.display_name: 2}
    assert result.evidence["days"] == 3
    assert result.entries == ("cfg-workflow-trigger-not-found", "run-access-denied", "run-disconnected")
    assert result.fix is not None and result.fix.action == "resubmit-failed-runs"
    assert result.fix.entry == "cfg-workflow-trigger-not-found"
    assert {"flow_id": "f-sf", "run_id": "r3"}.items() <= result.evidence["runs"][2].items()


async def test_failed_runs_unknown_codes_map_to_flow_failures() -> None:
    runs = {"f": [failed_run("r1", "ActionFailed"), failed_run("r2", None)]}
    fake = FakeFlows([flow("Partner Center to Dynamics 365 (Insider Preview)", flow_id="f")], runs=runs)
    result = await run_check("failed-runs", flows=fake)
    assert result.entries == ("run-flow-failures",)
    assert result.evidence["by_code"] == {"ActionFailed": 1, "Unknown": 1}


@pytest.mark.parametrize(
    ("code", "entry"),
    [
        ("WorkflowTriggerNotFound", "cfg-workflow-trigger-not-found"),
        ("Forbidden", "run-access-denied"),
        ("401", "run-access-denied"),
        ("403", "run-access-denied"),
        ("InvalidConnection", "run-disconnected"),
        ("Unauthenticated", "run-disconnected"),
        ("ActionFailed", "run-flow-failures"),
        (None, "run-flow-failures"),
    ],
)
def test_entry_for_code(code: str | None, entry: str) -> None:
    assert entry_for_code(code) == entry


# --- referral-sync ----------------------------------------------------------------------------------------------


def _referral(**changes: Any) -> dict[str, Any]:
    referral = copy.deepcopy(REFERRAL)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = referral
        for key in parents:
            node = node[key]
        node[leaf] = value
    return referral


async def test_referral_sync_passes_for_a_complete_referral() -> None:
    fake = FakePartnerCenter()
    result = await run_check("referral-sync", {"referral_id": "c5fb8a1d-0001"}, pc=fake)
    assert result.status is Status.passed
    assert fake.asked == ["c5fb8a1d-0001"]
    assert result.evidence["crm_id"] == "7a1b2c3d-crm"


async def test_referral_sync_skips_without_a_referral_id() -> None:
    result = await run_check("referral-sync", pc=FakePartnerCenter())
    assert result.status is Status.skipped
    assert "referral id" in result.summary


@pytest.mark.parametrize(
    ("changes", "fragment", "entry"),
    [
        ({"details__requirements__solutions": []}, "no solution", "run-solution-id"),
        ({"details__requirements__solutions": [{"name": "Contoso Cloud"}]}, "without a Solution ID", "run-solution-id"),
        (
            {"customerProfile__address__country": "Italia"},
            "'Italia' is not a two-letter ISO code (use IT)",
            "run-country-code",
        ),
        ({"customerProfile__address__country": "ITA"}, "'ITA' is not a two-letter ISO code", "run-country-code"),
        ({"customerProfile__address__country": None}, "no country", "run-country-code"),
        ({"customerProfile__team": []}, "no customer contact", "run-not-synced"),
        ({"details__dealValue": None}, "no deal value", "run-bidirectional"),
        ({"details__closingDateTime": None}, "no closing date", "run-bidirectional"),
        ({"externalReferenceId": ""}, "no CRM ID", "run-pc-not-synced-to-crm"),
        ({"status": "Closed", "substatus": "Won"}, "closed as Won", "run-pc-not-synced-to-crm"),
        ({"status": "Closed", "substatus": "Lost"}, "closed as Lost", "run-pc-not-synced-to-crm"),
    ],
)
async def test_referral_sync_reports_each_problem(changes: dict[str, Any], fragment: str, entry: str) -> None:
    fake = FakePartnerCenter(referral=_referral(**changes))
    result = await run_check("referral-sync", {"referral_id": "c5fb8a1d-0001"}, pc=fake)
    assert result.status is Status.fail
    assert fragment in result.summary
    assert result.entries == (entry,)
    assert result.evidence["problems"] == [{"problem": result.evidence["problems"][0]["problem"], "entry": entry}]
    assert result.fix == Fix(entry=entry)


async def test_referral_sync_contact_needed_only_when_microsoft_help_is_requested() -> None:
    private = _referral(customerProfile__team=[], consent={"consentToShareReferralWithMicrosoftSellers": False})
    result = await run_check("referral-sync", {"referral_id": "x"}, pc=FakePartnerCenter(referral=private))
    assert result.status is Status.passed


async def test_referral_sync_lists_several_problems_with_their_entries() -> None:
    broken = _referral(externalReferenceId=None, customerProfile__address__country="Germania", details__dealValue=0)
    result = await run_check("referral-sync", {"referral_id": "x"}, pc=FakePartnerCenter(referral=broken))
    assert result.entries == ("run-country-code", "run-bidirectional", "run-pc-not-synced-to-crm")
    assert "(use DE)" in result.summary
    assert len(result.evidence["problems"]) == 3


# --- suggest_country_code ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Italy", "IT"),
        ("Italia", "IT"),
        ("italia ", "IT"),
        ("United States", "US"),
        ("Stati Uniti", "US"),
        ("Germany", "DE"),
        ("Germania", "DE"),
        ("Regno Unito", "GB"),
        ("Paesi Bassi", "NL"),
        ("Svizzera", "CH"),
        ("Città del Vaticano", "VA"),
        ("Citta del Vaticano", "VA"),
        ("Perù", "PE"),
        ("Giappone", "JP"),
        ("Spagna", "ES"),
        ("France", "FR"),
    ],
)
def test_suggest_country_code(name: str, code: str) -> None:
    assert suggest_country_code(name) == code


def test_suggest_country_code_unknown_and_table_size() -> None:
    assert suggest_country_code("Atlantis") is None
    assert suggest_country_code("") is None
    from tenant.checks.referral import _COUNTRIES

    assert len(_COUNTRIES) >= 40


async def test_generic_crm_children_belong_to_the_dynamics_parent() -> None:
    """The FAQ's child flow names say "CRM" while the parent says "Dynamics 365"."""
    from tenant.checks.common import connector_flow

    names = [
        ("Partner Center to Dynamics 365 (Insider Preview)", False),
        ("Partner Center to CRM - Helper (Insider Preview)", False),
        ("Partner Center Microsoft Co-sell Referral Updates to CRM (Insider Preview)", True),
    ]
    flows = [connector_flow(str(i), n, on, "Started" if on else "Stopped") for i, (n, on) in enumerate(names)]
    assert all(f is not None for f in flows)
    from tenant.checks import flows as checks_flows

    async def fake(ctx):  # noqa: ARG001
        return [f for f in flows if f is not None], "power_automate"

    original = checks_flows.connector_flows
    checks_flows.connector_flows = fake
    try:
        check = next(c for c in checks_flows.flow_checks() if c.id == "flow-activation-order")
        result = await check.run(None)  # type: ignore[arg-type]
    finally:
        checks_flows.connector_flows = original
    assert result.status.value == "fail"
    assert result.evidence["start_order"] == [
        "Partner Center to CRM - Helper (Insider Preview)",
        "Partner Center to Dynamics 365 (Insider Preview)",
    ]
