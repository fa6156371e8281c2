"""Salesforce OAuth for the live checks: access tokens from the org's connected app (external-apis.md §6.1).

- JWT bearer: `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`, the JWT signed RS256 with the
  private key of the connected app's certificate; claims `iss` = consumer key, `sub` = username, `aud` = the login
  host (scheme://host of the token URL unless `COSELL_LIVE_SALESFORCE_AUDIENCE` says otherwise), `exp` = now + 3 min.
- Client credentials: `grant_type=client_credentials&client_id=…&client_secret=…` (the org's My Domain endpoint; the
  connected app names the run-as user).

The answer is `{access_token, instance_url, id, token_type, issued_at, signature, scope?}`: no `expires_in` and no
refresh token, so the token is reused for `COSELL_LIVE_SALESFORCE_TOKEN_TTL` seconds (at most the org's session
timeout) and dropped early when the REST API answers 401 (`SalesforceAuth` then signs in again and retries once).
Refusals and outages are the `LiveCheckError` family with plain sentences; no message or log line ever carries the
secret, the private key, the assertion or the access token. The flow and its values come in a `SalesforceAuthConfig`
(built from the settings by `bot/live.py`), never the settings.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Literal

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import SecretStr

from knowledge.messages import phrase
from tenant.base import LiveCheckFailed, LiveCheckUnavailable, System
from tenant.texts import said

log = logging.getLogger(__name__)

Flow = Literal["jwt_bearer", "client_credentials"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 180  # seconds: Salesforce wants the assertion's `exp` within 3 minutes
# Base URL of the REST client until the first token names the org's instance (`.invalid` never resolves, so a request
# that somehow escaped the rewrite fails instead of reaching another host).
PENDING_INSTANCE_URL = "https://salesforce-instance.invalid"

_SYSTEM = System.salesforce
_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,60}")
_DESCRIPTION = re.compile(r"[A-Za-z0-9 _.,:;'()/\-]{1,160}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class SalesforceAuthConfig:
    """The values of one Salesforce OAuth flow against the org's connected app.

    Attributes:
        flow: `jwt_bearer` (signed assertion) or `client_credentials` (consumer secret).
        token_url: the OAuth token endpoint (login./test.salesforce.com, or the org's My Domain).
        client_id: the connected app's consumer key.
        client_secret: its consumer secret (client credentials; never echoed in a message).
        username: the user the JWT bearer flow signs in as.
        private_key_pem: PEM text of the RSA private key that signs the JWT bearer assertion.
        audience: the assertion's `aud`; empty = scheme://host of the token URL.
        ttl: seconds an access token is reused (Salesforce sends no expiry).
        timeout: seconds the token endpoint may take to answer.
    """

    flow: Flow
    token_url: str
    client_id: str
    client_secret: SecretStr = SecretStr("")
    username: str = ""
    private_key_pem: SecretStr = SecretStr("")
    audience: str = ""
    ttl: float = 900.0
    timeout: float = 5.0


@dataclass(frozen=True)
class SalesforceSession:
    """One sign-in: the access token, the org's instance URL, and when (monotonic clock) to stop reusing it."""

    access_token: str
    instance_url: str
    expires_at: float

    def __repr__(self) -> str:  # never the token
        return f"SalesforceSession(instance_url={self.instance_url!r}, expires_at={self.expires_at:.0f})"


class SalesforceTokenProvider:
    """An async token provider (`await provider()` → access token) backed by the org's connected app.

    JWT bearer when given a private key (and a username), else client credentials. Tokens are cached for `ttl`
    seconds; concurrent callers share one sign-in (asyncio.Lock); `invalidate()` drops a token the API refused.
    Owns an `httpx.AsyncClient` for the token endpoint (`transport` is injectable for tests): `await aclose()`.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str = "",
        username: str = "",
        private_key: RSAPrivateKey | None = None,
        audience: str = "",
        ttl: float = 900.0,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if private_key is not None and not username:
            raise ValueError("the JWT bearer flow needs a username")
        if private_key is None and not client_secret:
            raise ValueError("the client credentials flow needs a client secret")
        self.flow: Flow = "jwt_bearer" if private_key is not None else "client_credentials"
        self.token_url = token_url
        self.audience = audience.rstrip("/") or _origin(token_url)
        self.ttl = ttl
        self._client_id = client_id
        self._client_secret = client_secret
        self._username = username
        self._key = private_key
        self._clock = clock
        self._wall_clock = wall_clock
        self._session: SalesforceSession | None = None
        self._lock = asyncio.Lock()
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:  # never the secret, the key or the token
        return f"SalesforceTokenProvider(flow={self.flow!r}, token_url={self.token_url!r})"

    async def __call__(self) -> str:
        return (await self.session()).access_token

    async def session(self) -> SalesforceSession:
        """The cached sign-in while it is fresh, else a new one (one request however many callers wait)."""
        current = self._fresh()
        if current is not None:
            return current
        async with self._lock:
            current = self._fresh()  # another caller may have signed in while this one waited
            if current is None:
                current = self._session = await self._sign_in()
            return current

    def invalidate(self, access_token: str | None = None) -> None:
        """Forget the cached token (only if it is still `access_token`, when given: a newer one is kept)."""
        if self._session is not None and access_token in (None, self._session.access_token):
            log.info("salesforce: the access token was refused or dropped; the next call signs in again")
            self._session = None

    async def aclose(self) -> None:
        """Close the token endpoint's HTTP client."""
        await self.http.aclose()

    def _fresh(self) -> SalesforceSession | None:
        session = self._session
        return session if session is not None and session.expires_at > self._clock() else None

    def _form(self) -> dict[str, str]:
        if self._key is None:
            return {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            }
        now = int(self._wall_clock())
        claims = {"iss": self._client_id, "sub": self._username, "aud": self.audience, "exp": now + ASSERTION_LIFETIME}
        return {"grant_type": JWT_BEARER, "assertion": jwt.encode(claims, self._key, algorithm="RS256")}

    async def _sign_in(self) -> SalesforceSession:
        started = time.perf_counter()
        try:
            response = await self.http.post(self.token_url, data=self._form())
        except httpx.TimeoutException as exc:
            log.info("salesforce: the token endpoint timed out (%s flow)", self.flow)
            raise LiveCheckUnavailable(_SYSTEM, said("sf-sign-in-timeout")) from exc
        except httpx.TransportError as exc:
            log.info("salesforce: the token endpoint failed (%s, %s flow)", type(exc).__name__, self.flow)
            raise LiveCheckUnavailable(_SYSTEM, said("sf-sign-in-unreachable")) from exc
        elapsed = (time.perf_counter() - started) * 1000
        log.info("salesforce: token endpoint -> %d in %.0f ms (%s flow)", response.status_code, elapsed, self.flow)
        if not response.is_success:
            raise self._refusal(response)
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> SalesforceSession:
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        instance = body.get("instance_url") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise LiveCheckFailed(_SYSTEM, said("sf-sign-in-no-token"))
        if not isinstance(instance, str) or not _instance_ok(instance):
            instance = ""
        return SalesforceSession(token, instance.rstrip("/"), self._clock() + self.ttl)

    def _refusal(self, response: httpx.Response) -> LiveCheckFailed | LiveCheckUnavailable:
        """A plain sentence from the OAuth error body: the error code and a sanitised description, nothing else."""
        status = response.status_code
        if status == 429 or status >= 500:
            key = "sf-sign-in-throttled" if status == 429 else "sf-sign-in-unavailable"
            return LiveCheckUnavailable(_SYSTEM, said(key, status=status), status=status)
        code, description = _oauth_error(response, secrets=self._secrets())
        if code is None:
            return LiveCheckFailed(_SYSTEM, said("sf-sign-in-status", status=status), status=status)
        detail = phrase("parenthesised", text=description) if description else ""
        log.info("salesforce: sign-in refused with %s (%s flow)", code, self.flow)
        return LiveCheckFailed(_SYSTEM, said("sf-sign-in-refused", code=code, detail=detail), status=status)

    def _secrets(self) -> tuple[str, ...]:
        return (self._client_secret,) if self._client_secret else ()


class SalesforceAuth(httpx.Auth):
    """Bearer auth for the REST client from a `SalesforceTokenProvider`.

    A 401 drops the refused token, signs in again and resends the request once (a 401 means the request was not
    processed). A request addressed to `PENDING_INSTANCE_URL` (no `COSELL_LIVE_SALESFORCE_URL` set) is sent to the
    `instance_url` of the token response instead.
    """

    def __init__(self, provider: SalesforceTokenProvider) -> None:
        self.provider = provider

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        session = await self.provider.session()
        _prepare(request, session)
        response = yield request
        if response.status_code != 401:
            return
        self.provider.invalidate(session.access_token)
        session = await self.provider.session()
        _prepare(request, session)
        yield request


def _prepare(request: httpx.Request, session: SalesforceSession) -> None:
    request.headers["Authorization"] = f"Bearer {session.access_token}"
    pending = httpx.URL(PENDING_INSTANCE_URL)
    if (request.url.scheme, request.url.host, request.url.port) != (pending.scheme, pending.host, pending.port):
        return
    if not session.instance_url:
        raise LiveCheckFailed(_SYSTEM, said("sf-no-instance-url"))
    url = httpx.URL(session.instance_url + request.url.raw_path.decode("ascii"))
    request.url = url
    request.headers["Host"] = url.netloc.decode("ascii")


def salesforce_token_provider(
    config: SalesforceAuthConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> SalesforceTokenProvider:
    """The provider for the configured OAuth flow (the private key loaded for JWT bearer).

    Settings validation has already checked the combination and that the private key loads.
    """
    key: RSAPrivateKey | None = None
    if config.flow == "jwt_bearer":
        loaded = load_pem_private_key(config.private_key_pem.get_secret_value().encode(), password=None)
        if not isinstance(loaded, RSAPrivateKey):
            raise ValueError("the Salesforce private key is not an RSA key")
        key = loaded
    return SalesforceTokenProvider(
        token_url=config.token_url,
        client_id=config.client_id,
        client_secret=config.client_secret.get_secret_value(),
        username=config.username,
        private_key=key,
        audience=config.audience,
        ttl=config.ttl,
        timeout=config.timeout,
        transport=transport,
    )


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"


def _instance_ok(url: str) -> bool:
    """An absolute https URL (http only on this machine, for the sandbox), with no query or fragment."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    if parsed.query or parsed.fragment or not parsed.host:
        return False
    return parsed.scheme == "https" or (parsed.scheme == "http" and parsed.host in _LOOPBACK)


def _oauth_error(response: httpx.Response, *, secrets: tuple[str, ...]) -> tuple[str | None, str]:
    """(`error`, `error_description`) of an OAuth error body; the description only when it is short plain text."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code, description = body.get("error"), body.get("error_description")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return None, ""
    if not isinstance(description, str) or not _DESCRIPTION.fullmatch(description.strip()):
        return code, ""
    text = description.strip()
    return code, "" if any(secret in text for secret in secrets) else text
