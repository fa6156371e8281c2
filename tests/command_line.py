"""`cosell-bot` as a user runs it: a child process on this checkout, outside any `.env`, with only the given
settings in its environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(args: list[str], tmp_path: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
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
