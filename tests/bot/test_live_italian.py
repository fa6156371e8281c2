"""Live checks in Italian end to end: every check of `all_checks()` swept over the sandbox scenarios (the
`diagnose --demo` path: `start_demo` + `build_live_checks`) gives Italian titles and summaries, which the Italian
findings show, and `diagnose --json` keeps its keys (no Italian fields leak into it)."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from assistant.presenters.markdown import findings_markdown
from bot.cli import main
from bot.wiring import build_live_checks
from devtools.demo import start_demo
from devtools.sandbox import scenario_names
from stores.sqlite.database import SqliteDatabase
from tenant.base import CheckResult, Status
from tenant.checks.catalog import all_checks
from tenant.checks.crm import crm_checks
from tenant.checks.flows import flow_checks
from tenant.checks.platform import platform_checks
from tenant.checks.referral import referral_checks
from tenant.checks.salesforce import salesforce_checks
from tests.fakes import assert_bilingual

HEALTHY_REFERRAL = "c5fb0000-0000-4000-8000-000000000001"
REFERRALS = {"referral-missing-fields": "c5fb0000-0000-4000-8000-000000000003"}
OPPORTUNITY = "44444444-0000-4000-8000-000000000001"
JSON_KEYS = {"id", "title", "system", "status", "summary", "evidence", "entries", "fix"}
FAULTS = ("slow", "throttled", "server-errors")  # every call waits or fails: the data are the healthy tenant's
CHECKED = frozenset({"pass", "warn", "fail"})


async def _sweep(make_settings, scenario: str) -> list[CheckResult]:  # type: ignore[no-untyped-def]
    running = await start_demo(make_settings(), scenario)
    database = SqliteDatabase(running.settings.database_path)
    live = build_live_checks(running.settings, database)
    inputs = {"referral_id": REFERRALS.get(scenario, HEALTHY_REFERRAL), "opportunity_id": OPPORTUNITY}
    try:
        sweep = await live.sweep(inputs=inputs)
    finally:
        await live.close()
        database.close()
        await running.stop()
    return list(sweep.results)


def _assert_italian_findings(results: list[CheckResult]) -> None:
    """Every result bilingual; the Italian findings show the Italian summaries, not the English ones."""
    for result in results:
        assert_bilingual(result)
    italian = findings_markdown(results, "it")
    for result in results:
        assert result.summary_it in italian
        if result.status.value in CHECKED:  # a list of findings (else one line naming the reasons)
            assert result.title_it in italian and result.summary not in italian


async def test_every_check_finds_in_italian_over_the_sandbox_scenarios(make_settings) -> None:  # type: ignore[no-untyped-def]
    found: dict[str, set[str]] = defaultdict(set)
    for scenario in [name for name in scenario_names() if name not in FAULTS]:
        results = await _sweep(make_settings, scenario)
        assert [r.id for r in results] == [c.id for c in all_checks()], scenario
        _assert_italian_findings(results)
        for result in results:
            found[result.id].add(result.status.value)
    # not vacuous: every check of these modules passes, warns or fails in at least one scenario
    ours = [*platform_checks(), *crm_checks(), *flow_checks(), *salesforce_checks(), *referral_checks()]
    assert [c.id for c in ours if not found[c.id] & CHECKED] == []


@pytest.mark.parametrize("scenario", ["throttled", "server-errors"])
async def test_unreachable_systems_are_reported_in_italian(make_settings, scenario: str) -> None:  # type: ignore[no-untyped-def]
    results = await _sweep(make_settings, scenario)
    errors = [r for r in results if r.status is Status.error]
    assert errors
    _assert_italian_findings(results)
    assert all(" ha risposto " in r.summary_it or " non risponde" in r.summary_it for r in errors)


@pytest.mark.parametrize("scenario", ["healthy", "flows-off", "server-errors"])
def test_diagnose_json_keys_are_unchanged(capsys, monkeypatch, tmp_path, scenario: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "diag.db"))
    main(["diagnose", "--json", "--demo", scenario, "--referral", HEALTHY_REFERRAL])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert set(report) == {"checks", "elapsed_ms", "api_calls"}
    assert report["checks"] and all(set(check) == JSON_KEYS for check in report["checks"])
    assert "title_it" not in out and "summary_it" not in out
