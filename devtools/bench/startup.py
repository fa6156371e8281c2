"""[startup] time to the first 200: `cosell-bot serve` started as a deployment starts it (`python -m bot.cli serve`,
the container's command), polled from here until a FAQ question (expectReplies, so no connector is needed) answers
200 with the answer; against the bare aiohttp handler (baselines.py) started and asked the same way, in the same run.
Best of a few, alternating: a single start-up varies with the page cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from devtools.bench.report import Row
from devtools.demo import free_port

if TYPE_CHECKING:
    from devtools.bench.turns import Case

TARGET_S = 0.6  # issue 15 §3: start-up to the first 200 ≤ 0.6 s
ROOT = Path(__file__).resolve().parents[2]
BARE = (
    "from aiohttp import web; from devtools.bench.baselines import bare_app; import sys;"
    " web.run_app(bare_app(), host='127.0.0.1', port=int(sys.argv[1]), print=None)"
)


def _ask(port: int, body: bytes) -> str | None:
    """The first reply's text once the server answers the turn with 200; None while nothing listens."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 (loopback, http)
            if resp.status != 200:
                raise RuntimeError(f"the first turn answered HTTP {resp.status}")
            return str(json.loads(resp.read())["activities"][0].get("text") or "")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"the first turn answered HTTP {exc.code}: {exc.read()[:200]!r}") from exc
    except (ConnectionError, urllib.error.URLError):
        return None


def first_200(
    argv: list[str], env: dict[str, str], port: int, body: bytes, log: Path, deadline_s: float = 30.0
) -> float:
    """Seconds from starting `argv` until `POST /api/messages` answers 200 with a reply (polled every 2 ms); what
    the process writes goes to `log`, quoted when it stops early."""
    with log.open("wb") as out:
        t0 = time.perf_counter()
        with subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT) as proc:  # noqa: S603
            try:
                while time.perf_counter() - t0 < deadline_s:
                    if proc.poll() is not None:
                        raise RuntimeError(f"{argv} exited {proc.returncode}: {log.read_bytes()[-500:]!r}")
                    if _ask(port, body) is not None:
                        return time.perf_counter() - t0
                    time.sleep(0.002)
                raise RuntimeError(f"{argv} did not answer within {deadline_s} s")
            finally:
                proc.terminate()


def bench_startup(tmp: Path, cases: list[Case], quick: bool) -> list[Row]:
    """Best of 1 (quick) or 5 start-ups of each, alternating."""
    from devtools.bench.over_http import message

    tries = 1 if quick else 5
    activity = message("http://127.0.0.1:9", "startup", "user-startup", cases[0]["text"]) | {
        "deliveryMode": "expectReplies"
    }
    body = json.dumps(activity).encode()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSELL_", "Microsoft"))}
    best = {"faq": float("inf"), "bare": float("inf")}
    for i in range(tries):
        port = free_port()
        faq_env = env | {"COSELL_DATABASE_PATH": str(tmp / f"startup-{i}.db"), "COSELL_PORT": str(port)}
        argv = [sys.executable, "-m", "bot.cli", "serve"]
        best["faq"] = min(best["faq"], first_200(argv, faq_env, port, body, tmp / "startup-faq.log"))
        port = free_port()
        argv = [sys.executable, "-c", BARE, str(port)]
        best["bare"] = min(best["bare"], first_200(argv, env, port, body, tmp / "startup-bare.log"))
    note = (
        "`python -m bot.cli serve` (the container's command) until a FAQ question answers 200 with its answer,"
        " against a bare aiohttp handler started and asked the same way; target 0.6 s (issue 15 §3)"
    )
    name = f"start-up to the first 200, best of {tries}"
    return [Row("startup", name, "s", best["faq"], best["bare"], TARGET_S, note=note)]
