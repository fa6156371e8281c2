"""The image's CMD and HEALTHCHECK, as the Dockerfile writes them, run against this checkout with the image's ENV:
the closest this machine gets to starting the container (no Docker daemon here). Two changes, both said where they
are made: the interpreter is this venv's, and the server binds 127.0.0.1 on a free port (tests never listen beyond
this machine), with the database in a temporary folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.readers import REPO, read_dockerfile

_, STAGES = read_dockerfile()
FINAL = STAGES[-1]
COMMAND = FINAL.all("CMD")[-1].exec_form or []
HEALTHCHECK = FINAL.all("HEALTHCHECK")[0].exec_form or []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _image_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    """This process's environment less every app setting, plus the image's ENV (PYTHONPATH → this checkout)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("COSELL_", "MICROSOFTAPP", "DIRECTLINE"))}
    image = FINAL.env()
    image.pop("PATH")  # /opt/venv/bin: the interpreter is this venv's instead
    image["PYTHONPATH"] = str(REPO)
    image["COSELL_DATABASE_PATH"] = str(tmp_path / "data" / Path(image["COSELL_DATABASE_PATH"]).name)
    return env | image | changes


def _run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    assert argv[0] == "python"
    return subprocess.run(
        [sys.executable, *argv[1:]], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[dict[str, str], int]]:
    """The image's command serving on 127.0.0.1:<free port>, started in an empty folder (no .env is read)."""
    port = _free_port()
    env = _image_env(tmp_path, COSELL_HOST="127.0.0.1", COSELL_PORT=str(port))
    assert COMMAND[0] == "python"
    log = tmp_path / "serve.log"
    with (
        log.open("wb") as out,
        subprocess.Popen(
            [sys.executable, *COMMAND[1:]], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
        ) as process,
    ):
        try:
            deadline = time.monotonic() + 30
            while _run(HEALTHCHECK, env, tmp_path).returncode != 0:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the health check never passed"
                time.sleep(0.3)
            yield env, port
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_the_command_serves_and_the_health_check_passes(served: tuple[dict[str, str], int], tmp_path: Path) -> None:
    env, port = served
    assert _run(HEALTHCHECK, env, tmp_path).returncode == 0
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
        assert response.status == 200
    bundle = urllib.request.Request(f"http://127.0.0.1:{port}/webchat/webchat.js", headers={"Accept-Encoding": "br"})
    with urllib.request.urlopen(bundle, timeout=5) as response:
        assert response.status == 200 and response.headers["Content-Encoding"] == "br"  # the precompressed copy
    assert (tmp_path / "data" / "cosell-bot.db").exists(), "the database goes where COSELL_DATABASE_PATH says"


def test_the_health_check_fails_when_nothing_serves(tmp_path: Path) -> None:
    env = _image_env(tmp_path, COSELL_PORT=str(_free_port()))
    done = _run(HEALTHCHECK, env, tmp_path)
    assert done.returncode == 1  # Docker: 1 = unhealthy (2 is reserved)


def test_the_image_refuses_to_serve_everyone_without_bot_framework_auth(tmp_path: Path) -> None:
    """COSELL_HOST=0.0.0.0 without MicrosoftAppId: `serve` exits 2 before binding, saying why."""
    done = _run(COMMAND, _image_env(tmp_path, COSELL_PORT=str(_free_port())), tmp_path)
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0 with Bot Framework auth off" in done.stderr
