"""Forged bearer tokens on /api/messages with auth on: each is a quick 401, never a 500, and costs no network.

A fake OpenID metadata + JWKS server on 127.0.0.1 publishes an RSA key made here; botbuilder's channel validation
is pointed at it through `ChannelValidation.open_id_metadata_endpoint` (its own override, read per request).
One correctly signed token gets through, so the table can fail. Then the key cache of `bot/sdk/openid.py` alone:
refresh rules, remembered failures, one fetch shared by concurrent callers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import AuthenticationConstants, ChannelValidation
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.app import create_app
from bot.sdk import openid
from bot.settings import Settings

APP_ID = "3f2a1c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
KID = "fake-kid-1"
SERVICE_URL = "http://127.0.0.1:9/"  # never called: the turns ask for expectReplies
ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER  # https://api.botframework.com
ENDORSEMENTS = ["webchat", "msteams"]
FAST = 1.0  # seconds a refusal may take
ELAPSED: dict[str, float] = {}  # case → seconds, printed after the module (run with -s to see them)


# --- keys and tokens -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    signing: rsa.RSAPrivateKey  # published under KID
    other: rsa.RSAPrivateKey  # published nowhere

    def public_pem(self) -> bytes:
        return self.signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(*(rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)))


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": APP_ID, "serviceurl": SERVICE_URL, "nbf": now - 60, "exp": now + 600}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _rs256(key: rsa.RSAPrivateKey, kid: str | None = KID, **overrides: Any) -> str:
    headers = {"kid": kid} if kid else {}
    return jwt.encode(_claims(**overrides), key, algorithm="RS256", headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unsigned(header: dict[str, Any], signature: bytes = b"") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}.{_b64(signature)}"


def _alg_confusion(keys: Keys) -> str:
    """HS256 with the published public key as the HMAC secret (PyJWT refuses to make one, so by hand)."""
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": KID}).rsplit(".", 1)[0]
    mac = hmac.new(keys.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str]) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": kid, "use": "sig", "endorsements": endorsements}


# --- fakes -----------------------------------------------------------------------------------------------------


@dataclass
class FakeIdp:
    """OpenID metadata at `metadata_url`, its JWKS at /keys; `hang` holds every answer until `release` is set."""

    keys: list[dict[str, Any]]
    metadata_url: str = ""
    hits: list[str] = field(default_factory=list)
    hang: bool = False
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def idp(aiohttp_server: Callable[..., Awaitable[TestServer]], keys: Keys) -> AsyncIterator[FakeIdp]:
    fake = FakeIdp([_jwk(keys.signing, KID, ENDORSEMENTS)])

    async def answer(request: web.Request) -> web.Response:
        fake.hits.append(request.path)
        if fake.hang:
            fake.entered.set()
            await asyncio.wait_for(fake.release.wait(), 10)
        if request.path == "/keys":
            return web.json_response({"keys": fake.keys})
        return web.json_response({"issuer": ISSUER, "jwks_uri": str(request.url.with_path("/keys"))})

    app = web.Application()
    app.router.add_get("/v1/.well-known/openidconfiguration", answer)
    app.router.add_get("/keys", answer)
    server = await aiohttp_server(app, host="127.0.0.1")
    fake.metadata_url = str(server.make_url("/v1/.well-known/openidconfiguration"))
    yield fake
    fake.release.set()  # a hanging handler ends before the server closes


@pytest.fixture(autouse=True)
def _fresh_key_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no keys and no remembered failure, and nothing reaches `requests` (botbuilder's
    blocking key fetch, MSAL): recorded rather than raised, since the auth boundary turns errors into 401s."""
    used: list[str] = []

    def no_requests(session: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        used.append(f"{method} {url}")
        raise ConnectionError("tests use no blocking HTTP")

    monkeypatch.setattr(requests.Session, "request", no_requests)
    openid.CACHE.clear()
    yield
    openid.CACHE.clear()
    assert used == []


@pytest.fixture(scope="module", autouse=True)
def _print_elapsed() -> Iterator[None]:
    """The measured times of the table, for the record (shown with pytest -s)."""
    yield
    for case, seconds in ELAPSED.items():
        print(f"{case:55} {seconds * 1000:7.1f} ms")


@dataclass
class Bot:
    client: TestClient[web.Request, web.Application]

    async def post(self, authorization: str | None, channel_id: str = "webchat") -> tuple[int, Any, float]:
        activity = {
            "type": "message",
            "id": uuid.uuid4().hex,
            "channelId": channel_id,
            "serviceUrl": SERVICE_URL,
            "deliveryMode": "expectReplies",
            "conversation": {"id": "conv-1"},
            "from": {"id": "user-1"},
            "recipient": {"id": APP_ID},
            "locale": "en-US",
            "text": "Solution ID is required",
        }
        headers = {"Authorization": authorization} if authorization is not None else {}
        started = time.perf_counter()
        async with self.client.post("/api/messages", json=activity, headers=headers) as resp:
            body = await resp.json() if resp.content_type == "application/json" else await resp.text()
            return resp.status, body, time.perf_counter() - started


MakeBot = Callable[[str], Awaitable[Bot]]


@pytest.fixture
def make_bot(
    aiohttp_client: Any, make_settings: Callable[..., Settings], knowledge: Any, tmp_path: Path, monkeypatch: Any
) -> MakeBot:
    """`await make_bot(metadata_url)`: the app with auth on, validating channel tokens against that URL."""

    async def make(metadata_url: str) -> Bot:
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", metadata_url)
        settings = make_settings(app_id=APP_ID, app_password="x", database_path=tmp_path / "db.sqlite")
        return Bot(await aiohttp_client(create_app(settings, knowledge=knowledge)))

    return make


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _assert_quiet_refusal(caplog: pytest.LogCaptureFixture, secret: str | None) -> None:
    """One warning from the adapter, no traceback anywhere, no token in the log."""
    assert all(record.exc_info is None and record.levelno < logging.ERROR for record in caplog.records)
    rejections = [r for r in caplog.records if r.name == "bot.adapter" and r.getMessage().startswith("rejected")]
    assert len(rejections) == 1 and rejections[0].levelno == logging.WARNING
    token = (secret or "").partition(" ")[2]
    assert all(part not in caplog.text for part in token.split(".") if len(part) >= 8)


# --- the forged-token table --------------------------------------------------------------------------------------

Header = Callable[[Keys], str | None]
FORGED: list[tuple[str, Header, bool]] = [  # (case, Authorization header, whether the keys may be fetched)
    ("missing header", lambda k: None, False),
    ("wrong scheme", lambda k: "Basic " + _b64(b"user:password"), False),
    ("wrong scheme case", lambda k: "bearer " + _rs256(k.signing), False),
    ("garbage", lambda k: "Bearer not a token!", False),
    ("two segments", lambda k: "Bearer " + _rs256(k.signing).rsplit(".", 1)[0], False),
    ("alg none", lambda k: "Bearer " + _unsigned({"alg": "none", "typ": "JWT", "kid": KID}), False),
    ("alg none, signature", lambda k: "Bearer " + _unsigned({"alg": "none", "kid": KID}, b"sig"), False),
    ("HS256 alg confusion", lambda k: "Bearer " + _alg_confusion(k), False),
    ("header not JSON", lambda k: "Bearer " + _b64(b"{nope") + "." + _rs256(k.signing).split(".", 1)[1], False),
    ("RS256 without kid", lambda k: "Bearer " + _rs256(k.signing, kid=None), False),
    ("no iss claim", lambda k: "Bearer " + _rs256(k.signing, iss=None), False),  # botbuilder: KeyError
    ("wrong issuer", lambda k: "Bearer " + _rs256(k.signing, iss="https://evil.example"), False),
    ("RS256 unknown kid", lambda k: "Bearer " + _rs256(k.signing, kid="unknown-kid"), True),
    ("expired", lambda k: "Bearer " + _rs256(k.signing, exp=int(time.time()) - 3600), True),
    ("not yet valid", lambda k: "Bearer " + _rs256(k.signing, nbf=int(time.time()) + 3600), True),
    ("wrong audience", lambda k: "Bearer " + _rs256(k.signing, aud=str(uuid.uuid4())), True),
    ("serviceurl claim mismatch", lambda k: "Bearer " + _rs256(k.signing, serviceurl="https://x.example/"), True),
    ("other key, known kid", lambda k: "Bearer " + _rs256(k.other), True),
]


@pytest.mark.parametrize(("case", "header", "fetches"), FORGED, ids=[case for case, _, _ in FORGED])
async def test_forged_token_is_a_quick_quiet_401(
    make_bot: MakeBot,
    idp: FakeIdp,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
    case: str,
    header: Header,
    fetches: bool,
) -> None:
    bot = await make_bot(idp.metadata_url)
    authorization = header(keys)
    with caplog.at_level(logging.DEBUG):
        status, body, elapsed = await bot.post(authorization)
    ELAPSED[case] = elapsed
    assert status == 401 and isinstance(body["error"], str) and body["error"]
    assert elapsed < FAST
    if not fetches:
        assert idp.hits == []  # refused before any key lookup
    _assert_quiet_refusal(caplog, authorization)


async def test_channel_not_endorsed_by_the_key_is_401(make_bot: MakeBot, idp: FakeIdp, keys: Keys) -> None:
    """botbuilder raises a bare Exception for this one; the endorsements come from our cache."""
    bot = await make_bot(idp.metadata_url)
    status, body, elapsed = await bot.post("Bearer " + _rs256(keys.signing), channel_id="slack")
    ELAPSED["channel not endorsed"] = elapsed
    assert (status, body) == (401, {"error": "missing or invalid Authorization header"}) and elapsed < FAST


async def test_valid_token_gets_past_auth(make_bot: MakeBot, idp: FakeIdp, keys: Keys) -> None:
    """The positive case: right key, kid, issuer, audience, serviceurl and endorsement → the turn runs."""
    bot = await make_bot(idp.metadata_url)
    status, body, elapsed = await bot.post("Bearer " + _rs256(keys.signing))
    ELAPSED["valid token (turn runs)"] = elapsed
    assert status == 200, body
    assert any(a["type"] == "message" for a in body["activities"])
    assert idp.hits == ["/v1/.well-known/openidconfiguration", "/keys"]
    status, _, _ = await bot.post("Bearer " + _rs256(keys.signing))
    assert status == 200 and len(idp.hits) == 2  # keys cached


async def test_unreachable_metadata_is_401_and_the_failure_is_remembered(
    make_bot: MakeBot, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot(f"http://127.0.0.1:{_closed_port()}/.well-known/openidconfiguration")
    for attempt in ("metadata unreachable", "metadata unreachable, again (cached failure)"):
        caplog.clear()
        status, body, elapsed = await bot.post("Bearer " + _rs256(keys.signing))
        ELAPSED[attempt] = elapsed
        assert (status, body) == (401, {"error": "signing keys unavailable"}) and elapsed < FAST
        assert all(record.exc_info is None for record in caplog.records)


async def test_a_failed_fetch_is_not_retried_within_the_failure_ttl(make_bot: MakeBot, keys: Keys) -> None:
    """A metadata server that drops every connection: two forged requests, one connection."""
    connections = 0

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        bot = await make_bot(f"http://127.0.0.1:{port}/.well-known/openidconfiguration")
        for attempt in ("metadata drops connection", "metadata drops connection, again (cached failure)"):
            status, body, elapsed = await bot.post("Bearer " + _rs256(keys.signing))
            ELAPSED[attempt] = elapsed
            assert (status, body) == (401, {"error": "signing keys unavailable"}) and elapsed < FAST
        assert connections == 1
    finally:
        server.close()
        await server.wait_closed()


async def test_hanging_metadata_never_stalls_healthz(
    make_bot: MakeBot, idp: FakeIdp, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openid.CACHE, "timeout", 0.5)  # the production budget is 5 s
    idp.hang = True
    bot = await make_bot(idp.metadata_url)
    pending = asyncio.create_task(bot.post("Bearer " + _rs256(keys.signing)))
    await asyncio.wait_for(idp.entered.wait(), FAST)  # the fetch is in flight, and hangs
    started = time.perf_counter()
    async with bot.client.get("/healthz") as resp:
        assert resp.status == 200
    ELAPSED["/healthz while metadata hangs"] = healthz = time.perf_counter() - started
    assert healthz < 0.5 and not pending.done()
    status, body, elapsed = await pending
    ELAPSED["metadata hangs"] = elapsed
    assert (status, body) == (401, {"error": "signing keys unavailable"}) and elapsed < FAST


# --- the key cache alone ---------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeFetcher:
    """Stands in for `fetch_signing_keys`: answers `result` (or raises it), optionally waiting for `gate`."""

    result: dict[str, openid.SigningKey] | Exception
    calls: int = 0
    gate: asyncio.Event | None = None

    async def __call__(self, url: str, total_seconds: float) -> dict[str, openid.SigningKey]:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


KEY = openid.SigningKey(public_key=object(), endorsements=["webchat"])
URL = "https://login.example/v1/.well-known/openidconfiguration"


def _metadata(fetcher: FakeFetcher, clock: FakeClock) -> openid.OpenIdMetadata:
    return openid.OpenIdMetadataCache(fetcher=fetcher, clock=clock).metadata(URL)


async def test_keys_are_cached_for_a_day() -> None:
    fetcher, clock = FakeFetcher({KID: KEY}), FakeClock()
    metadata = _metadata(fetcher, clock)
    assert await metadata.get(KID) is KEY
    clock.now += openid.REFRESH_AFTER - 1
    assert await metadata.get(KID) is KEY and fetcher.calls == 1
    clock.now += 1
    assert await metadata.get(KID) is KEY and fetcher.calls == 2


async def test_an_unknown_kid_refreshes_at_most_once_an_hour() -> None:
    fetcher, clock = FakeFetcher({KID: KEY}), FakeClock()
    metadata = _metadata(fetcher, clock)
    await metadata.get(KID)
    clock.now += 60
    for _ in range(3):
        with pytest.raises(openid.UnknownSigningKey):
            await metadata.get("rotated-in")
    assert fetcher.calls == 1  # keys fetched a minute ago: no refresh
    clock.now += openid.UNKNOWN_KID_REFRESH_AFTER
    fetcher.result = {KID: KEY, "rotated-in": KEY}
    assert await metadata.get("rotated-in") is KEY and fetcher.calls == 2
    with pytest.raises(openid.UnknownSigningKey):
        await metadata.get("forged")
    assert fetcher.calls == 2


async def test_a_token_without_kid_fails_without_a_fetch() -> None:
    fetcher = FakeFetcher({KID: KEY})
    with pytest.raises(openid.UnknownSigningKey):
        await _metadata(fetcher, FakeClock()).get(None)
    assert fetcher.calls == 0


async def test_a_failed_fetch_is_remembered_for_the_failure_ttl() -> None:
    fetcher, clock = FakeFetcher(openid.SigningKeysUnavailable("ConnectError")), FakeClock()
    metadata = _metadata(fetcher, clock)
    for _ in range(3):
        with pytest.raises(openid.SigningKeysUnavailable):
            await metadata.get(KID)
        clock.now += openid.FAILURE_TTL / 4
    assert fetcher.calls == 1
    clock.now += openid.FAILURE_TTL / 4
    fetcher.result = {KID: KEY}
    assert await metadata.get(KID) is KEY and fetcher.calls == 2


async def test_last_good_keys_are_served_while_refreshes_fail_up_to_max_age() -> None:
    fetcher, clock = FakeFetcher({KID: KEY}), FakeClock()
    metadata = _metadata(fetcher, clock)
    await metadata.get(KID)
    fetcher.result = openid.SigningKeysUnavailable("ConnectTimeout")
    clock.now += openid.REFRESH_AFTER
    assert await metadata.get(KID) is KEY and fetcher.calls == 2  # refresh failed, yesterday's keys serve
    assert await metadata.get(KID) is KEY and fetcher.calls == 2  # and the failure is remembered
    clock.now += openid.MAX_KEY_AGE - openid.REFRESH_AFTER
    with pytest.raises(openid.SigningKeysUnavailable):
        await metadata.get(KID)  # too old now: fail closed


async def test_concurrent_callers_share_one_fetch() -> None:
    fetcher = FakeFetcher({KID: KEY}, gate=asyncio.Event())
    metadata = _metadata(fetcher, FakeClock())
    callers = [asyncio.create_task(metadata.get(KID)) for _ in range(20)]
    await asyncio.sleep(0)
    fetcher.gate.set()  # type: ignore[union-attr]
    assert await asyncio.gather(*callers) == [KEY] * 20
    assert fetcher.calls == 1


async def test_concurrent_callers_share_one_failure() -> None:
    fetcher = FakeFetcher(openid.SigningKeysUnavailable("ReadTimeout"), gate=asyncio.Event())
    metadata = _metadata(fetcher, FakeClock())
    callers = [asyncio.create_task(metadata.get(KID)) for _ in range(5)]
    await asyncio.sleep(0)
    fetcher.gate.set()  # type: ignore[union-attr]
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, openid.SigningKeysUnavailable) for r in results) and fetcher.calls == 1


