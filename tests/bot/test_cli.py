"""The command line as a user runs it: ask (argument, stdin, --json), chat, and a bad setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith(("COSELL_", "MICROSOFTAPP"))}
    environ.update({"COSELL_DATABASE_PATH": str(tmp_path / "cli.db"), **env})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


def test_ask_json_from_stdin(tmp_path: Path) -> None:
    questions = "WorkflowTriggerNotFound while activating\nchi ha vinto il campionato?\ncrm id\n"
    result = _run(["ask", "--json"], tmp_path, stdin=questions)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == questions.splitlines()
    assert set(rows[0]) == {"text", "lang", "entry", "confidence", "alternatives", "answer"}
    assert rows[0]["entry"] == "cfg-workflow-trigger-not-found" and "CDS" in rows[0]["answer"]
    assert rows[1]["entry"] is None and rows[1]["alternatives"] == [] and rows[1]["lang"] == "it"
    assert rows[2]["entry"] is None and len(rows[2]["alternatives"]) >= 2


def test_ask_plain_argument(tmp_path: Path) -> None:
    result = _run(["ask", "how much is the paid connector on AppSource?"], tmp_path)
    assert result.returncode == 0 and "15" in result.stdout


def test_chat_in_terminal(tmp_path: Path) -> None:
    result = _run(["chat", "--locale", "it-IT"], tmp_path, stdin="configurazione\nfatto\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "prerequisiti" in result.stdout and "passo 2 di" in result.stdout


@pytest.mark.parametrize(
    ("var", "value"),
    [("COSELL_PORT", "eighty"), ("MicrosoftAppType", "Nope"), ("COSELL_LIVE_SALESFORCE_CLIENT_ID", "3MVG9key")],
)
def test_invalid_setting_stops_with_its_name(tmp_path: Path, var: str, value: str) -> None:
    result = _run(["ask", "hi"], tmp_path, **{var: value})
    assert result.returncode == 2 and "invalid setting" in result.stderr and var in result.stderr
