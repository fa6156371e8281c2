"""Entra ID tokens for the live checks with msal: app-only where the API allows it, delegated device-code otherwise.

- App-only (client credentials, `ConfidentialClientApplication`) for Dataverse and Power Platform admin when a
  client secret is configured (both accept a service principal: §4.1 and §5.1 of the API reference).
- Delegated (`PublicClientApplication`) for everything else: Partner Center Referrals is App+User only, Microsoft
  Graph's `/me/licenseDetails` needs a user, the Flow management API expects a user token. `cosell-bot login SYSTEM`
  runs the device-code flow once; checks then acquire silently from the cached account (refresh token).
- The msal token cache is encrypted here with Fernet and kept through the `TokenCacheStore` port (the bot stores
  the blobs in its database: `stores/sqlite/token_cache.py`). The key is `COSELL_LIVE_CACHE_KEY`; when empty it is
  derived from the client secret with HKDF-SHA256 (rotating the secret then invalidates the cache: sign in again);
  with neither, nothing is persisted and delegated systems stay signed out.

Everything configurable comes in an `EntraConfig` (built from the settings by `bot/live.py`), never the settings.

msal calls block (HTTP with `requests`), so `token()` runs them in `asyncio.to_thread`. Errors are the
`LiveCheckError` family with plain messages: never a token, a secret or an Entra response body.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import msal  # type: ignore[import-untyped]
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from tenant.base import CredentialMissing, LiveCheckError, LiveCheckFailed, LiveCheckUnavailable, System
from tenant.calls import system_name

log = logging.getLogger(__name__)

# Systems whose APIs accept an app-only (service principal) token; the others need a signed-in user.
APP_ONLY = frozenset({System.dataverse, System.power_platform})
# Systems `cosell-bot login` can sign in to.
LOGIN_SYSTEMS = (System.partner_center, System.power_automate, System.dataverse, System.graph, System.power_platform)

_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,80}")
_HKDF_SALT = b"cosell-bot/token-cache/v1"


@dataclass(frozen=True)
class EntraConfig:
    """The Entra ID values the live checks' msal use: the app registration, the cache key and the scopes.

    Attributes:
        client_id: application (client) id of the app registration (`COSELL_LIVE_CLIENT_ID`).
        tenant_id: the admin's Entra tenant, GUID or domain (`COSELL_LIVE_TENANT_ID`).
        client_secret: enables app-only tokens where the API allows them; empty = delegated only.
        cache_key: Fernet key of the token cache; empty = derived from the client secret, or no cache.
        authority: the authority host, scheme://host (sovereign clouds differ); the tenant id is appended.
        scopes: the token scope of each system; a system missing or empty here has none.
    """

    client_id: str = ""
    tenant_id: str = ""
    client_secret: SecretStr = SecretStr("")
    cache_key: SecretStr = SecretStr("")
    authority: str = "https://login.microsoftonline.com"
    scopes: Mapping[System, str] = field(default_factory=dict)


class TokenCacheStore(Protocol):
    """Where the encrypted token cache is kept: one opaque blob per cache name (already Fernet-encrypted)."""

    def load(self, name: str) -> bytes | None:
        """The blob last saved under `name`, or None when there is none."""
        ...

    def save(self, name: str, blob: bytes) -> None:
        """Keep `blob` under `name`, replacing any earlier one."""
        ...


class AuthNotConfigured(Exception):
    """The Entra app registration (client id, tenant) or the cache key is missing; the message says which."""


def msal_configured(config: EntraConfig) -> bool:
    """True when an Entra app registration is configured for the live checks."""
    return bool(config.client_id and config.tenant_id)


def cache_key(config: EntraConfig) -> bytes | None:
    """The Fernet key of the token cache: the configured one, else derived from the client secret, else None."""
    configured = config.cache_key.get_secret_value()
    if configured:
        return configured.encode()
    secret = config.client_secret.get_secret_value()
    if not secret:
        return None
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=config.client_id.encode())
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def resource_scope(url: str) -> str:
    """`https://host/any/path` → `https://host/.default` (the app-only / `.default` scope of that resource)."""
    host = urlsplit(url).netloc
    return f"https://{host}/.default" if host else ""


def dataverse_scope(url: str) -> str:
    """`https://org.api.crm4.dynamics.com/api/data/v9.2` → `https://org.crm4.dynamics.com/.default`."""
    host = urlsplit(url).netloc
    labels = host.split(".")
    if len(labels) > 2 and labels[1] == "api":
        host = ".".join([labels[0], *labels[2:]])
    return f"https://{host}/.default" if host else ""


def scope_for(config: EntraConfig, system: System) -> str:
    """The scope of `system` in the config (configured or derived from its URL); empty when it cannot be known."""
    return config.scopes.get(system, "")


def uses_app_only(config: EntraConfig, system: System) -> bool:
    """App-only for systems that allow it when a client secret is configured; delegated otherwise."""
    return system in APP_ONLY and bool(config.client_secret.get_secret_value())


class EncryptedTokenCache(msal.SerializableTokenCache):
    """An msal token cache persisted Fernet-encrypted in a `TokenCacheStore` (one blob per name).

    Loaded on creation; `persist()` writes it back when msal changed it. A blob that no longer decrypts (the key or
    the secret it derives from changed) is dropped with a warning: the cache starts empty and users sign in again.
    """

    def __init__(self, store: TokenCacheStore, key: bytes, name: str = "msal") -> None:
        super().__init__()
        self._store = store
        self._fernet = Fernet(key)
        self.name = name
        blob = store.load(name)
        if blob is not None:
            try:
                self.deserialize(self._fernet.decrypt(blob).decode("utf-8"))
            except (InvalidToken, ValueError):
                log.warning("the token cache %r could not be decrypted (key changed?): starting empty", name)
        self.has_state_changed = False

    def persist(self) -> None:
        """Write the cache back, encrypted, if msal changed it since the last load or persist."""
        if not self.has_state_changed:
            return
        self._store.save(self.name, self._fernet.encrypt(self.serialize().encode("utf-8")))
        self.has_state_changed = False


class MsalApps:
    """The msal applications (built lazily: msal does OIDC discovery on creation) and the shared token cache."""

    def __init__(self, config: EntraConfig, store: TokenCacheStore, *, http_client: Any | None = None) -> None:
        if not msal_configured(config):
            raise AuthNotConfigured("set COSELL_LIVE_CLIENT_ID and COSELL_LIVE_TENANT_ID (the Entra app registration)")
        self.config = config
        self._http_client = http_client
        key = cache_key(config)
        self.cache: msal.SerializableTokenCache = (
            EncryptedTokenCache(store, key, name=f"msal:{config.client_id}") if key else msal.SerializableTokenCache()
        )
        self.persistent = key is not None
        self.authority = f"{config.authority.rstrip('/')}/{config.tenant_id}"
        self._lock = threading.Lock()
        self._public: msal.PublicClientApplication | None = None
        self._confidential: msal.ConfidentialClientApplication | None = None

    def _common(self) -> dict[str, Any]:
        # instance_discovery=False: the authority is configured explicitly (sovereign clouds, the simulated tenant)
        kwargs: dict[str, Any] = {"authority": self.authority, "token_cache": self.cache, "instance_discovery": False}
        if self._http_client is not None:
            kwargs["http_client"] = self._http_client
        return kwargs

    def public(self) -> msal.PublicClientApplication:
        """The public client (device code, silent delegated acquisition); blocking on first use."""
        with self._lock:
            if self._public is None:
                self._public = msal.PublicClientApplication(self.config.client_id, **self._common())
            return self._public

    def confidential(self) -> msal.ConfidentialClientApplication:
        """The confidential client (client credentials); blocking on first use."""
        with self._lock:
            if self._confidential is None:
                self._confidential = msal.ConfidentialClientApplication(
                    self.config.client_id,
                    client_credential=self.config.client_secret.get_secret_value(),
                    **self._common(),
                )
            return self._confidential

    def persist(self) -> None:
        """Save the cache if it is the encrypted, persistent one."""
        if isinstance(self.cache, EncryptedTokenCache):
            self.cache.persist()


class MsalTokenProvider:
    """An async token provider (`await provider()`) for one system, backed by msal.

    App-only systems use client credentials; the others acquire silently from the signed-in account in the cache
    and raise `CredentialMissing` pointing at `cosell-bot login SYSTEM` when there is none.
    """

    def __init__(
        self,
        config: EntraConfig,
        store: TokenCacheStore,
        system: System,
        *,
        http_client: Any | None = None,
        scope: str | None = None,
        apps: MsalApps | None = None,
    ) -> None:
        self.system = system
        self.apps = apps or MsalApps(config, store, http_client=http_client)
        self.scope = scope or scope_for(config, system)
        self.app_only = uses_app_only(config, system)
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        return await self.token()

    async def token(self) -> str:
        """An access token for the system's scope (from the cache when still valid)."""
        if not self.scope:
            raise CredentialMissing(self.system, f"no token scope for {system_name(self.system)} is configured.")
        async with self._lock:
            return await asyncio.to_thread(self._acquire)

    def _acquire(self) -> str:
        name = system_name(self.system)
        try:
            if self.app_only:
                result = self.apps.confidential().acquire_token_for_client(scopes=[self.scope])
            else:
                result = self._silent(name)
        except LiveCheckError:
            raise
        except OSError as exc:  # requests' errors are OSErrors
            raise LiveCheckUnavailable(self.system, f"Entra ID could not be reached for a {name} token.") from exc
        except (ValueError, RuntimeError, KeyError) as exc:
            raise LiveCheckFailed(self.system, f"Entra ID answered unexpectedly for a {name} token.") from exc
        finally:
            self.apps.persist()
        return _access_token(self.system, result, self.app_only)

    def _silent(self, name: str) -> dict[str, Any] | None:
        login = f"run cosell-bot login {self.system.value}"
        if not self.apps.persistent:
            raise CredentialMissing(
                self.system, f"no token cache key (set COSELL_LIVE_CACHE_KEY) for a {name} sign-in: {login}."
            )
        app = self.apps.public()
        accounts = app.get_accounts()
        if not accounts:
            raise CredentialMissing(self.system, f"no signed-in {name} account: {login}.")
        result = app.acquire_token_silent([self.scope], account=accounts[0])
        if not result or "access_token" not in result:
            raise CredentialMissing(self.system, f"the {name} sign-in expired or lacks consent: {login}.")
        return dict(result)