async def test_a_cancelled_caller_leaves_the_fetch_to_the_others() -> None:
    fetcher = FakeFetcher({KID: KEY}, gate=asyncio.Event())
    metadata = _metadata(fetcher, FakeClock())
    first, second = asyncio.create_task(metadata.get(KID)), asyncio.create_task(metadata.get(KID))
    await asyncio.sleep(0)
    first.cancel()
    fetcher.gate.set()  # type: ignore[union-attr]
    assert await second is KEY and fetcher.calls == 1
    with pytest.raises(asyncio.CancelledError):
        await first


def test_install_is_idempotent_and_botbuilder_uses_the_cache() -> None:
    openid.install()
    openid.install()
    assert JwtTokenExtractor.get_open_id_metadata == openid.CACHE.metadata
    assert isinstance(JwtTokenExtractor.get_open_id_metadata(URL), openid.OpenIdMetadata)
    assert JwtTokenExtractor.get_open_id_metadata(URL) is openid.CACHE.metadata(URL)


# --- fetch_signing_keys against a local server -------------------------------------------------------------------


@pytest.fixture
async def documents(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> dict[str, Any]:
    """Whatever `documents[path]` holds is served at that path (bytes as is, else JSON); missing → 404."""
    served: dict[str, Any] = {}

    async def answer(request: web.Request) -> web.Response:
        if request.path not in served:
            return web.Response(status=404)
        body = served[request.path]
        return web.Response(body=body) if isinstance(body, bytes) else web.json_response(body)

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    server = await aiohttp_server(app, host="127.0.0.1")
    served["base"] = str(server.make_url("")).rstrip("/")
    return served


async def test_fetch_signing_keys_parses_the_usable_keys(documents: dict[str, Any], keys: Keys) -> None:
    base = documents["base"]
    documents["/meta"] = {"jwks_uri": f"{base}/keys"}
    documents["/keys"] = {
        "keys": [
            _jwk(keys.signing, KID, ENDORSEMENTS),
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},  # not RSA
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},  # unparseable
            _jwk(keys.other, "enc", []) | {"use": "enc"},  # not for signatures
            "not a key",
        ]
    }
    found = await openid.fetch_signing_keys(f"{base}/meta", 5.0)
    assert list(found) == [KID] and found[KID].endorsements == ENDORSEMENTS
    assert found[KID].public_key.public_numbers() == keys.signing.public_key().public_numbers()


