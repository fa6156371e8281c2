"""`cosell-bot ask` (argument, stdin, --json) and `chat` in the terminal (bot/commands/terminal.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.command_line import run_cli


def test_ask_json_from_stdin(tmp_path: Path) -> None:
    questions = "WorkflowTriggerNotFound while activating\nchi ha vinto il campionato?\ncrm id\n"
    result = run_cli(["ask", "--json"], tmp_path, stdin=questions)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == questions.splitlines()
    assert set(rows[0]) == {"text", "lang", "entry", "confidence", "alternatives", "intent", "answer", "findings"}
    assert [r["intent"] for r in rows] == ["question", "question", "question"]
    assert rows[0]["entry"] == "cfg-workflow-trigger-not-found" and "CDS" in rows[0]["answer"]
    assert rows[1]["entry"] is None and rows[1]["alternatives"] == [] and rows[1]["lang"] == "it"
    assert rows[2]["entry"] is None and len(rows[2]["alternatives"]) >= 2


def test_ask_json_names_the_intent(tmp_path: Path) -> None:
    questions = [
        "operatore per favore",
        "can I talk to someone from support?",
        "apri un ticket",
        "Operator!",
        "help",
        "in italiano",
        "ciao",
        "which person needs the Referrals admin role?",
    ]
    result = run_cli(["ask", "--json"], tmp_path, stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["text"], r["intent"]) for r in rows] == list(
        zip(questions, ["handoff"] * 4 + ["command", "command", "smalltalk", "question"], strict=True)
    )


def test_ask_plain_argument(tmp_path: Path) -> None:
    result = run_cli(["ask", "how much is the paid connector on AppSource?"], tmp_path)
    assert result.returncode == 0 and "15" in result.stdout


def test_chat_in_terminal(tmp_path: Path) -> None:
    result = run_cli(["chat", "--locale", "it-IT"], tmp_path, stdin="configurazione\nfatto\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "prerequisiti" in result.stdout and "passo 2 di" in result.stdout
