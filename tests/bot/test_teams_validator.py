"""Microsoft's own validator, `@microsoft/app-manifest` (npm, webchat/ devDependency), on the package the project
builds: the manifest at the newest version the validator bundles and its Italian localisation file, checked in Node
(tests/bot/teams_validator.cjs) with the network shut off. The Python checks: tests/bot/test_teams_package.py."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.channels import teams_package as tp
from bot.cli import main

APP_ID = "2f1b7a0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
SCRIPT = Path(__file__).with_name("teams_validator.cjs")
BUNDLED = Path(__file__).resolve().parents[2] / "webchat/node_modules/@microsoft/app-manifest/build/json-schemas/teams"


def _built(tmp_path: Path) -> Path:
    """The package as `cosell-bot teams-package` writes it, unpacked into a folder."""
    out = tmp_path / "teams-app.zip"
    assert main(["teams-package", "--app-id", APP_ID, "--out", str(out)]) == 0
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as zf:
        zf.extractall(folder)
    return folder


def _validate(folder: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed for this test (apt-get install nodejs npm), then scripts/bootstrap"
    # cwd outside the repository: the validator also looks for a schema relative to the working directory
    command = [node, str(SCRIPT), str(folder)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=folder.parent)


def _verdict(folder: Path) -> dict[str, Any]:
    done = _validate(folder)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _edit(file: Path, **changes: Any) -> None:
    data = json.loads(file.read_text(encoding="utf-8"))
    file.write_text(json.dumps({**data, **changes}, ensure_ascii=False), encoding="utf-8")


def test_microsofts_validator_accepts_the_package_at_its_newest_manifest_version(tmp_path: Path) -> None:
    folder = _built(tmp_path)
    result = _verdict(folder)
    print(f"@microsoft/app-manifest {result['validator']}: bundles {', '.join(result['versions'])}")
    assert result["validator"] == "1.1.2"
    assert result["manifestVersion"] == result["newest"] == tp.MANIFEST_VERSION
    assert result["manifest"] == []
    assert result["defaultLanguageTag"] == "en-us" and result["languages"] == {"it-it": []}
    italian = json.loads((folder / "it-it.json").read_text(encoding="utf-8"))
    assert italian["bots[0].commandLists[0].commands[8].title"] == "parla con una persona"


def test_microsofts_validator_reports_what_is_wrong(tmp_path: Path) -> None:
    # the run above proves something only if the same offline run finds mistakes in both files
    folder = _built(tmp_path)
    _edit(folder / "manifest.json", accentColor="blue")
    _edit(folder / "it-it.json", **{"name.short": "x" * 31, "bots[0].commandLists[0].commands[12].title": "z"})
    result = _verdict(folder)
    assert [e.split(". Details")[0] for e in result["manifest"]] == [
        '/accentColor must match pattern "^#[0-9a-fA-F]{6}$"'
    ]
    assert sorted(e.split(". Details")[0] for e in result["languages"]["it-it"]) == [
        " must NOT have additional properties",
        "/name.short must NOT have more than 30 characters",
    ]


def test_nothing_is_fetched_for_a_schema_the_validator_does_not_bundle(tmp_path: Path) -> None:
    folder = _built(tmp_path)
    _edit(folder / "manifest.json", **{"$schema": "https://example.com/teams/MicrosoftTeams.schema.json"})
    done = _validate(folder)
    assert done.returncode == 1 and "network access refused (https://example.com/teams/" in done.stderr


@pytest.mark.parametrize("file", ["MicrosoftTeams.schema.json", "MicrosoftTeams.Localization.schema.json"])
def test_vendored_schemas_are_the_validators_own_copies(file: str) -> None:
    vendored = tp.SCHEMA_DIR / f"v{tp.MANIFEST_VERSION}" / file
    assert vendored.read_bytes() == (BUNDLED / f"v{tp.MANIFEST_VERSION}" / file).read_bytes()