@pytest.mark.parametrize(
    ("meta", "jwks"),
    [
        (None, None),  # 404
        (b"<html>", None),  # not JSON
        ({"issuer": ISSUER}, None),  # no jwks_uri
        ({"jwks_uri": "{base}/keys"}, {"keys": []}),  # no key
        ({"jwks_uri": "{base}/keys"}, None),  # the key set is missing
        ({"jwks_uri": "ftp://127.0.0.1/keys"}, None),  # not http(s)
        ({"jwks_uri": "{base}/keys"}, b"x" * (openid._MAX_DOCUMENT_BYTES + 1)),  # too big to be a key set
    ],
    ids=["404", "not-json", "no-jwks-uri", "no-keys", "jwks-404", "bad-scheme", "oversized"],
)
async def test_fetch_signing_keys_failures_are_signing_keys_unavailable(
    documents: dict[str, Any], meta: Any, jwks: Any
) -> None:
    base = documents["base"]
    if meta is not None:
        documents["/meta"] = json.loads(json.dumps(meta).replace("{base}", base)) if isinstance(meta, dict) else meta
    if jwks is not None:
        documents["/keys"] = jwks
    with pytest.raises(openid.SigningKeysUnavailable):
        await openid.fetch_signing_keys(f"{base}/meta", 5.0)