def _access_token(system: System, result: dict[str, Any] | None, app_only: bool) -> str:
    if result and isinstance(result.get("access_token"), str):
        return str(result["access_token"])
    code = str((result or {}).get("error", ""))
    detail = f" ({code})" if _CODE.fullmatch(code) else ""
    kind = "an app-only" if app_only else "a delegated"
    raise LiveCheckFailed(system, f"Entra ID refused {kind} {system_name(system)} token{detail}.")


def login(
    config: EntraConfig,
    store: TokenCacheStore,
    system: System,
    *,
    http_client: Any | None = None,
    out: Callable[[str], None] = print,
) -> str:
    """Device-code sign-in for `system`: print the verification message, wait, persist the cache.

    Returns the signed-in username. Raises `AuthNotConfigured` (nothing to sign in with, or nowhere to keep the
    result) or a `LiveCheckError` (Entra refused or could not be reached).
    """
    if cache_key(config) is None:
        raise AuthNotConfigured("set COSELL_LIVE_CACHE_KEY (or COSELL_LIVE_CLIENT_SECRET) to keep the sign-in")
    apps = MsalApps(config, store, http_client=http_client)
    scope = scope_for(config, system)
    if not scope:
        raise AuthNotConfigured(f"set COSELL_LIVE_{system.value.upper()}_SCOPE (or the system's URL) first")
    name = system_name(system)
    try:
        app = apps.public()
        flow = app.initiate_device_flow(scopes=[scope])
        if "user_code" not in flow:
            _access_token(system, flow, app_only=False)  # raises with the error code
        out(str(flow["message"]))
        result = app.acquire_token_by_device_flow(flow)
    except LiveCheckError:
        raise
    except OSError as exc:
        raise LiveCheckUnavailable(system, f"Entra ID could not be reached to sign in to {name}.") from exc
    except (ValueError, RuntimeError, KeyError) as exc:
        raise LiveCheckFailed(system, f"Entra ID answered unexpectedly to the {name} sign-in.") from exc
    _access_token(system, result, app_only=False)
    apps.persist()
    claims = result.get("id_token_claims") or {}
    return str(claims.get("preferred_username") or claims.get("upn") or "the signed-in account")
