"""Salesforce OAuth (tenant/auth/salesforce.py): the exact token requests of both grants, caching, one sign-in for
concurrent callers, 401 → sign in again once, plain secret-free errors, the config built from the settings
(bot.live.salesforce_auth_config), the wiring in build_live_checks, and the Salesforce checks passing end to end over
HTTP against the sandbox with client credentials and with JWT bearer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from bot.live import salesforce_auth_config
from bot.settings import Settings
from bot.wiring import build_live_checks
from devtools.sandbox import HOST, create_sandbox_app, load_scenario
from devtools.sandbox.salesforce import SANDBOX_SF_CLIENT_ID, SANDBOX_SF_CLIENT_SECRET
from stores.sqlite.database import SqliteDatabase
from tenant.auth.salesforce import (
    PENDING_INSTANCE_URL,
    SalesforceAuth,
    SalesforceAuthConfig,
    SalesforceTokenProvider,
    salesforce_token_provider,
)
from tenant.base import LiveCheckFailed, LiveCheckUnavailable, Status, System
from tenant.clients.salesforce import SalesforceClient
from tenant.clients.transport import BearerAuth

MY_DOMAIN = "https://acme.my.salesforce.com"
TOKEN_URL = f"{MY_DOMAIN}/services/oauth2/token"
LOGIN_URL = "https://login.salesforce.com/services/oauth2/token"
CLIENT_ID = "3MVG9-test-consumer-key"
SECRET = "s3cr3t-consumer-secret-value"
USERNAME = "integration@acme.example"
SF_CHECKS = ["sf-customize-application", "sf-currency", "sf-api-quota"]
LIMITS = {"DailyApiRequests": {"Max": 15000, "Remaining": 14000}}


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    """A throwaway RSA key generated for these tests (never committed, never used outside them)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey | None = None) -> str:
    return (
        (key or rsa_key())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def public_pem(key: rsa.RSAPrivateKey | None = None) -> str:
    public = (key or rsa_key()).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class FakeSalesforce:
    """Token endpoint + REST API behind one MockTransport: records every request, issues at-1, at-2, …"""

    def __init__(
        self,
        *,
        token_status: int = 200,
        token_body: Any = None,
        refused_tokens: set[str] | None = None,
        instance_url: str | None = MY_DOMAIN,
        delay: float = 0.0,
    ) -> None:
        self.token_requests: list[httpx.Request] = []
        self.rest_requests: list[httpx.Request] = []
        self.bearers: list[str] = []  # the Authorization of each REST request as it arrived (retries reuse the object)
        self.token_status = token_status
        self.token_body = token_body
        self.refused_tokens = refused_tokens or set()
        self.instance_url = instance_url
        self.delay = delay

    @property
    def forms(self) -> list[dict[str, str]]:
        return [{k: v[0] for k, v in parse_qs(r.content.decode()).items()} for r in self.token_requests]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/services/oauth2/token":
            self.token_requests.append(request)
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.token_body is not None or self.token_status != 200:
                return httpx.Response(self.token_status, json=self.token_body)
            body = {
                "access_token": f"at-{len(self.token_requests)}",
                "id": "https://login.salesforce.com/id/00D000000000001/005000000000001",
                "token_type": "Bearer",
                "issued_at": "1700000000000",
                "signature": "c2lnbmF0dXJl",
            }
            if self.instance_url is not None:
                body["instance_url"] = self.instance_url
            return httpx.Response(200, json=body)
        self.rest_requests.append(request)
        self.bearers.append(request.headers.get("Authorization", ""))
        if self.bearers[-1].removeprefix("Bearer ") in self.refused_tokens:
            return httpx.Response(
                401, json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        return httpx.Response(200, json=LIMITS)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def cc_provider(fake: FakeSalesforce, **kwargs: Any) -> SalesforceTokenProvider:
    return SalesforceTokenProvider(
        token_url=TOKEN_URL, client_id=CLIENT_ID, client_secret=SECRET, transport=fake.transport(), **kwargs
    )


def jwt_provider(fake: FakeSalesforce, **kwargs: Any) -> SalesforceTokenProvider:
    kwargs.setdefault("token_url", LOGIN_URL)
    return SalesforceTokenProvider(
        client_id=CLIENT_ID, username=USERNAME, private_key=rsa_key(), transport=fake.transport(), **kwargs
    )


# --- the token requests ----------------------------------------------------------------------------------------------


async def test_client_credentials_request_is_exact() -> None:
    fake = FakeSalesforce()
    provider = cc_provider(fake)
    assert await provider() == "at-1"
    (request,) = fake.token_requests
    assert request.method == "POST" and str(request.url) == TOKEN_URL
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert fake.forms == [{"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}]
    assert provider.flow == "client_credentials" and SECRET not in repr(provider)
    await provider.aclose()


@pytest.mark.parametrize(
    ("token_url", "audience", "expected_aud"),
    [
        (LOGIN_URL, "", "https://login.salesforce.com"),
        ("https://test.salesforce.com/services/oauth2/token", "", "https://test.salesforce.com"),
        (TOKEN_URL, "https://login.salesforce.com/", "https://login.salesforce.com"),
    ],
)
async def test_jwt_bearer_request_and_assertion(token_url: str, audience: str, expected_aud: str) -> None:
    fake = FakeSalesforce()
    provider = jwt_provider(fake, token_url=token_url, audience=audience)
    before = int(time.time())
    assert await provider() == "at-1"
    (request,) = fake.token_requests
    assert request.method == "POST" and str(request.url) == token_url
    (form,) = fake.forms
    assert set(form) == {"grant_type", "assertion"}
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert jwt.get_unverified_header(form["assertion"])["alg"] == "RS256"
    claims = jwt.decode(form["assertion"], public_pem(), algorithms=["RS256"], audience=expected_aud)
    assert (claims["iss"], claims["sub"], claims["aud"]) == (CLIENT_ID, USERNAME, expected_aud)
    assert before < claims["exp"] <= int(time.time()) + 180  # within 3 minutes
    assert provider.flow == "jwt_bearer"
    await provider.aclose()


# --- caching and concurrency -----------------------------------------------------------------------------------------


async def test_token_is_cached_for_its_lifetime() -> None:
    now = [1000.0]
    fake = FakeSalesforce()
    provider = cc_provider(fake, ttl=900, clock=lambda: now[0])
    assert await provider() == "at-1"
    now[0] += 899
    assert await provider() == "at-1"
    assert len(fake.token_requests) == 1  # the second call made no request
    now[0] += 2
    assert await provider() == "at-2"
    assert len(fake.token_requests) == 2
    await provider.aclose()


async def test_concurrent_callers_share_one_sign_in() -> None:
    fake = FakeSalesforce(delay=0.02)
    provider = jwt_provider(fake)
    tokens = await asyncio.gather(*(provider() for _ in range(10)))
    assert set(tokens) == {"at-1"} and len(fake.token_requests) == 1
    await provider.aclose()


async def test_invalidate_keeps_a_newer_token() -> None:
    fake = FakeSalesforce()
    provider = cc_provider(fake)
    assert await provider() == "at-1"
    provider.invalidate("at-1")
    assert await provider() == "at-2"
    provider.invalidate("at-1")  # a late caller reporting the old token does not drop the new one
    assert await provider() == "at-2" and len(fake.token_requests) == 2
    await provider.aclose()


# --- 401 from the REST API -------------------------------------------------------------------------------------------


async def test_401_signs_in_again_once_and_retries() -> None:
    fake = FakeSalesforce(refused_tokens={"at-1"})
    provider = cc_provider(fake)
    async with httpx.AsyncClient(base_url=MY_DOMAIN, transport=fake.transport()) as http:
        http.auth = SalesforceAuth(provider)
        limits = await SalesforceClient(http).limits()
        assert limits.daily_remaining == 14000
        assert len(fake.token_requests) == 2  # the first sign-in and exactly one new one
        assert fake.bearers == ["Bearer at-1", "Bearer at-2"]
        await SalesforceClient(http).limits()
        assert len(fake.token_requests) == 2  # the new token is cached
    await provider.aclose()


async def test_401_with_a_fresh_token_is_a_plain_refusal() -> None:
    fake = FakeSalesforce(refused_tokens={"at-1", "at-2"})
    provider = cc_provider(fake)
    async with httpx.AsyncClient(base_url=MY_DOMAIN, transport=fake.transport()) as http:
        http.auth = SalesforceAuth(provider)
        with pytest.raises(LiveCheckFailed) as refused:
            await SalesforceClient(http).limits()
    assert refused.value.status == 401 and "INVALID_SESSION_ID" in str(refused.value)
    assert len(fake.token_requests) == 2 and len(fake.rest_requests) == 2  # one retry, no loop
    await provider.aclose()


# --- errors ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["client_credentials", "jwt_bearer"])
async def test_invalid_grant_is_plain_and_secret_free(flow: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
    fake = FakeSalesforce(token_status=400, token_body=body)
    provider = cc_provider(fake) if flow == "client_credentials" else jwt_provider(fake)
    with pytest.raises(LiveCheckFailed) as refused:
        await provider()
    message = str(refused.value)
    assert message == "Salesforce refused the sign-in: invalid_grant (user hasn't approved this consumer)."
    assert (
        refused.value.message_it
        == "Salesforce ha rifiutato l'accesso: invalid_grant (user hasn't approved this consumer)."
    )
    assert refused.value.system == System.salesforce and refused.value.status == 400
    form = fake.forms[0]
    pem_body = "".join(private_pem().splitlines()[1:-1])
    for leaked in (SECRET, form.get("assertion", SECRET), pem_body[:40], pem_body[-40:]):
        assert leaked not in message and leaked not in refused.value.message_it and leaked not in caplog.text
    await provider.aclose()


async def test_invalid_client_and_a_description_echoing_the_secret() -> None:
    body = {"error": "invalid_client", "error_description": f"bad secret {SECRET}"}
    provider = cc_provider(FakeSalesforce(token_status=400, token_body=body))
    with pytest.raises(LiveCheckFailed) as refused:
        await provider()
    assert str(refused.value) == "Salesforce refused the sign-in: invalid_client."
    await provider.aclose()


def _raise_connect(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _raise_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (_raise_connect, "Salesforce could not be reached to sign in."),
        (_raise_timeout, "Salesforce did not answer the sign-in in time."),
        (lambda request: httpx.Response(503, text="down"), "Salesforce answered 503 to the sign-in"),
        (lambda request: httpx.Response(429, json={}), "Salesforce answered 429 to the sign-in"),
    ],
)
async def test_outages_are_unavailable(handler: Callable[[httpx.Request], httpx.Response], expected: str) -> None:
    provider = SalesforceTokenProvider(
        token_url=TOKEN_URL, client_id=CLIENT_ID, client_secret=SECRET, transport=httpx.MockTransport(handler)
    )
    with pytest.raises(LiveCheckUnavailable) as unavailable:
        await provider()
    assert str(unavailable.value).startswith(expected) and SECRET not in str(unavailable.value)
    await provider.aclose()


@pytest.mark.parametrize("body", [{"instance_url": MY_DOMAIN}, ["not", "a", "dict"], {"access_token": ""}])
async def test_answer_without_a_token_is_failed(body: Any) -> None:
    provider = cc_provider(FakeSalesforce(token_body=body))
    with pytest.raises(LiveCheckFailed, match="without an access token"):
        await provider()
    await provider.aclose()


def test_provider_refuses_an_incomplete_flow() -> None:
    with pytest.raises(ValueError, match="username"):
        SalesforceTokenProvider(token_url=LOGIN_URL, client_id=CLIENT_ID, private_key=rsa_key())
    with pytest.raises(ValueError, match="secret"):
        SalesforceTokenProvider(token_url=TOKEN_URL, client_id=CLIENT_ID)


# --- the config, from the settings -----------------------------------------------------------------------------------


def test_salesforce_auth_config_maps_the_settings(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    client = salesforce_auth_config(
        make_settings(
            live_salesforce_client_id=CLIENT_ID,
            live_salesforce_client_secret=SECRET,
            live_salesforce_token_url=TOKEN_URL,
            live_salesforce_token_ttl=600,
            live_check_timeout=7.5,
        )
    )
    assert client == SalesforceAuthConfig(
        flow="client_credentials",
        token_url=TOKEN_URL,
        client_id=CLIENT_ID,
        client_secret=SecretStr(SECRET),
        ttl=600,
        timeout=7.5,
    )
    key_file = tmp_path / "connected-app.key"
    key_file.write_text(private_pem(), encoding="utf-8")
    bearer = salesforce_auth_config(
        make_settings(
            live_salesforce_client_id=CLIENT_ID,
            live_salesforce_username=USERNAME,
            live_salesforce_private_key_file=str(key_file),
            live_salesforce_token_url="https://test.salesforce.com/services/oauth2/token",
            live_salesforce_audience="https://test.salesforce.com",
        )
    )
    assert bearer is not None and bearer.flow == "jwt_bearer"
    assert bearer.private_key_pem.get_secret_value() == private_pem().strip()  # read from the file
    assert (bearer.client_id, bearer.username, bearer.audience) == (CLIENT_ID, USERNAME, "https://test.salesforce.com")
    assert (bearer.ttl, bearer.timeout) == (900, 4.0)
    assert SECRET not in repr(client) and "PRIVATE KEY" not in repr(bearer)
    # a static token, or nothing, is no OAuth flow
    assert salesforce_auth_config(make_settings(live_salesforce_url=MY_DOMAIN, live_salesforce_token="t")) is None
    assert salesforce_auth_config(make_settings()) is None


async def test_provider_from_a_config() -> None:
    fake = FakeSalesforce()
    client = SalesforceAuthConfig(
        flow="client_credentials", token_url=TOKEN_URL, client_id=CLIENT_ID, client_secret=SecretStr(SECRET), ttl=600
    )
    provider = salesforce_token_provider(client, transport=fake.transport())
    assert (provider.flow, provider.ttl, provider.http.timeout.read) == ("client_credentials", 600, 5.0)
    assert await provider() == "at-1" and fake.forms[0]["client_secret"] == SECRET
    await provider.aclose()

    bearer = SalesforceAuthConfig(
        flow="jwt_bearer",
        token_url=LOGIN_URL,
        client_id=CLIENT_ID,
        username=USERNAME,
        private_key_pem=SecretStr(private_pem()),
        timeout=2.0,
    )
    provider = salesforce_token_provider(bearer, transport=fake.transport())
    assert (provider.flow, provider.audience, provider.http.timeout.read) == (
        "jwt_bearer",
        "https://login.salesforce.com",
        2.0,
    )
    assert await provider() == "at-2"
    claims = jwt.decode(fake.forms[1]["assertion"], public_pem(), algorithms=["RS256"], audience=provider.audience)
    assert (claims["iss"], claims["sub"]) == (CLIENT_ID, USERNAME)
    await provider.aclose()

    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    with pytest.raises(ValueError, match="not an RSA key"):
        salesforce_token_provider(
            SalesforceAuthConfig("jwt_bearer", LOGIN_URL, CLIENT_ID, private_key_pem=SecretStr(ec_pem))
        )


# --- wiring in build_live_checks -------------------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Any:
    db = SqliteDatabase(tmp_path / "sf.db")
    yield db
    db.close()


async def test_live_checks_use_the_token_response_instance_url(
    make_settings: Callable[..., Settings], database: SqliteDatabase
) -> None:
    settings = make_settings(
        live_salesforce_client_id=CLIENT_ID,
        live_salesforce_client_secret=SECRET,
        live_salesforce_token_url=TOKEN_URL,
        live_salesforce_token="static-token-ignored-by-oauth",
    )
    fake = FakeSalesforce(instance_url="https://acme--instance.my.salesforce.com/")
    live = build_live_checks(settings, database, transport=fake.transport())
    try:
        sf = live.clients[System.salesforce]
        assert str(sf._http.base_url).rstrip("/") == PENDING_INSTANCE_URL
        assert isinstance(sf._http.auth, SalesforceAuth)
        assert (await sf.limits()).daily_max == 15000
        (rest,) = fake.rest_requests
        assert str(rest.url) == "https://acme--instance.my.salesforce.com/services/data/v59.0/limits"
        assert rest.headers["Host"] == "acme--instance.my.salesforce.com"
        assert rest.headers["Authorization"] == "Bearer at-1"
    finally:
        await live.close()
    assert live.clients[System.salesforce]._http.auth.provider.http.is_closed  # the token client is closed too


async def test_live_checks_prefer_the_configured_instance_url(
    make_settings: Callable[..., Settings], database: SqliteDatabase
) -> None:
    settings = make_settings(
        live_salesforce_url="https://configured.my.salesforce.com",
        live_salesforce_client_id=CLIENT_ID,
        live_salesforce_username=USERNAME,
        live_salesforce_private_key=private_pem(),
    )
    fake = FakeSalesforce(instance_url=None)  # the configured URL needs none from the token response
    live = build_live_checks(settings, database, transport=fake.transport())
    try:
        await live.clients[System.salesforce].limits()
        assert str(fake.rest_requests[0].url).startswith("https://configured.my.salesforce.com/services/data/")
        assert fake.forms[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        assert str(fake.token_requests[0].url) == LOGIN_URL
    finally:
        await live.close()


async def test_no_instance_url_anywhere_is_a_plain_failure(
    make_settings: Callable[..., Settings], database: SqliteDatabase
) -> None:
    settings = make_settings(
        live_salesforce_client_id=CLIENT_ID, live_salesforce_client_secret=SECRET, live_salesforce_token_url=TOKEN_URL
    )
    fake = FakeSalesforce(instance_url="http://not-loopback.example")  # plain http off this machine: not used
    live = build_live_checks(settings, database, transport=fake.transport())
    try:
        with pytest.raises(LiveCheckFailed, match="COSELL_LIVE_SALESFORCE_URL"):
            await live.clients[System.salesforce].limits()
        assert fake.rest_requests == []
    finally:
        await live.close()


async def test_static_token_path_is_unchanged(make_settings: Callable[..., Settings], database: SqliteDatabase) -> None:
    settings = make_settings(live_salesforce_url=MY_DOMAIN, live_salesforce_token="static-token")
    fake = FakeSalesforce()
    live = build_live_checks(settings, database, transport=fake.transport())
    try:
        sf = live.clients[System.salesforce]
        assert isinstance(sf._http.auth, BearerAuth)
        await sf.limits()
        assert fake.token_requests == [] and fake.rest_requests[0].headers["Authorization"] == "Bearer static-token"
    finally:
        await live.close()
    no_url = build_live_checks(make_settings(live_salesforce_token="static-token"), database)
    assert System.salesforce not in no_url.clients  # the static token still needs the instance URL
    await no_url.close()


# --- end to end against the sandbox (real HTTP on 127.0.0.1) --------------------------------------------------------


async def _sweep_salesforce(settings: Settings, database: SqliteDatabase) -> dict[str, Any]:
    live = build_live_checks(settings, database)
    try:
        assert "salesforce" in live.credentials
        sweep = await live.sweep(ids=SF_CHECKS)
    finally:
        await live.close()
    return {r.id: r for r in sweep.results}


async def test_sandbox_checks_pass_with_client_credentials(
    aiohttp_server: Any, make_settings: Callable[..., Settings], database: SqliteDatabase
) -> None:
    server = await aiohttp_server(create_sandbox_app(load_scenario("healthy")), host=HOST)
    settings = make_settings(
        live_salesforce_client_id=SANDBOX_SF_CLIENT_ID,
        live_salesforce_client_secret=SANDBOX_SF_CLIENT_SECRET,
        live_salesforce_token_url=f"http://{HOST}:{server.port}/salesforce/services/oauth2/token",
    )  # no instance URL: it comes from the token response
    results = await _sweep_salesforce(settings, database)
    assert set(results) == set(SF_CHECKS)
    assert {r.status for r in results.values()} == {Status.passed}, results


async def test_sandbox_checks_pass_with_jwt_bearer(
    aiohttp_server: Any, make_settings: Callable[..., Settings], database: SqliteDatabase
) -> None:
    app = create_sandbox_app(load_scenario("healthy"), salesforce_jwt_public_key=public_pem())
    server = await aiohttp_server(app, host=HOST)
    settings = make_settings(
        live_salesforce_client_id=SANDBOX_SF_CLIENT_ID,
        live_salesforce_username="ada.rossi@contoso.example.sbx",
        live_salesforce_private_key=private_pem(),
        live_salesforce_token_url=f"http://{HOST}:{server.port}/salesforce/services/oauth2/token",
        live_salesforce_audience="https://login.salesforce.com",
    )
    results = await _sweep_salesforce(settings, database)
    assert {r.status for r in results.values()} == {Status.passed}, results


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"live_salesforce_client_secret": "wrong"}, "invalid_client (invalid client credentials)"),
        ({"live_salesforce_client_id": "other-app"}, "invalid_client_id (client identifier invalid)"),
        ({"jwt": True, "live_salesforce_username": "nobody@example.sbx"}, "user hasn't approved this consumer"),
        ({"jwt": True, "live_salesforce_audience": "https://elsewhere.example"}, "audience is invalid"),
        ({"jwt": True, "live_salesforce_private_key": "other-key"}, "invalid_grant (invalid assertion)"),
    ],
)
async def test_sandbox_refusals_reach_the_checks_as_plain_errors(
    aiohttp_server: Any,
    make_settings: Callable[..., Settings],
    database: SqliteDatabase,
    overrides: dict[str, Any],
    expected: str,
) -> None:
    app = create_sandbox_app(load_scenario("healthy"), salesforce_jwt_public_key=public_pem())
    server = await aiohttp_server(app, host=HOST)
    values: dict[str, Any] = {
        "live_salesforce_client_id": SANDBOX_SF_CLIENT_ID,
        "live_salesforce_token_url": f"http://{HOST}:{server.port}/salesforce/services/oauth2/token",
    }
    if overrides.pop("jwt", False):
        values |= {
            "live_salesforce_username": "ada.rossi@contoso.example.sbx",
            "live_salesforce_private_key": private_pem(),
        }
    else:
        values["live_salesforce_client_secret"] = SANDBOX_SF_CLIENT_SECRET
    if overrides.get("live_salesforce_private_key") == "other-key":
        overrides["live_salesforce_private_key"] = private_pem(rsa.generate_private_key(65537, 2048))
    results = await _sweep_salesforce(make_settings(**(values | overrides)), database)
    for result in results.values():
        assert result.status == Status.error and expected in result.summary, result
        assert "wrong" not in result.summary and "PRIVATE KEY" not in result.summary


async def test_sandbox_token_endpoint_shapes(aiohttp_server: Any) -> None:
    server = await aiohttp_server(create_sandbox_app(load_scenario("healthy")), host=HOST)
    root = f"http://{HOST}:{server.port}/salesforce"
    async with httpx.AsyncClient(base_url=root) as anonymous:  # no bearer: the token endpoint needs none
        good = {"grant_type": "client_credentials", "client_id": SANDBOX_SF_CLIENT_ID}
        ok = await anonymous.post("/services/oauth2/token", data=good | {"client_secret": SANDBOX_SF_CLIENT_SECRET})
        bad = await anonymous.post("/services/oauth2/token", data=good | {"client_secret": "nope"})
        grant = await anonymous.post("/services/oauth2/token", data={"grant_type": "password"})
        jwt_off = await anonymous.post(
            "/services/oauth2/token",
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x"},
        )
        rest = await anonymous.get("/services/data/v59.0/limits")
    body = ok.json()
    assert ok.status_code == 200 and {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    } <= set(body)
    assert body["instance_url"] == root and "expires_in" not in body and "refresh_token" not in body
    assert bad.status_code == 400 and bad.json() == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    assert jwt_off.status_code == 400 and jwt_off.json()["error"] == "invalid_grant"
    assert rest.status_code == 401  # the REST routes still need a bearer
    async with httpx.AsyncClient(base_url=root, headers={"Authorization": f"Bearer {body['access_token']}"}) as authed:
        assert (await authed.get("/services/data/v59.0/limits")).status_code == 200  # the issued token is accepted


async def test_sandbox_faults_apply_to_the_token_endpoint(aiohttp_server: Any) -> None:
    scenario = load_scenario(
        "healthy", overrides={"faults": [{"systems": ["salesforce"], "status": 503, "message": "down"}]}
    )
    server = await aiohttp_server(create_sandbox_app(scenario), host=HOST)
    provider = SalesforceTokenProvider(
        token_url=f"http://{HOST}:{server.port}/salesforce/services/oauth2/token",
        client_id=SANDBOX_SF_CLIENT_ID,
        client_secret=SANDBOX_SF_CLIENT_SECRET,
    )
    with pytest.raises(LiveCheckUnavailable) as down:
        await provider()
    assert down.value.status == 503
    await provider.aclose()
