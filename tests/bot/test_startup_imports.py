"""What a FAQ server loads: without credentials, a webhook or an Azure Direct Line secret, `cosell-bot serve` and its
first turns never import httpx, the tenant's clients or its sign-in (they load with the first credential); with a
credential, the live checks get their clients as before. Each case runs in a fresh interpreter: the test process has
long imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_TURN = """
import asyncio, json, sys, tempfile
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from bot.app import create_app
from bot.settings import Settings

async def main():
    settings = Settings(database_path=tempfile.mkdtemp() + "/x.db", **json.loads(sys.argv[1]))
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as http:
            for n, text in enumerate(("what licenses do I need?", "come abilito il connettore?")):
                activity = {"type": "message", "id": f"a{n}", "channelId": "directline", "text": text,
                            "serviceUrl": "http://127.0.0.1:9", "conversation": {"id": "c1"}, "from": {"id": "u1"},
                            "recipient": {"id": "bot"}, "deliveryMode": "expectReplies"}
                async with http.post(server.make_url("/api/messages"), json=activity) as resp:
                    assert resp.status == 200, resp.status
                    assert (await resp.json())["activities"], "no reply"
    finally:
        await server.close()
    loaded = sorted(m for m in sys.modules if m == "httpx" or m.startswith(("tenant.clients.", "tenant.auth.sal")))
    print(json.dumps(loaded))

asyncio.run(main())
"""


def _loaded(settings: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSELL_", "Microsoft"))}
    done = subprocess.run(
        [sys.executable, "-c", _TURN, json.dumps(settings)],
        capture_output=True, text=True, check=False, timeout=120, env=env, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_faq_server_and_its_turns_load_no_http_client_library_nor_tenant_client() -> None:
    assert _loaded({}) == []


def test_a_credential_loads_its_client() -> None:
    loaded = _loaded({"live_dataverse_token": "t0ken-for-the-test", "live_dataverse_url": "https://org.example"})
    assert "httpx" in loaded
    assert "tenant.clients.dataverse" in loaded
    assert "tenant.clients.salesforce" not in loaded
