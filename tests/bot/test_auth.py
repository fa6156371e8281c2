"""msal token acquisition through its `http_client` hook: a fake Entra ID, no network."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.auth import MsalApps, MsalTokenProvider, cache_key, dataverse_scope, login, resource_scope
from bot.cli import main
from bot.live import build_live_checks
from bot.settings import Settings
from bot.storage import SqliteDatabase
from tenant.base import CredentialMissing, LiveCheckFailed, System

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"
SECRET = "s3cr3t-client-value"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class FakeResponse:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code = status
        self.text = json.dumps(body)
        self.headers = {"Content-Type": "application/json"}

    def json(self) -> Any:
        return json.loads(self.text)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise OSError(f"HTTP {self.status_code}")


class FakeEntra:
    """Answers OIDC discovery, the device-code endpoint and the token endpoint like Entra ID (v2)."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.gets: list[str] = []
        self.token_requests: list[dict[str, Any]] = []
        self.device_requests = 0
        self.refuse = refuse
        self.device_scope = ""

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> FakeResponse:
        self.gets.append(url)
        if url == f"{AUTHORITY}/v2.0/.well-known/openid-configuration":
            return FakeResponse(
                200,
                {
                    "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token",
                    "device_authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/devicecode",
                    "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
                },
            )
        return FakeResponse(404, {"error": "not_found"})

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **_: Any) -> FakeResponse:
        data = dict(data or {})
        if url == f"{AUTHORITY}/oauth2/v2.0/devicecode":
            self.device_requests += 1
            self.device_scope = str(data.get("scope", ""))
            return FakeResponse(
                200,
                {
                    "device_code": "dc-1",
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 0,
                    "message": "To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH.",
                },
            )
        if url != f"{AUTHORITY}/oauth2/v2.0/token":
            return FakeResponse(404, {"error": "not_found"})
        self.token_requests.append(data)
        if self.refuse:
            return FakeResponse(401, {"error": "invalid_client", "error_description": f"bad secret {SECRET}"})
        number = len(self.token_requests)
        body: dict[str, Any] = {"access_token": f"at-{number}", "token_type": "Bearer", "expires_in": 3600}
        if data.get("grant_type") != "client_credentials":
            now = int(time.time())
            claims = {
                "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
                "aud": CLIENT,
                "sub": "sub-1",
                "oid": "user-oid",
                "tid": TENANT,
                "preferred_username": "admin@contoso.example",
                "iat": now,
                "exp": now + 3600,
            }
            body |= {
                "refresh_token": f"rt-{number}",
                "scope": data.get("scope", self.device_scope),
                "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
                "client_info": _b64({"uid": "user-oid", "utid": TENANT}),
            }
        return FakeResponse(200, body)

    def close(self) -> None:
        pass


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"live_tenant_id": TENANT, "live_client_id": CLIENT}
        return make_settings(**(values | overrides))

    return make


@pytest.fixture
def database(tmp_path: Path) -> Any:
    db = SqliteDatabase(tmp_path / "auth.db")
    yield db
    db.close()


async def test_client_credentials_acquires_once_and_caches(auth_settings: Any, database: SqliteDatabase) -> None:
    settings = auth_settings(live_client_secret=SECRET, live_dataverse_url="https://org.api.crm4.dynamics.com/api")
    entra = FakeEntra()
    provider = MsalTokenProvider(settings, database, System.dataverse, http_client=entra)

    assert await provider() == "at-1"
    assert await provider.token() == "at-1"

    assert len(entra.token_requests) == 1
    request = entra.token_requests[0]
    assert request["grant_type"] == "client_credentials"
    assert request["scope"].split() == ["https://org.crm4.dynamics.com/.default"]


async def test_cache_is_encrypted_and_survives_a_reopen(auth_settings: Any, tmp_path: Path) -> None:
    settings = auth_settings(live_client_secret=SECRET)
    first = SqliteDatabase(tmp_path / "cache.db")
    assert await MsalTokenProvider(settings, first, System.power_platform, http_client=FakeEntra())() == "at-1"
    [(blob,)] = first.query("SELECT blob FROM token_cache")
    first.close()
    assert b"at-1" not in blob and b"access_token" not in blob.lower() and SECRET.encode() not in blob

    reopened = SqliteDatabase(tmp_path / "cache.db")
    entra = FakeEntra()
    try:
        assert await MsalTokenProvider(settings, reopened, System.power_platform, http_client=entra)() == "at-1"
    finally:
        reopened.close()
    assert entra.token_requests == []


