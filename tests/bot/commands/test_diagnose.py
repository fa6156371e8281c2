"""`cosell-bot diagnose --demo SCENARIO --json`: the live checks end to end over HTTP against the simulated
tenant — the right checks fail with the right entry, the healthy tenant passes, faults degrade to errors."""

from __future__ import annotations

import json

import pytest

from bot.cli import main

HEALTHY_REFERRAL = "c5fb0000-0000-4000-8000-000000000001"


def _diagnose(capsys, monkeypatch, tmp_path, *args: str) -> tuple[int, dict]:
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "diag.db"))
    code = main(["diagnose", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def _by_status(report: dict, status: str) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"] if c["status"] == status}


OPPORTUNITY = "44444444-0000-4000-8000-000000000001"


def test_healthy_tenant_passes(capsys, monkeypatch, tmp_path) -> None:
    code, report = _diagnose(
        capsys, monkeypatch, tmp_path, "--demo", "healthy", "--referral", HEALTHY_REFERRAL, "--opportunity", OPPORTUNITY
    )
    assert code == 0, report
    assert set(_by_status(report, "pass")) == {c["id"] for c in report["checks"]}
    assert report["api_calls"] > 0 and report["elapsed_ms"] > 0
    assert set(report["checks"][0]) == {"id", "title", "system", "status", "summary", "evidence", "entries", "fix"}


@pytest.mark.parametrize(
    ("scenario", "extra", "check", "entry"),
    [
        ("flows-off", (), "connector-flows", "cfg-flows-wont-turn-on"),
        ("child-flows-off", (), "flow-activation-order", "cfg-activate-pc-to-crm"),
        ("trigger-not-found", (), "failed-runs", "cfg-workflow-trigger-not-found"),
        ("connection-unauthenticated", (), "connection-references", "cfg-add-connections"),
        ("webhook-missing-events", (), "webhook-registration", "cfg-flows-wont-turn-on"),
        ("webhook-wrong-url", (), "webhook-registration", "cfg-flows-wont-turn-on"),
        (
            "referral-missing-fields",
            ("--referral", "c5fb0000-0000-4000-8000-000000000003"),
            "referral-sync",
            "run-country-code",
        ),
        ("referral-closed", ("--referral", HEALTHY_REFERRAL), "referral-sync", "run-pc-not-synced-to-crm"),
        ("missing-roles", (), "pc-referrals-role", "pre-pc-role"),
        ("missing-roles", (), "crm-roles", "pre-crm-role"),
        ("no-dataverse", (), "dataverse-present", "pre-d365-for-salesforce"),
        ("low-storage", (), "storage-capacity", "pre-power-automate"),
        ("no-license", (), "power-automate-license", "pre-power-automate"),
        ("sf-quota-low", (), "sf-api-quota", "run-disconnected"),
        ("opportunity-not-synced", ("--opportunity", OPPORTUNITY), "crm-opportunity-sync", "run-country-code"),
        ("opportunity-not-synced", ("--opportunity", OPPORTUNITY), "crm-opportunity-sync", "run-not-synced"),
    ],
)
def test_scenario_fails_the_right_check(capsys, monkeypatch, tmp_path, scenario, extra, check, entry) -> None:
    code, report = _diagnose(capsys, monkeypatch, tmp_path, "--demo", scenario, *extra)
    failed = _by_status(report, "fail")
    assert code == 1 and check in failed, report
    assert entry in failed[check]["entries"], failed[check]
    assert "sandbox-demo-token" not in json.dumps(report)  # secrets never reach the output


def test_api_call_forecast_from_run_history(capsys, monkeypatch, tmp_path) -> None:
    _, healthy = _diagnose(capsys, monkeypatch, tmp_path, "--demo", "healthy")
    _, busy = _diagnose(capsys, monkeypatch, tmp_path, "--demo", "api-quota-high")
    calm, near = ({c["id"]: c for c in r["checks"]}["api-quota-forecast"] for r in (healthy, busy))

    assert calm["status"] == "pass" and 60 <= calm["evidence"]["forecast_calls_per_day"] <= 70  # 40 + 25 runs a day
    assert near["status"] == "warn" and near["entries"] == ["pre-trial"]
    assert 8_900 <= near["evidence"]["forecast_calls_per_day"] < 10_000
    assert near["evidence"]["by_flow"]["Dynamics 365 to Partner Center (Insider Preview)"] == 9_000
    assert "10,000" in near["summary"] and "lower bound" in near["summary"]


@pytest.mark.parametrize("scenario", ["throttled", "server-errors", "no-dataverse"])
def test_faults_degrade_to_plain_errors(capsys, monkeypatch, tmp_path, scenario) -> None:
    code, report = _diagnose(capsys, monkeypatch, tmp_path, "--demo", scenario)
    errors = _by_status(report, "error")
    assert code == 1 and errors
    assert all("Traceback" not in c["summary"] and c["summary"] for c in errors.values())


def test_unknown_scenario_is_refused(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "diag.db"))
    assert main(["diagnose", "--demo", "no-such-scenario"]) == 2
    assert "healthy" in capsys.readouterr().err


def test_trace_command_names_the_broken_hop(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "trace.db"))
    code = main(["trace", "--demo", "referral-closed", "--referral", HEALTHY_REFERRAL, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["broken_at"] == "referral"
    assert main(["trace", "--demo", "healthy", "--opportunity", "44444444-0000-4000-8000-000000000001"]) == 0
    assert "✅ OK — crm-record" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["diagnose"], ["trace", "--referral", HEALTHY_REFERRAL]])
def test_findings_speak_to_people_not_in_ids(command, knowledge, capsys, monkeypatch, tmp_path) -> None:
    """The wrong-URL webhook: the FAQ entry by its label, the fix by its name, both URLs by host only."""
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "words.db"))
    assert main([*command, "--demo", "webhook-wrong-url"]) == 1
    out = capsys.readouterr().out
    assert knowledge.kb.get("cfg-flows-wont-turn-on").content("en").label in out
    assert "registered at prod-99.northeurope.logic.azure.com" in out
    assert "trigger is at prod-00.westeurope.logic.azure.com" in out
    for internal in ("cfg-flows-wont-turn-on", "register-webhook", "action:", "FAQ entry", "sig=", "/workflows/"):
        assert internal not in out
    if command == ["diagnose"]:
        assert "re-register the Partner Center webhook" in out
