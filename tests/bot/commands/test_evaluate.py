"""`cosell-bot eval` (bot/commands/evaluate.py): figures per file, JSON, pending entries, a bad file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.command_line import run_cli

CASES = [
    {"id": "t-en-1", "lang": "en", "kind": "match", "text": "WorkflowTriggerNotFound while activating",
     "faq": "cfg-workflow-trigger-not-found", "must_mention": [["cds"]]},
    {"id": "t-it-1", "lang": "it", "kind": "none", "text": "chi ha vinto il campionato?", "faq": None,
     "must_mention": []},
    {"id": "t-en-2", "lang": "en", "kind": "match", "text": "open a ticket with microsoft for the connector",
     "faq": "run-not-written-yet", "must_mention": []},
]  # fmt: skip


def test_eval_scores_a_file_as_json(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in CASES) + "\n", encoding="utf-8")
    result = run_cli(["eval", "--json", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)[str(path)]
    assert figures["top1_en"] == 1.0 and figures["none"] == 1.0 and figures["must_mention"] == 1.0
    assert figures["cases"] == 2 and figures["misses"] == []
    assert figures["pending"] == 1 and figures["pending_cases"][0].startswith("t-en-2 run-not-written-yet")


def test_eval_prints_a_table(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({**CASES[0], "faq": "pre-trial"}) + "\n", encoding="utf-8")
    result = run_cli(["eval", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "top1_en: 0.000" in result.stdout and "miss t-en-1 expected pre-trial" in result.stdout


def test_a_malformed_file_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(CASES[1]) + "\n{not json\n", encoding="utf-8")
    result = run_cli(["eval", str(path)], tmp_path)
    assert result.returncode == 2 and f"{path}:2: not JSON" in result.stderr
    result = run_cli(["eval", str(tmp_path / "missing.jsonl")], tmp_path)
    assert result.returncode == 2 and "cannot read" in result.stderr
