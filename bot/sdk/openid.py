"""OpenID signing keys for inbound Bot Framework tokens: our replacement for botbuilder's metadata cache.

botbuilder 4.17 (archived, no upstream fix coming) validates every inbound token against keys that its
`_OpenIdMetadata` fetches with a blocking `requests.get`, without a timeout, on the event loop's thread; it caches
no failure, so each forged token retries the fetch (with no route out, one request stalled the whole server for
5 s), and an unknown `kid` ends in an IndexError (a 500). This module serves the same interface
(`await metadata.get(kid)` → an object with `public_key` and `endorsements`) with:

- asynchronous fetches (httpx, 5 s in total for the metadata and the key set), one in flight per URL, shared by
  the callers that arrive while it runs;
- keys kept for 24 h; a `kid` not among them refreshes the set at most once an hour (botbuilder's rules);
- a failed fetch remembered for 30 s: meanwhile callers fail at once, with no network call;
- the last good keys still served, for a day past their refresh, while the metadata endpoint fails: they are
  Microsoft's own keys, and a blip of its endpoint should not lock every channel out;
- failures as `UnknownSigningKey` / `SigningKeysUnavailable`, never IndexError or AttributeError.

`install()` points botbuilder's `JwtTokenExtractor` at `CACHE`; `bot/adapter.py` calls it once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 5.0  # seconds for a whole fetch: metadata document and key set
REFRESH_AFTER = 24 * 3600.0  # keys older than this are fetched again
UNKNOWN_KID_REFRESH_AFTER = 3600.0  # an unknown kid refreshes keys at least this old (caps what forged kids cost)
MAX_KEY_AGE = 48 * 3600.0  # while refreshes fail, keys are served up to this age, then nothing is
FAILURE_TTL = 30.0  # seconds a failed fetch is remembered: no network call meanwhile
_MAX_DOCUMENT_BYTES = 1024 * 1024  # Microsoft's key set is ~10 KB; anything this big is not one

Clock = Callable[[], float]
Fetcher = Callable[[str, float], Awaitable[dict[str, "SigningKey"]]]


class OpenIdError(Exception):
    """A token cannot be checked against the published signing keys."""


class UnknownSigningKey(OpenIdError):
    """The token's `kid` names no published signing key (or the token names none)."""


class SigningKeysUnavailable(OpenIdError):
    """The signing keys could not be fetched, now or within the last `FAILURE_TTL` seconds."""


@dataclass(frozen=True)
class SigningKey:
    """One published key, as botbuilder's `_OpenIdConfig`: the RSA public key and its channel endorsements."""

    public_key: Any  # cryptography's RSAPublicKey
    endorsements: list[str] = field(default_factory=list)


async def fetch_signing_keys(url: str, total_seconds: float) -> dict[str, SigningKey]:
    """Fetch the OpenID metadata document at `url`, then the key set its `jwks_uri` names.

    Args:
        url: the OpenID metadata URL.
        total_seconds: time for the whole fetch (both documents; redirects are not followed).

    Returns:
        The usable keys (RSA, for signatures) by `kid`.

    Raises:
        SigningKeysUnavailable: a connection or HTTP error, the timeout, or documents that are not what they claim.
    """
    import httpx  # here, not at start-up: a server with auth off never fetches keys

    try:
        async with asyncio.timeout(total_seconds):  # httpx's own timeouts are per phase, not for the whole
            verify = await _tls_context()
            async with httpx.AsyncClient(timeout=httpx.Timeout(total_seconds), verify=verify) as client:
                metadata = await _get_json(client, url)
                jwks_uri = metadata.get("jwks_uri")
                if not isinstance(jwks_uri, str) or not _same_or_stronger_scheme(jwks_uri, url):
                    raise ValueError("the metadata has no usable jwks_uri")
                keys = _parse_keys(await _get_json(client, jwks_uri))
    except (httpx.HTTPError, httpx.InvalidURL, TimeoutError, ValueError) as exc:
        raise SigningKeysUnavailable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc
    if not keys:
        raise SigningKeysUnavailable("the key set holds no RSA signing key")
    return keys


_tls: ssl.SSLContext | None = None


