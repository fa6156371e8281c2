"""Tests for tenant/checks/opportunity.py (end to end against the sandbox: tests/bot/test_diagnose.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from tenant.base import LiveCheckFailed, Status, System
from tenant.checks.opportunity import opportunity_checks
from tenant.clients.dataverse import Account, AttributeInfo, Opportunity

OPP = "44444444-0000-4000-8000-000000000001"


class FakeDataverse:
    """The four reads the check makes, answering from plain data and recording what was asked."""

    def __init__(self, variables: dict[str, str], opportunity: dict[str, Any], account: dict[str, Any]) -> None:
        self.variables, self.opportunity, self.account = variables, opportunity, account
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    async def environment_variables(self) -> dict[str, str]:
        return self.variables

    async def find_attributes(self, entity: str, label: str) -> list[AttributeInfo]:
        return [AttributeInfo(logical_name="msp_syncwithpartnercenter", labels=(label,))]

    async def get_opportunity(self, opportunity_id: str, extra: tuple[str, ...] = ()) -> Opportunity:
        self.asked.append(("opportunity", extra))
        if opportunity_id != OPP:
            raise LiveCheckFailed(System.dataverse, "Dataverse answered 404.", status=404)
        return Opportunity.model_validate({"opportunityid": OPP, **self.opportunity})

    async def get_account(self, account_id: str, extra: tuple[str, ...] = ()) -> Account:
        self.asked.append(("account", extra))
        return Account.model_validate({"accountid": account_id, **self.account})


GOOD = {
    "name": "Fabrikam", "estimatedclosedate": date(2025, 9, 30).isoformat(), "_transactioncurrencyid_value": "eur",
    "_parentaccountid_value": "acc-1", "statecode": 0, "msp_syncwithpartnercenter": True,
}  # fmt: skip


async def _run(dv: FakeDataverse, opportunity_id: str = OPP) -> Any:
    ctx = SimpleNamespace(clients={System.dataverse: dv}, inputs={"opportunity_id": opportunity_id})
    return await opportunity_checks()[0].run(ctx)


async def test_the_connectors_environment_variables_pick_the_columns_it_reads() -> None:
    variables = {"Deal value field name": "new_dealamount", "Customer Account Country Code field name": "new_iso"}
    dv = FakeDataverse(variables, {**GOOD, "new_dealamount": 1200}, {"name": "Fabrikam", "new_iso": "Italy"})

    result = await _run(dv)

    assert dv.asked == [("opportunity", ("msp_syncwithpartnercenter", "new_dealamount")), ("account", ("new_iso",))]
    assert result.status is Status.fail and result.entries == ("run-country-code",)
    assert "new_iso" in result.summary and "(use IT)" in result.summary and "(usare IT)" in result.summary_it


async def test_a_closed_deal_without_value_is_reported_in_both_languages() -> None:
    dv = FakeDataverse({}, {**GOOD, "estimatedvalue": Decimal(0), "statecode": 1}, {"address1_country": "IT"})

    result = await _run(dv)

    assert result.entries == ("run-bidirectional", "run-pc-not-synced-to-crm")
    assert "closed as Won" in result.summary and "chiusa come vinta" in result.summary_it


async def test_a_healthy_opportunity_passes_and_an_unknown_one_fails_plainly() -> None:
    dv = FakeDataverse({}, {**GOOD, "estimatedvalue": 25000}, {"address1_country": "IT"})

    assert (await _run(dv)).status is Status.passed
    missing = await _run(dv, "55555555-0000-4000-8000-000000000009")
    assert missing.status is Status.fail and missing.entries == ("run-not-synced",)


class FakeReferrals:
    """Partner Center's referrals, by id and as the bounded list the checks page through."""

    def __init__(self, *referrals: dict[str, Any]) -> None:
        self.referrals = {r["id"]: r for r in referrals}

    async def get_referral(self, referral_id: str) -> Any:
        from tenant.clients.partner_center import Referral

        return Referral.model_validate(self.referrals[referral_id])

    async def list_referrals(self, max_pages: int = 3) -> list[Any]:
        from tenant.clients.partner_center import Referral

        return [Referral.model_validate(r) for r in self.referrals.values()]


async def test_given_a_referral_the_opportunity_checked_is_its_crm_id() -> None:
    dv = FakeDataverse({}, {**GOOD, "msp_syncwithpartnercenter": False}, {"name": "Fabrikam", "address1_country": "IT"})
    pc = FakeReferrals({"id": "ref-1", "externalReferenceId": OPP}, {"id": "ref-2"})
    check = opportunity_checks()[0]
    assert check.systems == (System.dataverse, System.partner_center) and check.needs == ("dataverse",)

    found = await check.run(SimpleNamespace(clients={System.dataverse: dv, System.partner_center: pc},
                                            inputs={"referral_id": "ref-1"}))  # fmt: skip
    no_crm_id = await check.run(SimpleNamespace(clients={System.dataverse: dv, System.partner_center: pc},
                                                inputs={"referral_id": "ref-2"}))  # fmt: skip

    assert found.status is Status.fail and found.entries[0] == "run-not-synced"
    assert no_crm_id.status is Status.skipped and "ref-2" in no_crm_id.summary and "ref-2" in no_crm_id.summary_it


async def test_given_an_opportunity_the_referral_checked_is_the_one_carrying_it() -> None:
    from tenant.checks.referral import referral_checks

    check = referral_checks()[0]
    pc = FakeReferrals(
        {"id": "ref-1", "externalReferenceId": OPP.upper(), "status": "Closed", "substatus": "Won"}, {"id": "ref-2"}
    )
    carried = await check.run(SimpleNamespace(clients={System.partner_center: pc}, inputs={"opportunity_id": OPP}))
    orphan = await check.run(SimpleNamespace(clients={System.partner_center: pc}, inputs={"opportunity_id": "nope"}))

    assert carried.status is Status.fail and carried.evidence["referral_id"] == "ref-1"
    assert "run-pc-not-synced-to-crm" in carried.entries
    assert orphan.status is Status.fail and orphan.entries == ("run-not-synced",)
    assert orphan.summary == "No Partner Center referral (of the 2 read) carries CRM ID nope."
    assert "nope" in orphan.summary_it
