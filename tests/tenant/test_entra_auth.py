"""msal token acquisition (tenant/auth/entra.py) through its `http_client` hook: a fake Entra ID, no network.

Configs come from `Settings` through `bot.live.entra_config` (the one place they are built) where the settings are
the point, and the encrypted cache is kept by `stores.sql.token_cache.SqlTokenCacheStore`, as in the running bot.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.live import entra_config
from bot.settings import Settings
from bot.wiring import build_live_checks
from stores.sql.token_cache import SqlTokenCacheStore
from stores.sqlite.database import SqliteDatabase
from tenant.auth.entra import (
    AuthNotConfigured,
    EntraConfig,
    MsalApps,
    MsalTokenProvider,
    cache_key,
    dataverse_scope,
    login,
    resource_scope,
    scope_for,
    uses_app_only,
)
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
def auth_config(auth_settings: Callable[..., Settings]) -> Callable[..., EntraConfig]:
    """`auth_config(**settings_overrides)`: the `EntraConfig` the bot builds from those settings."""

    def make(**overrides: Any) -> EntraConfig:
        return entra_config(auth_settings(**overrides))

    return make


@pytest.fixture
def database(tmp_path: Path) -> Any:
    db = SqliteDatabase(tmp_path / "auth.db")
    yield db
    db.close()


@pytest.fixture
def store(database: SqliteDatabase) -> SqlTokenCacheStore:
    return SqlTokenCacheStore(database)


async def test_client_credentials_acquires_once_and_caches(auth_config: Any, store: SqlTokenCacheStore) -> None:
    config = auth_config(live_client_secret=SECRET, live_dataverse_url="https://org.api.crm4.dynamics.com/api")
    entra = FakeEntra()
    provider = MsalTokenProvider(config, store, System.dataverse, http_client=entra)

    assert await provider() == "at-1"
    assert await provider.token() == "at-1"

    assert len(entra.token_requests) == 1
    request = entra.token_requests[0]
    assert request["grant_type"] == "client_credentials"
    assert request["scope"].split() == ["https://org.crm4.dynamics.com/.default"]


async def test_cache_is_encrypted_and_survives_a_reopen(auth_config: Any, tmp_path: Path) -> None:
    config = auth_config(live_client_secret=SECRET)
    first = SqliteDatabase(tmp_path / "cache.db")
    first_store = SqlTokenCacheStore(first)
    assert await MsalTokenProvider(config, first_store, System.power_platform, http_client=FakeEntra())() == "at-1"
    [(blob,)] = first.sync_query("SELECT blob FROM token_cache")
    first.close()
    assert b"at-1" not in blob and b"access_token" not in blob.lower() and SECRET.encode() not in blob

    reopened = SqliteDatabase(tmp_path / "cache.db")
    entra = FakeEntra()
    try:
        reopened_store = SqlTokenCacheStore(reopened)
        assert await MsalTokenProvider(config, reopened_store, System.power_platform, http_client=entra)() == "at-1"
    finally:
        reopened.close()
    assert entra.token_requests == []


async def test_device_code_login_then_silent_delegated_tokens(auth_config: Any, store: SqlTokenCacheStore) -> None:
    config = auth_config(live_cache_key=Fernet.generate_key().decode())
    entra = FakeEntra()
    printed: list[str] = []

    username = login(config, store, System.partner_center, http_client=entra, out=printed.append)

    assert username == "admin@contoso.example"
    assert printed == ["To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH."]
    assert entra.token_requests[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    assert "https://api.partner.microsoft.com/.default" in entra.device_scope.split()

    later = FakeEntra()  # a later process: the account comes from the encrypted cache in the database
    provider = MsalTokenProvider(config, store, System.partner_center, http_client=later)
    assert await provider() == "at-1"
    assert later.token_requests == [] and later.device_requests == 0
    # another resource of the same sign-in (the webhooks API) is redeemed with the cached refresh token
    hooks = MsalTokenProvider(
        config, store, System.partner_center, http_client=later, scope=resource_scope("https://api.pc.example/x")
    )
    assert await hooks() == "at-1"
    assert later.token_requests[0]["grant_type"] == "refresh_token"
    assert later.token_requests[0]["refresh_token"] == "rt-1"


async def test_delegated_without_sign_in_is_credential_missing(auth_config: Any, store: SqlTokenCacheStore) -> None:
    config = auth_config(live_client_secret=SECRET)  # secret set, but Partner Center is delegated only
    entra = FakeEntra()
    with pytest.raises(CredentialMissing, match="run cosell-bot login partner_center"):
        await MsalTokenProvider(config, store, System.partner_center, http_client=entra)()
    assert entra.token_requests == []


async def test_refusal_is_plain_and_never_echoes_the_secret(auth_config: Any, store: SqlTokenCacheStore) -> None:
    config = auth_config(live_client_secret=SECRET)
    with pytest.raises(LiveCheckFailed) as caught:
        await MsalTokenProvider(config, store, System.power_platform, http_client=FakeEntra(refuse=True))()
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


def test_cache_key_and_scopes(auth_settings: Any, auth_config: Any) -> None:
    assert cache_key(auth_config()) is None
    derived = cache_key(auth_config(live_client_secret=SECRET))
    assert derived and derived == cache_key(auth_config(live_client_secret=SECRET))
    assert derived != cache_key(auth_config(live_client_secret="another"))
    Fernet(derived)  # a valid Fernet key
    explicit = Fernet.generate_key().decode()
    assert cache_key(auth_config(live_client_secret=SECRET, live_cache_key=explicit)) == explicit.encode()
    assert dataverse_scope("https://org.api.crm.dynamics.com/api/data/v9.2") == "https://org.crm.dynamics.com/.default"
    assert dataverse_scope("https://org.crm4.dynamics.com") == "https://org.crm4.dynamics.com/.default"
    with pytest.raises(ValidationError, match="Fernet key"):
        auth_settings(live_cache_key="not-a-key")


def test_msal_apps_need_client_and_tenant(make_settings: Callable[..., Settings], store: SqlTokenCacheStore) -> None:
    with pytest.raises(AuthNotConfigured, match="COSELL_LIVE_CLIENT_ID"):
        MsalApps(entra_config(make_settings()), store)
    with pytest.raises(AuthNotConfigured, match="COSELL_LIVE_TENANT_ID"):
        MsalApps(EntraConfig(client_id=CLIENT), store)


def test_entra_config_maps_the_settings(auth_settings: Any) -> None:
    key = Fernet.generate_key().decode()
    settings = auth_settings(
        live_client_secret=SECRET,
        live_cache_key=key,
        live_authority="https://login.microsoftonline.us",
        live_dataverse_url="https://org.api.crm4.dynamics.com/api/data/v9.2",
        live_graph_scope="https://graph.example/.default",
    )
    config = entra_config(settings)

    assert (config.client_id, config.tenant_id, config.authority) == (
        CLIENT,
        TENANT,
        "https://login.microsoftonline.us",
    )
    assert config.client_secret.get_secret_value() == SECRET and config.cache_key.get_secret_value() == key
    assert dict(config.scopes) == {
        System.partner_center: "https://api.partner.microsoft.com/.default",
        System.power_automate: "https://service.flow.microsoft.com/.default",
        System.dataverse: "https://org.crm4.dynamics.com/.default",  # derived from the URL
        System.power_platform: "https://service.powerapps.com//.default",
        System.graph: "https://graph.example/.default",
    }
    assert isinstance(config.scopes, MappingProxyType)  # read-only, like the frozen config around it
    assert SECRET not in repr(config) and key not in repr(config)
    assert MsalApps(config, MemoryStore()).authority == f"https://login.microsoftonline.us/{TENANT}"
    # an explicit Dataverse scope wins over the URL's; neither = no scope; Salesforce is no Entra resource
    explicit = entra_config(
        auth_settings(
            live_dataverse_url="https://org.api.crm4.dynamics.com", live_dataverse_scope="https://dv/.default"
        )
    )
    assert scope_for(explicit, System.dataverse) == "https://dv/.default"
    assert scope_for(entra_config(auth_settings()), System.dataverse) == ""
    assert scope_for(config, System.salesforce) == ""
    assert uses_app_only(config, System.dataverse) and not uses_app_only(config, System.graph)
    assert not uses_app_only(entra_config(auth_settings()), System.dataverse)  # no secret: delegated


class MemoryStore:
    """A `TokenCacheStore` in a dict: the port asks for nothing more."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.loads: list[str] = []

    def load(self, name: str) -> bytes | None:
        self.loads.append(name)
        return self.blobs.get(name)

    def save(self, name: str, blob: bytes) -> None:
        self.blobs[name] = blob


