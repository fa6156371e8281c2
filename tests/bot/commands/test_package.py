"""`cosell-bot teams-package` (bot/commands/package.py): the package written whole, placeholder URLs warned about, an
invalid manifest refused with nothing written. The package itself: tests/bot/test_teams_package.py."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from bot.cli import main

APP_ID = "2f1b7a0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


def _unzip(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_cli_writes_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "teams" / "app.zip"
    args = ["teams-package", "--app-id", APP_ID, "--out", str(out), "--name", "Co-sell Help"]
    args += ["--website", "https://contoso.example/", "--privacy", "https://contoso.example/p"]
    args += ["--terms", "https://contoso.example/t"]
    assert main(args) == 0
    manifest = json.loads(_unzip(out.read_bytes())["manifest.json"])
    assert manifest["name"] == {"short": "Co-sell Help", "full": "Co-sell Help"}
    assert manifest["developer"]["privacyUrl"] == "https://contoso.example/p"
    captured = capsys.readouterr()
    assert f"wrote {out} (manifest 1.30, version 1.0.0, en-us + it-it)" in captured.out
    assert "placeholder" not in captured.err
    assert json.loads(_unzip(out.read_bytes())["it-it.json"])["name.short"] == "Co-sell Help"
    assert [p.name for p in out.parent.iterdir()] == ["app.zip"]


def test_cli_warns_about_placeholder_urls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teams-package", "--app-id", APP_ID, "--out", str(tmp_path / "app.zip")]) == 0
    assert "replace the example.com placeholders: websiteUrl, privacyUrl, termsOfUseUrl" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--app-id", "not-a-guid"], ["$.bots[0].botId: 'not-a-guid' does not match", "$.id: 'not-a-guid'"]),
        (["--app-id", APP_ID, "--name", "n" * 31], ["$.name.short:"]),
    ],
)
def test_cli_refuses_an_invalid_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], expected: list[str]
) -> None:
    out = tmp_path / "app.zip"
    assert main(["teams-package", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert "nothing written" in err and all(e in err for e in expected), err
    assert not out.exists() and list(tmp_path.iterdir()) == []
