"""Abuse limits of the public routes and the loopback rule:

- per-client rate limits on the token, refresh and conversation-creation routes: 429 with Retry-After, other
  clients unaffected, a portal's vouching calls not limited, X-Forwarded-For believed only from trusted proxies;
- a token flood never evicts live conversations: new anonymous ones are refused (503, Retry-After) instead;
- bounded history bytes per conversation;
- with auth off: `serve` refuses a non-loopback bind (unless the lab flag), non-loopback Host headers (DNS
  rebinding, tunnels) get 421.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from aiohttp.test_utils import make_mocked_request

from bot.app import DIRECT_LINE, create_app
from bot.channels.gate import ClientRateLimit, RateLimited, client_key
from bot.loopback import is_loopback_host

BASE = "/v3/directline"
PORTAL_KEY = "portal-key-for-tests-0123456789"


async def _token(client, **kwargs):  # type: ignore[no-untyped-def]
    return await client.post("/api/directline/token", json=kwargs.pop("json", {}), **kwargs)


async def test_token_flood_is_rate_limited_per_client(aiohttp_client, make_settings, knowledge) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(directline_secret="", rate_limit="5/minute", directline_portal_key=PORTAL_KEY)
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    started = time.perf_counter()
    statuses = [(await _token(client)).status for _ in range(8)]
    elapsed = time.perf_counter() - started
    assert statuses == [200] * 5 + [429] * 3
    refused = await _token(client)
    body = await refused.json()
    assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert body["error"]["code"] == "TooManyRequests"
    # the embedded Direct Line's own generate shares the budget of the token family
    assert (await client.post(f"{BASE}/tokens/generate", json={})).status == 429
    # a portal vouching for its users is one server speaking for many: not limited
    vouch = {"Authorization": f"Bearer {PORTAL_KEY}"}
    for n in range(6):
        assert (await _token(client, json={"user": {"id": f"user{n}"}}, headers=vouch)).status == 200
    print(f"\nrate limit: 8 token requests in {elapsed * 1000:.0f} ms, 5 served, 3 refused with 429")


async def test_refresh_and_conversation_creation_are_limited_too(aiohttp_client, make_settings, knowledge) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(directline_secret="", rate_limit="3/minute")
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    data = await (await _token(client)).json()
    auth = {"Authorization": f"Bearer {data['token']}"}
    refreshes = [(await client.post(f"{BASE}/tokens/refresh", headers=auth)).status for _ in range(4)]
    starts = [(await client.post(f"{BASE}/conversations", headers=auth, json={})).status for _ in range(4)]
    assert refreshes == [200, 200, 200, 429] and starts[:3] == [201, 200, 200] and starts[3] == 429
    # the conversation itself keeps working: posting and polling are not creation
    post = await client.post(f"{BASE}/conversations/{data['conversationId']}/activities", headers=auth,
                             json={"type": "message", "text": "prerequisites"})  # fmt: skip
    assert post.status == 200


def _request(remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/api/directline/token", headers=headers)
    request._cache["remote"] = remote  # what aiohttp reads from the transport
    return request


def test_client_key_believes_only_the_trusted_proxies() -> None:
    assert client_key(_request("10.0.0.5", "6.6.6.6"), 0) == "10.0.0.5"  # no proxy trusted: the header is a claim
    assert client_key(_request("10.0.0.5", "6.6.6.6, 203.0.113.9"), 1) == "203.0.113.9"
    assert client_key(_request("10.0.0.5", "203.0.113.9"), 2) == "10.0.0.5"  # fewer entries than hops: the peer
    assert client_key(_request("2001:db8:1:2:3:4:5:6"), 0) == "2001:db8:1:2::/64"
    assert client_key(_request("::ffff:192.0.2.1"), 0) == "192.0.2.1"


def test_other_clients_are_not_affected() -> None:
    limit = ClientRateLimit("2/minute")
    for _ in range(2):
        limit.check(_request("192.0.2.1"), "token")
    with pytest.raises(RateLimited) as refused:
        limit.check(_request("192.0.2.1"), "token")
    assert 1 <= refused.value.retry_after <= 60
    limit.check(_request("192.0.2.2"), "token")  # another client
    limit.check(_request("192.0.2.1"), "refresh")  # another route family


async def test_a_token_flood_never_evicts_live_conversations(aiohttp_client, make_settings, knowledge) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        directline_secret="",
        directline_max_conversations=10,
        rate_limit="1000/minute",
        directline_portal_key=PORTAL_KEY,
    )
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    first = await (await _token(client)).json()
    auth = {"Authorization": f"Bearer {first['token']}"}
    assert (await client.post(f"{BASE}/conversations", headers=auth, json={})).status == 201
    flood = [(await _token(client)).status for _ in range(50)]
    assert flood.count(200) == 9 and flood.count(503) == 41
    full = await _token(client)
    assert full.status == 503 and full.headers["Retry-After"] == "60"
    assert (await full.json())["error"]["code"] == "TooManyConversations"
    # the live conversation is still there and answers
    post = await client.post(f"{BASE}/conversations/{first['conversationId']}/activities", headers=auth,
                             json={"type": "message", "text": "prerequisites"})  # fmt: skip
    assert post.status == 200
    got = await (await client.get(f"{BASE}/conversations/{first['conversationId']}/activities", headers=auth)).json()
    assert any("step 1 of" in (a.get("text") or a.get("summary") or "") for a in got["activities"])
    # a user the portal vouches for still gets in (they have room of their own)
    vouched = await _token(client, json={"user": {"id": "alice"}}, headers={"Authorization": f"Bearer {PORTAL_KEY}"})
    assert vouched.status == 200


async def test_idle_conversations_make_room(aiohttp_client, make_settings, knowledge) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(directline_secret="", directline_max_conversations=10, rate_limit="1000/minute")
    app = create_app(settings, knowledge=knowledge)
    client = await aiohttp_client(app)
    direct_line = app[DIRECT_LINE]
    now = [1000.0]
    direct_line.clock = lambda: now[0]
    assert [(await _token(client)).status for _ in range(11)][-1] == 503
    now[0] += direct_line.token_lifetime + 1  # every token has expired: those conversations are unreachable
    assert (await _token(client)).status == 200


async def test_history_is_bounded_in_bytes(aiohttp_client, make_settings, knowledge) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(directline_secret="", directline_max_history_bytes=16 * 1024)
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    data = await (await _token(client)).json()
    auth = {"Authorization": f"Bearer {data['token']}"}
    url = f"{BASE}/conversations/{data['conversationId']}/activities"
    for n in range(12):
        resp = await client.post(url, headers=auth, json={"type": "message", "text": f"{n} " + "x" * 3000})
        assert resp.status == 200
    got = await (await client.get(url, headers=auth)).json()
    kept = sum(len(str(a)) for a in got["activities"])
    assert kept < 24 * 1024 and int(got["watermark"]) >= 24  # old ones fell off; the watermark still counts all
    assert got["activities"][-1]["from"]["role"] == "bot"


# --- the loopback rule -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("evil.example", False), ("", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_bind_rule(make_settings) -> None:  # type: ignore[no-untyped-def]
    assert make_settings().bind_problem() is None  # 127.0.0.1 by default
    problem = make_settings(host="0.0.0.0").bind_problem()
    assert problem and "auth off" in problem and "COSELL_ALLOW_REMOTE_WITHOUT_AUTH" in problem
    assert make_settings(host="0.0.0.0", allow_remote_without_auth=True).bind_problem() is None
    assert make_settings(host="0.0.0.0", app_id="00000000-0000-4000-8000-0000000000a1").bind_problem() is None


def test_serve_refuses_a_public_bind_without_auth(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COSELL_DATABASE_PATH": str(tmp_path / "db.sqlite")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "0.0.0.0", "--port", "9"],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2 and "refusing to listen on 0.0.0.0" in done.stderr
    assert time.perf_counter() - started < 30


async def test_auth_off_answers_loopback_host_names_only(aiohttp_client, make_settings, knowledge) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(make_settings(directline_secret=""), knowledge=knowledge))
    rebinding = {"Host": "evil.example:3978", "Origin": "http://evil.example:3978"}
    resp = await client.post("/api/directline/token", json={}, headers=rebinding)
    assert resp.status == 421 and "loopback" in (await resp.json())["error"]
    assert (await client.get("/healthz", headers={"Host": "evil.example"})).status == 421
    assert (await client.post("/api/directline/token", json={}, headers={"Host": "localhost:3978"})).status == 200
    lab = make_settings(directline_secret="", allow_remote_without_auth=True)
    lab_client = await aiohttp_client(create_app(lab, knowledge=knowledge))
    assert (await lab_client.get("/healthz", headers={"Host": "lab.example"})).status == 200


def test_refusals_are_logged_at_most_once_a_minute() -> None:
    from bot.channels.gate import LogThrottle

    now = [0.0]
    throttle = LogThrottle(60.0, clock=lambda: now[0])
    assert throttle.due("rate") == 0
    assert [throttle.due("rate") for _ in range(500)] == [None] * 500  # a flood: nothing more logged
    assert throttle.due("full") == 0  # another kind has its own minute
    now[0] = 61.0
    assert throttle.due("rate") == 500  # the next line says how many were held back
