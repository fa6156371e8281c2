"""The clients botbuilder 4.17 builds for every turn, built once: connector clients cached per (app id, serviceUrl,
audience), as the legacy BotFrameworkAdapter did, so the credentials (and their MSAL token cache) live across turns;
user-token clients (OAuth prompts) cached per app id; and msrest's retry policy, of which botbuilder builds two per
turn, made cheap. `FixedCloudAdapter` (bot/adapter.py) wraps botbuilder's authentication and factories in these.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)
from msrest.universal_http.requests import ClientRetryPolicy

MAX_CONNECTORS = 32  # distinct serviceUrls are few; the bound only matters when auth is off


def patch_msrest_retry_policy() -> None:
    """Make msrest's `ClientRetryPolicy()` cheap; idempotent, behaviour unchanged.

    msrest 0.7.1 builds its retry status list with `i not in safe_codes` over 999 codes, `safe_codes`
    being a 501-item list: ~5 ms per policy, and botbuilder builds two per turn. A frozenset with the
    same members gives the same list (same order) in microseconds. msrest is deprecated; no fix is coming.
    """
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


class CachingConnectorFactory(ConnectorFactory):
    """botbuilder's per-request factory, remembering the clients it builds in the adapter's cache."""

    def __init__(self, inner: ConnectorFactory, app_id: str | None, cache: dict[Any, Any]) -> None:
        self._inner, self._app_id, self._cache = inner, app_id, cache

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            if len(self._cache) >= MAX_CONNECTORS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = client
        return client


def claims_app_id(claims_identity: ClaimsIdentity | None) -> str | None:
    """The app id botbuilder reads from the claims for outbound clients: the audience, else the appid claim."""
    claims = claims_identity.claims if claims_identity else {}
    app_id = claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
    return app_id if app_id is not None else claims.get(AuthenticationConstants.APP_ID_CLAIM)


class CachingAuthentication(BotFrameworkAuthentication):
    """botbuilder's authentication, keeping the user-token client it builds for each app id.

    `CloudAdapterBase.process_activity` asks for one every turn, and each is a new msrest client with its
    own configuration and `requests` session (~0.3 ms), though it depends on nothing but the app id.
    """

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        super().__init__()
        self._inner = inner
        self._user_token_clients: dict[str | None, Any] = {}

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        return await self._inner.authenticate_request(activity, auth_header)

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._inner.create_connector_factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        key = claims_app_id(claims_identity)
        client = self._user_token_clients.get(key)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            if len(self._user_token_clients) >= MAX_CONNECTORS:
                self._user_token_clients.pop(next(iter(self._user_token_clients)))
            self._user_token_clients[key] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

    async def generate_caller_id(self, **kwargs: Any) -> str | None:
        return await self._inner.generate_caller_id(**kwargs)