async def test_the_cache_is_encrypted_before_it_reaches_any_store(auth_config: Any) -> None:
    config = auth_config(live_client_secret=SECRET)
    memory = MemoryStore()
    assert await MsalTokenProvider(config, memory, System.power_platform, http_client=FakeEntra())() == "at-1"
    assert list(memory.blobs) == [f"msal:{CLIENT}"]
    blob = memory.blobs[f"msal:{CLIENT}"]
    assert b"at-1" not in blob and SECRET.encode() not in blob
    key = cache_key(config)
    assert key and b"at-1" in Fernet(key).decrypt(blob)  # encrypted with the config's key, in tenant

    entra = FakeEntra()
    assert await MsalTokenProvider(config, memory, System.power_platform, http_client=entra)() == "at-1"
    assert entra.token_requests == []  # read back through the same store


def test_a_blob_that_no_longer_decrypts_starts_empty(auth_config: Any, caplog: pytest.LogCaptureFixture) -> None:
    memory = MemoryStore()
    memory.blobs[f"msal:{CLIENT}"] = Fernet(Fernet.generate_key()).encrypt(b"{}")  # another key's blob
    apps = MsalApps(auth_config(live_client_secret=SECRET), memory)
    assert apps.persistent and apps.cache.serialize() == "{}"
    assert "could not be decrypted" in caplog.text

    unkeyed = MemoryStore()  # no key and no secret: nothing is persisted, the store is never asked
    assert not MsalApps(auth_config(), unkeyed).persistent
    assert unkeyed.loads == []
