"""The real Direct Line client, `botframework-directlinejs` 0.15.8 from npm, in Node, against the app on 127.0.0.1:
with its default options (the WebSocket stream) and with polling; a reconnect from the watermark; and, with slow
live checks, "Checking your tenant…" and the typing indicator arriving before the findings (times measured)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from devtools.demo import demo_settings
from devtools.sandbox import HOST, create_sandbox_app, load_scenario

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "webchat" / "node_modules"
SCRIPT = Path(__file__).with_name("directline_node.js")
CHECKING = "Checking your tenant"

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (node) on PATH"),
    pytest.mark.skipif(
        not (MODULES / "botframework-directlinejs").is_dir() or not (MODULES / "ws").is_dir(),
        reason="needs webchat/node_modules with the dev packages (scripts/bootstrap runs npm ci in webchat/)",
    ),
]


async def _run_client(base: str, steps: list[str], options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A token from the token route, then the Node client; its JSON result."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.post(f"{base}/api/directline/token") as resp:
        session = await resp.json()
    config = {
        "modules": str(MODULES),
        "domain": f"{base}/v3/directline",
        "token": session["token"],
        "userId": session["userId"],
        "steps": steps,
        "options": options or {},
    }
    proc = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), json.dumps(config), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out)
    return result


async def _serve(aiohttp_server: Callable[..., Any], settings: Any, knowledge: Any) -> str:
    server = await aiohttp_server(create_app(settings, knowledge=knowledge), host="127.0.0.1")
    return str(server.make_url("")).rstrip("/")


def _messages(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "message"]


@pytest.mark.parametrize("options", [{}, {"webSocket": False}], ids=["default-websocket", "polling"])
async def test_the_directlinejs_client_chats_and_resumes_from_its_watermark(
    aiohttp_server: Callable[..., Any], make_settings: Callable[..., Any], knowledge: Any, options: dict[str, Any]
) -> None:
    base = await _serve(aiohttp_server, make_settings(directline_secret=""), knowledge)
    result = await _run_client(base, ["Solution ID is required", "Yes, it helped"], options)
    if options:
        assert result["webSocket"] is False
    else:
        assert result["webSocket"] is True and result["streamUrl"].startswith("ws://127.0.0.1:")
        assert "/stream?" in result["streamUrl"]
    first = _messages(result["events"])
    assert "Hi! I help you troubleshoot" in first[0]["text"]
    texts = [m["text"] for m in first]
    asked = texts.index("Solution ID is required")
    assert first[asked]["role"] == "user" and first[asked]["clientActivityID"] == "c-0"  # the echo: "sent"
    assert "co-sell ready solution" in texts[asked + 1]
    assert "glad it helped" in texts[texts.index("Yes, it helped") + 1]
    ids = [e["id"] for e in result["events"]]
    assert len(ids) == len(set(ids))  # nothing delivered twice
    # the second client resumes from the first one's watermark: only what came after, nothing again
    resumed = result["resumed"]
    assert resumed and not {e["id"] for e in resumed} & set(ids)
    assert [m["text"] for m in _messages(resumed)][0] == "resume"
    assert all(post["ms"] < 2000 for post in result["posts"])


async def test_slow_checks_show_progress_before_the_answer(
    aiohttp_server: Callable[..., Any],
    make_settings: Callable[..., Any],
    knowledge: Any,
    record_property: Callable[[str, Any], None],
) -> None:
    scenario = load_scenario("slow")
    tenant = await aiohttp_server(create_sandbox_app(scenario), host=HOST)
    settings = demo_settings(make_settings(directline_secret=""), scenario, tenant.port)
    base = await _serve(aiohttp_server, settings, knowledge)
    result = await _run_client(base, ["diagnose everything"])
    events = result["events"]
    echo = next(e for e in events if e.get("clientActivityID") == "c-0")
    after = events[events.index(echo) + 1 :]
    checking = next(e for e in after if e["type"] == "message" and e["text"].startswith(CHECKING))
    typing = next(e for e in after if e["type"] == "typing")
    answer = next(e for e in after if e["type"] == "message" and not e["text"].startswith(CHECKING))
    post_ms = result["posts"][0]["ms"]
    figures = {
        "post_ms": post_ms,
        "checking_ms": checking["at"] - echo["at"],
        "typing_ms": typing["at"] - echo["at"],
        "answer_ms": answer["at"] - echo["at"],
    }
    record_property("slow_checks_ms", json.dumps(figures))
    print(f"slow checks over the WebSocket, ms after the echo: {figures}")
    assert post_ms < 1000  # the POST returned while the checks were still running
    assert figures["checking_ms"] < 1000 and figures["typing_ms"] < 1000
    assert figures["answer_ms"] > figures["typing_ms"] + 2000  # the sandbox answers each call after 2.5 s
