"""One diagnosis, wherever you ask: for EVERY sandbox scenario, `ask` (the scenario's own question), `trace` and
`diagnose` (the record the scenario's fault is on) reach the same verdicts from the same evidence.

- `trace` and `diagnose` give every check the same status (the trace is a view of the same sweep);
- every check the chat's answer looked at has the status `diagnose` gives it, so its faults are diagnose's faults
  among the checks the question concerns; and a scenario with a fault shows one in the chat too.
"""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from devtools.sandbox import load_scenario, scenario_names

FAULTS = ("fail", "error")


def _run(capsys, *args: str) -> list[dict]:
    main(list(args))
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def _flags(inputs: dict[str, str]) -> list[str]:
    names = {"referral_id": "--referral", "opportunity_id": "--opportunity"}
    return [part for key, value in inputs.items() for part in (names[key], value)]


@pytest.mark.parametrize("name", scenario_names())
def test_ask_trace_and_diagnose_agree(name, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "verdict.db"))
    scenario = load_scenario(name)
    assert scenario.question and scenario.inputs, f"scenario {name} needs a question and the record its fault is on"
    diagnosed = {c["id"]: c["status"] for c in _run(capsys, "diagnose", "--json", "--demo", name,
                                                   *_flags(scenario.inputs))[0]["checks"]}  # fmt: skip
    (trace,) = _run(capsys, "trace", "--json", "--demo", name, *_flags(scenario.inputs))
    traced = {check: status for hop in trace["hops"] for check, status in hop["checks"].items()}
    (asked,) = _run(capsys, "ask", "--json", "--demo", name, scenario.question)
    shown = {check: status for check, status in asked["findings"].items() if status != "skipped"}

    assert traced == diagnosed, "trace and diagnose disagree"
    broken = {hop["name"] for hop in trace["hops"] if hop["status"] == "broken"}
    assert bool(broken) == any(s == "fail" for s in diagnosed.values()), trace
    assert shown, f"the chat looked at nothing for {scenario.question!r}: {asked['answer']}"
    assert {c: diagnosed[c] for c in shown} == shown, "the chat and diagnose disagree"
    faults = {c for c, s in diagnosed.items() if s in FAULTS}
    assert bool(faults) == any(s in FAULTS for s in shown.values()), (faults, shown)
