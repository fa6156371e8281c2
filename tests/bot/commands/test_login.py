"""`cosell-bot login` (bot/commands/login.py): without an Entra app registration, or without a key for the token
cache, it exits 2 naming the missing setting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"


def test_cli_login_without_config_exits_2(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_settings()  # clears COSELL_* from the environment
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["login", "partner_center"]) == 2
    assert "COSELL_LIVE_CLIENT_ID" in capsys.readouterr().err


def test_cli_login_without_cache_key_exits_2(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_settings()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COSELL_LIVE_CLIENT_ID", CLIENT)
    monkeypatch.setenv("COSELL_LIVE_TENANT_ID", TENANT)
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "cli.db"))
    assert main(["login", "graph"]) == 2
    assert "COSELL_LIVE_CACHE_KEY" in capsys.readouterr().err
