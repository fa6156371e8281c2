"""`cosell-bot cases`: support staff without Teams list, read and resolve the cases users opened."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.cli import main
from bot.local import LocalConversation
from bot.settings import Settings
from bot.wiring import build_assistant


async def _open_case(tmp_path: Path) -> str:
    assistant = build_assistant(Settings(_env_file=None, database_path=tmp_path / "cases.db"))
    try:
        convo = LocalConversation(assistant, locale="en-US", channel_id="test")
        await convo.start()
        await convo.say("talk to a person")
        await convo.say("The Partner Center to Dynamics flow fails, my token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")
        ack = (await convo.say("send")).text
    finally:
        await assistant.close()
    return ack.split("**")[1]


def test_list_show_and_resolve_a_case(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    ref = asyncio.run(_open_case(tmp_path))
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "cases.db"))
    assert ref.startswith("CS-")

    assert main(["cases", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["ref"] == ref and row["status"] == "open" and row["channel"] == "test"

    assert main(["cases", "show", ref, "--json"]) == 0
    bundle = json.loads(capsys.readouterr().out)
    assert bundle["schema"] == "cosell.case.v1" and "Partner Center to Dynamics" in bundle["description"]
    assert "ghp_A1b2" not in json.dumps(bundle)

    page = tmp_path / "case.html"
    assert main(["cases", "show", ref, "--html", str(page)]) == 0
    assert ref in page.read_text(encoding="utf-8") and "ghp_A1b2" not in page.read_text(encoding="utf-8")
    capsys.readouterr()

    assert main(["cases", "resolve", ref, "--note", "Re-registered the webhook", "--by", "Ada (cli)"]) == 0
    assert f"{ref} resolved by Ada (cli)" in capsys.readouterr().out
    assert main(["cases", "list", "--status", "resolved"]) == 0
    assert ref in capsys.readouterr().out
    assert main(["cases", "show", ref]) == 0
    shown = capsys.readouterr().out
    assert '"status": "resolved"' in shown and "user" in shown  # the deliveries, the user's "resolved" message too


def test_an_unknown_case_is_exit_1(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "none.db"))
    assert main(["cases", "show", "CS-NOPE00"]) == 1
    assert "no case CS-NOPE00" in capsys.readouterr().err
    assert main(["cases", "list"]) == 0
    assert "no cases" in capsys.readouterr().out