async def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once and off the event loop (loading the CA bundle reads files)."""
    global _tls
    if _tls is None:
        import httpx

        _tls = await asyncio.to_thread(httpx.create_ssl_context)
    return _tls


def _same_or_stronger_scheme(jwks_uri: str, metadata_url: str) -> bool:
    """https always; plain http only when the metadata itself came over http (a local fake or test)."""
    scheme = urlsplit(jwks_uri).scheme
    return scheme == "https" or scheme == "http" == urlsplit(metadata_url).scheme


async def _get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
        response.raise_for_status()
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > _MAX_DOCUMENT_BYTES:
                raise ValueError(f"{url} answered more than {_MAX_DOCUMENT_BYTES} bytes")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return document


def _parse_keys(jwks: dict[str, Any]) -> dict[str, SigningKey]:
    """The RSA signature keys of a JWK set by kid, parsed once here rather than on every token as botbuilder does."""
    keys: dict[str, SigningKey] = {}
    entries = jwks.get("keys")
    for jwk in entries if isinstance(entries, list) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        kid, endorsements = jwk.get("kid"), jwk.get("endorsements", [])
        if not isinstance(kid, str) or not kid or not isinstance(endorsements, list):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(jwk)
        except (InvalidKeyError, ValueError, TypeError, KeyError):
            continue  # one malformed entry must not cost the others
        keys[kid] = SigningKey(public_key, [str(e) for e in endorsements])
    return keys


class OpenIdMetadata:
    """The signing keys published at one OpenID metadata URL; what botbuilder's extractor awaits `get(kid)` on."""

    def __init__(self, url: str, *, fetcher: Fetcher, clock: Clock, timeout: float) -> None:
        self.url = url
        self._fetcher, self._clock, self._timeout = fetcher, clock, timeout
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None  # clock() of the last successful fetch
        self._failed_at: float | None = None  # clock() of the last failed fetch, cleared by a success
        self._failure = ""
        self._inflight: asyncio.Task[None] | None = None

    async def get(self, key_id: str | None) -> SigningKey:
        """The published key named `key_id`, fetching or refreshing the key set as the rules above say.

        Raises:
            UnknownSigningKey: no key has that kid (or the token has no kid).
            SigningKeysUnavailable: no usable keys: the fetch failed (now or within `FAILURE_TTL`).
        """
        if not isinstance(key_id, str) or not key_id:
            raise UnknownSigningKey("the token names no signing key (kid)")
        if self._age() >= REFRESH_AFTER:
            await self._refresh_or_keep()
        key = self._keys.get(key_id)
        if key is None and self._age() >= UNKNOWN_KID_REFRESH_AFTER:
            await self._refresh_or_keep()  # keys may have rotated since
            key = self._keys.get(key_id)
        if key is None:
            raise UnknownSigningKey("no published signing key has the token's kid")
        return key

    def _age(self) -> float:
        return math.inf if self._fetched_at is None else self._clock() - self._fetched_at

    async def _refresh_or_keep(self) -> None:
        """Refresh; when that fails, keep serving keys younger than `MAX_KEY_AGE` (last known good)."""
        try:
            await self._refresh()
        except SigningKeysUnavailable:
            if self._age() >= MAX_KEY_AGE:
                raise

    async def _refresh(self) -> None:
        """Fetch the key set, joining the fetch in flight if there is one.

        Raises:
            SigningKeysUnavailable: this fetch failed, or one did less than `FAILURE_TTL` seconds ago.
        """
        self._raise_if_recently_failed()
        task, loop = self._inflight, asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:  # another loop's task: a past test's
            task = self._inflight = loop.create_task(self._fetch())
        await asyncio.shield(task)  # a caller that gives up (cancelled) leaves the fetch to the others
        self._raise_if_recently_failed()

    def _raise_if_recently_failed(self) -> None:
        if self._failed_at is not None and self._clock() - self._failed_at < FAILURE_TTL:
            raise SigningKeysUnavailable(f"fetching the signing keys failed recently ({self._failure})")

    async def _fetch(self) -> None:
        """Run one fetch and record its outcome; never raises, so no caller misses an exception."""
        try:
            keys = await self._fetcher(self.url, self._timeout)
        except Exception as exc:  # recorded for the callers; SigningKeysUnavailable is the expected kind
            self._failed_at, self._failure = self._clock(), str(exc) or type(exc).__name__
            log.warning("OpenID signing keys of %s unavailable: %s", self.url, self._failure)
            return
        self._keys, self._fetched_at, self._failed_at = keys, self._clock(), None


class OpenIdMetadataCache:
    """One `OpenIdMetadata` per metadata URL, handed to botbuilder in place of its `_OpenIdMetadata`.

    Args:
        fetcher: `fetch_signing_keys` or a test double.
        clock: monotonic seconds (tests pass a fake).
        timeout: seconds a fetch may take in total.
    """

    def __init__(
        self, *, fetcher: Fetcher = fetch_signing_keys, clock: Clock = time.monotonic, timeout: float = FETCH_TIMEOUT
    ) -> None:
        self.fetcher, self.clock, self.timeout = fetcher, clock, timeout
        self._by_url: dict[str, OpenIdMetadata] = {}

    def metadata(self, url: str) -> OpenIdMetadata:
        """The keys of `url` (the signature of botbuilder's `JwtTokenExtractor.get_open_id_metadata`)."""
        found = self._by_url.get(url)
        if found is None:
            found = self._by_url[url] = OpenIdMetadata(
                url, fetcher=self.fetcher, clock=self.clock, timeout=self.timeout
            )
        return found

    def clear(self) -> None:
        """Forget every URL's keys and failures (tests; a later `metadata()` starts afresh)."""
        self._by_url.clear()


CACHE = OpenIdMetadataCache()


def install(cache: OpenIdMetadataCache = CACHE) -> None:
    """Make botbuilder's `JwtTokenExtractor` take its keys from `cache`; idempotent.

    botbuilder builds an extractor per request and asks `JwtTokenExtractor.get_open_id_metadata(url)` for the
    URL's keys; that static method is the one seam, so it is replaced, and botbuilder's own cache emptied.
    """
    if JwtTokenExtractor.get_open_id_metadata == cache.metadata:
        return
    JwtTokenExtractor.get_open_id_metadata = staticmethod(cache.metadata)
    JwtTokenExtractor.metadataCache.clear()
