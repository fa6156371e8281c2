"""What the sub-commands share (bot/commands/common.py): an invalid setting stops the command with exit 2, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.command_line import run_cli


@pytest.mark.parametrize(
    ("var", "value"),
    [("COSELL_PORT", "eighty"), ("MicrosoftAppType", "Nope"), ("COSELL_LIVE_SALESFORCE_CLIENT_ID", "3MVG9key")],
)
def test_invalid_setting_stops_with_its_name(tmp_path: Path, var: str, value: str) -> None:
    result = run_cli(["ask", "hi"], tmp_path, **{var: value})
    assert result.returncode == 2 and "invalid setting" in result.stderr and var in result.stderr