async def test_device_code_login_then_silent_delegated_tokens(auth_settings: Any, database: SqliteDatabase) -> None:
    settings = auth_settings(live_cache_key=Fernet.generate_key().decode())
    entra = FakeEntra()
    printed: list[str] = []

    username = login(settings, database, System.partner_center, http_client=entra, out=printed.append)

    assert username == "admin@contoso.example"
    assert printed == ["To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH."]
    assert entra.token_requests[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    assert "https://api.partner.microsoft.com/.default" in entra.device_scope.split()

    later = FakeEntra()  # a later process: the account comes from the encrypted cache in the database
    provider = MsalTokenProvider(settings, database, System.partner_center, http_client=later)
    assert await provider() == "at-1"
    assert later.token_requests == [] and later.device_requests == 0
    # another resource of the same sign-in (the webhooks API) is redeemed with the cached refresh token
    hooks = MsalTokenProvider(
        settings, database, System.partner_center, http_client=later, scope=resource_scope("https://api.pc.example/x")
    )
    assert await hooks() == "at-1"
    assert later.token_requests[0]["grant_type"] == "refresh_token"
    assert later.token_requests[0]["refresh_token"] == "rt-1"


async def test_delegated_without_sign_in_is_credential_missing(auth_settings: Any, database: SqliteDatabase) -> None:
    settings = auth_settings(live_client_secret=SECRET)  # secret set, but Partner Center is delegated only
    entra = FakeEntra()
    with pytest.raises(CredentialMissing, match="run cosell-bot login partner_center"):
        await MsalTokenProvider(settings, database, System.partner_center, http_client=entra)()
    assert entra.token_requests == []


async def test_refusal_is_plain_and_never_echoes_the_secret(auth_settings: Any, database: SqliteDatabase) -> None:
    settings = auth_settings(live_client_secret=SECRET)
    with pytest.raises(LiveCheckFailed) as caught:
        await MsalTokenProvider(settings, database, System.power_platform, http_client=FakeEntra(refuse=True))()
    message = str(caught.value)
    assert "invalid_client" in message and SECRET not in message and "bad secret" not in message


async def test_live_checks_use_msal_unless_a_static_token_is_set(auth_settings: Any, database: SqliteDatabase) -> None:
    settings = auth_settings(live_partner_center_token="static-token")
    live = build_live_checks(settings, database, msal_http_client=FakeEntra())
    try:
        assert {System.partner_center, System.graph, System.power_platform} <= set(live.clients)
        assert System.dataverse not in live.clients  # no URL, so no client
        assert isinstance(live.clients[System.graph]._http.auth._token_provider, MsalTokenProvider)
        assert not isinstance(live.clients[System.partner_center]._referrals.auth._token_provider, MsalTokenProvider)
    finally:
        await live.close()


def test_cache_key_and_scopes(auth_settings: Any) -> None:
    assert cache_key(auth_settings()) is None
    derived = cache_key(auth_settings(live_client_secret=SECRET))
    assert derived and derived == cache_key(auth_settings(live_client_secret=SECRET))
    assert derived != cache_key(auth_settings(live_client_secret="another"))
    Fernet(derived)  # a valid Fernet key
    explicit = Fernet.generate_key().decode()
    assert cache_key(auth_settings(live_client_secret=SECRET, live_cache_key=explicit)) == explicit.encode()
    assert dataverse_scope("https://org.api.crm.dynamics.com/api/data/v9.2") == "https://org.crm.dynamics.com/.default"
    assert dataverse_scope("https://org.crm4.dynamics.com") == "https://org.crm4.dynamics.com/.default"
    with pytest.raises(ValidationError, match="Fernet key"):
        auth_settings(live_cache_key="not-a-key")


def test_msal_apps_need_client_and_tenant(make_settings: Callable[..., Settings], database: SqliteDatabase) -> None:
    from bot.auth import AuthNotConfigured

    with pytest.raises(AuthNotConfigured, match="COSELL_LIVE_CLIENT_ID"):
        MsalApps(make_settings(), database)


def test_cli_login_without_config_exits_2(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_settings()  # clears COSELL_* from the environment
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["login", "partner_center"]) == 2
    assert "COSELL_LIVE_CLIENT_ID" in capsys.readouterr().err


def test_cli_login_without_cache_key_exits_2(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_settings()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COSELL_LIVE_CLIENT_ID", CLIENT)
    monkeypatch.setenv("COSELL_LIVE_TENANT_ID", TENANT)
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path / "cli.db"))
    assert main(["login", "graph"]) == 2
    assert "COSELL_LIVE_CACHE_KEY" in capsys.readouterr().err
