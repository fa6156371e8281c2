"""The Salesforce checks through CheckRunner with a fake client."""

from __future__ import annotations

from typing import Any

import pytest

from tenant.base import CheckResult, LiveCheckUnavailable, Status, System
from tenant.checks.catalog import all_checks
from tenant.clients.salesforce import ApiLimits, CurrencyType, SObjectDescribe, SObjectField
from tenant.runner import CheckRunner
from tests.fakes import assert_bilingual

SF = System.salesforce


class FakeSalesforce:
    def __init__(
        self,
        *,
        customize: bool = True,
        currencies: list[dict[str, Any]] | None = None,
        fields: list[SObjectField] | None = None,
        limits: tuple[int, int] = (15000, 14000),
        error: Exception | None = None,
    ) -> None:
        self.customize = customize
        self.rows = [{"IsoCode": "EUR", "IsCorporate": True}] if currencies is None else currencies
        self.fields = fields or [SObjectField(name="CurrencyIsoCode", label="Opportunity Currency")]
        self.max, self.remaining = limits
        self.error = error
        self.asked: list[str] = []

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    async def current_user_id(self) -> str:
        self._raise()
        return "005000000000001AAA"

    async def user_can_customize(self, user_id: str) -> bool:
        self.asked.append(user_id)
        return self.customize

    async def currencies(self) -> list[CurrencyType]:
        self._raise()
        return [CurrencyType.model_validate(r) for r in self.rows]

    async def describe(self, sobject: str) -> SObjectDescribe:
        return SObjectDescribe(name=sobject, fields=tuple(self.fields))

    async def limits(self) -> ApiLimits:
        self._raise()
        return ApiLimits(daily_max=self.max, daily_remaining=self.remaining)


async def run(check_id: str, sf: FakeSalesforce | None, inputs: dict[str, str] | None = None) -> CheckResult:
    clients = {SF: sf} if sf is not None else {}
    runner = CheckRunner(all_checks(), clients=clients, credentials={s.value for s in clients}, counter=None)
    sweep = await runner.run(ids=[check_id], inputs=inputs)
    assert_bilingual(sweep.results[0])  # every result a check can give, in Italian too
    return sweep.results[0]


async def test_customize_application_pass_and_fail() -> None:
    fake = FakeSalesforce()
    assert (await run("sf-customize-application", fake)).status is Status.passed
    assert fake.asked == ["005000000000001AAA"]
    given = FakeSalesforce(customize=False)
    result = await run("sf-customize-application", given, {"salesforce_user_id": "005000000000002AAA"})
    assert result.status is Status.fail and result.entries == ("pre-crm-role",)
    assert result.fix is not None and result.fix.entry == "pre-crm-role"
    assert given.asked == ["005000000000002AAA"]


async def test_currency_passes_with_multi_currency_and_reports_the_referral_field() -> None:
    fields = [
        SObjectField(name="CurrencyIsoCode", label="Opportunity Currency"),
        SObjectField(name="ns__Referral_Currency__c", label="Referral Currency", custom=True),
    ]
    result = await run("sf-currency", FakeSalesforce(fields=fields))
    assert result.status is Status.passed
    assert result.evidence["referral_currency_fields"] == ["ns__Referral_Currency__c"]
    assert "EUR" in result.summary and "ns__Referral_Currency__c" in result.summary


async def test_currency_warns_in_a_single_currency_org_and_fails_with_none_active() -> None:
    single = await run("sf-currency", FakeSalesforce(currencies=[], fields=[SObjectField(name="Amount")]))
    assert single.status is Status.warn and "single-currency" in single.summary
    assert single.entries == ("pre-crm-fields", "run-bidirectional")
    inactive = await run("sf-currency", FakeSalesforce(currencies=[{"IsoCode": "EUR", "IsActive": False}]))
    assert inactive.status is Status.fail


@pytest.mark.parametrize(
    ("remaining", "status"), [(14000, Status.passed), (1499, Status.warn), (299, Status.fail), (0, Status.fail)]
)
async def test_api_quota_thresholds(remaining: int, status: Status) -> None:
    result = await run("sf-api-quota", FakeSalesforce(limits=(15000, remaining)))
    assert result.status is status and "10K calls/day" in result.summary
    assert result.evidence["remaining"] == remaining
    if status is not Status.passed:
        assert result.entries == ("run-disconnected", "run-flow-failures")


async def test_salesforce_checks_skip_without_a_client_and_error_when_unavailable() -> None:
    assert (await run("sf-api-quota", None)).status is Status.skipped
    down = LiveCheckUnavailable(
        SF, "Salesforce answered 403 (REQUEST_LIMIT_EXCEEDED): the org's API request limit is used up."
    )
    result = await run("sf-api-quota", FakeSalesforce(error=down))
    assert result.status is Status.error and "REQUEST_LIMIT_EXCEEDED" in result.summary
