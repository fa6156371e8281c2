"""CloudAdapter for botbuilder 4.17.1 with its HTTP edge fixed and its reply path made cheap.

- POST bodies are validated here: a bad request gets a 4xx with a short JSON reason, never a 500.
- expectReplies and invoke responses are serialised once (4.17.x serialises twice and answers 500): a reply
  is serialised when it goes out and that snapshot serves the POST, the expectReplies response and the
  transcript (`bot/sdk/turn_context.py`); serialising goes through `bot/sdk/activity_json.py` (msrest's output, without
  msrest's per-call overhead), as does reading the incoming activity.
- Replies are copied shallowly by `bot/sdk/turn_context.py` rather than with `copy.deepcopy` before they are sent.
- Replies go out through one shared aiohttp session instead of a thread-pooled `requests` call.
- ConnectorClients are cached per (app id, serviceUrl, audience), as the legacy BotFrameworkAdapter did,
  so a turn no longer builds one, and the credentials (and their MSAL token cache) live across turns.
  User-token clients (OAuth prompts) are cached the same way, per app id.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import aiohttp
import jwt
from aiohttp import web
from botbuilder.core import Bot, InvokeResponse, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    DeliveryModes,
    Error,
    ResourceResponse,
)
from botframework.connector import Channels
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)
from msrest.exceptions import SerializationError
from msrest.serialization import Model
from msrest.universal_http.requests import ClientRetryPolicy
from yarl import URL

from bot.sdk import openid
from bot.sdk.activity_json import deserialize, has_lone_surrogate
from bot.sdk.turn_context import FastCopyTurnContext, serialized, snapshot
from bot.settings import is_loopback_host

log = logging.getLogger(__name__)

_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
_MAX_CONNECTORS = 32  # distinct serviceUrls are few; the bound only matters when auth is off
ERROR_TYPE = "application/vnd.microsoft.error"  # the `type` of a Universal Actions error answer


class ConnectorError(Exception):
    """The Bot Connector refused a reply or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def patch_msrest_retry_policy() -> None:
    """Make msrest's `ClientRetryPolicy()` cheap; idempotent, behaviour unchanged.

    msrest 0.7.1 builds its retry status list with `i not in safe_codes` over 999 codes, `safe_codes`
    being a 501-item list: ~5 ms per policy, and botbuilder builds two per turn. A frozenset with the
    same members gives the same list (same order) in microseconds. msrest is deprecated; no fix is coming.
    """
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


def _shape_problem(body: Any) -> str | None:
    """What makes `body` unusable as an activity, checked before msrest sees it; None if nothing.

    Refused with a 400 (each case would otherwise fail the turn, with a traceback in the log and nothing sent):
    an empty conversation.id (botbuilder's state keys need it), and a serviceUrl that is not an http(s) URL, or
    missing when the replies must go to the Bot Connector (not expectReplies). Accepted: any activity type (an
    unknown one is a no-op turn), a missing or null `from` or `recipient` (the turn still runs, replies are
    addressed with what there is), and a missing channelId (checked after authentication, by the bot: see
    `bot/handler.py`). msrest refuses what does not match the schema.
    """
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not body.get("type") or not isinstance(body["type"], str):
        return "activity type is missing"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str) or not conversation["id"]:
        return "activity conversation.id is missing"
    if not isinstance(body.get("text"), str | None):
        return "activity text must be a string"
    return _service_url_problem(body.get("serviceUrl"), body.get("deliveryMode"))


def _service_url_problem(service_url: Any, delivery_mode: Any) -> str | None:
    """Why replies could not go to `service_url`; None when they can, or when they travel in the HTTP response."""
    if service_url is None:
        return None if delivery_mode == DeliveryModes.expect_replies else "activity serviceUrl is missing"
    if not isinstance(service_url, str):
        return "activity serviceUrl must be an http(s) URL"
    try:
        url = URL(service_url)
    except ValueError:
        return "activity serviceUrl must be an http(s) URL"
    if url.scheme not in ("http", "https") or not url.host:
        return "activity serviceUrl must be an http(s) URL"
    return None


_ID_FIELDS = (("id",), ("replyToId",), ("channelId",), ("conversation", "id"), ("from", "id"), ("recipient", "id"))


def _ids_problem(body: dict[str, Any], limit: int) -> str | None:
    """An id longer than `limit` characters (a 200 KB id would be stored, keyed on and logged), or a serviceUrl
    longer than 2,048; None if none."""
    for path in _ID_FIELDS:
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value) > limit:
            return f"activity {'.'.join(path)} exceeds {limit} characters"
    service_url = body.get("serviceUrl")
    if isinstance(service_url, str) and len(service_url) > 2048:
        return "activity serviceUrl exceeds 2048 characters"
    return None


@functools.lru_cache(maxsize=256)  # a deployment replies to a handful of service URLs, checked on every reply
def _loopback_url(url: str) -> bool:
    try:
        return is_loopback_host(URL(url).host)
    except ValueError:
        return False


def _reject(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def invoke_error(status_code: int, code: str, message: str) -> dict[str, Any]:
    """The body of an invoke answer reporting an error, in Teams' Universal Actions shape (send it with HTTP 200):
    `{"statusCode": 400, "type": "application/vnd.microsoft.error", "value": {"code": ..., "message": ...}}`."""
    error = Error(code=code, message=message).serialize()
    body: dict[str, Any] = AdaptiveCardInvokeResponse(status_code=status_code, type=ERROR_TYPE, value=error).serialize()
    return body


def invoke_answer(result: Any) -> InvokeResponse:
    """What the HTTP response to an invoke carries: the bot's answer, serialised, or 200 with no body.

    No answer (the turn failed before one was set, or nothing handles the invoke's name) and botbuilder's 501
    "not implemented" both become 200 with no body: Teams and Direct Line take that as "handled, nothing to
    show", whereas a 5xx makes Teams show an error and retry. An answer whose body cannot be serialised (e.g.
    botbuilder's own error answer for a malformed adaptiveCard/action, whose value is an Exception) becomes
    200 with an `invoke_error` body instead of a 500.
    """
    status = getattr(result, "status", None)
    if not isinstance(status, int) or status == HTTPStatus.NOT_IMPLEMENTED:
        return InvokeResponse(status=HTTPStatus.OK)
    body = getattr(result, "body", None)
    if isinstance(body, Model):
        try:
            body = serializer_helper(body)
        except (SerializationError, TypeError, ValueError):
            log.warning("an invoke answer could not be serialised: %s", type(body).__name__)
            error = invoke_error(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalServerError", "the answer was malformed")
            return InvokeResponse(status=HTTPStatus.OK, body=error)
    return InvokeResponse(status=status, body=body)


class _BadToken(Exception):
    """A bearer token refused on its shape alone, before any signing key is looked up."""


_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_DEFAULT_AUTH_REASON = "missing or invalid Authorization header"
# What a client is told, first match wins; the default covers PermissionError and botbuilder's bare Exceptions.
_AUTH_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidSignatureError, "token signature does not verify"),
    (openid.UnknownSigningKey, "token signed by an unknown key"),
    (openid.SigningKeysUnavailable, "signing keys unavailable"),
    (jwt.InvalidTokenError, "invalid token"),
)


def _check_token_shape(auth_header: str) -> None:
    """Refuse, at no network cost, a header that cannot carry a Bot Framework token; an empty one passes.

    botbuilder decides about an empty header (anonymous when auth is off). Otherwise the token must be three
    base64url segments whose header says RS256 (botbuilder verifies with nothing else, whatever its allowed list
    says) and names a key: alg none, HS256 (alg confusion) and garbage never reach the key lookup.

    Raises:
        _BadToken: with the short reason the client gets.
    """
    if not auth_header:
        return
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer":  # botbuilder's own test, case and all
        raise _BadToken("Authorization scheme must be Bearer")
    segments = token.split(".")
    if len(segments) != 3 or not all(_BASE64URL.fullmatch(segment) for segment in segments):
        raise _BadToken("token is not a signed JWT")
    try:
        header = json.loads(base64.urlsafe_b64decode(segments[0] + "=" * (-len(segments[0]) % 4)))
    except (ValueError, RecursionError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise _BadToken("token header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise _BadToken("token algorithm must be RS256")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise _BadToken("token names no signing key")


def _auth_failure_reason(exc: Exception) -> str:
    """The short reason for a 401: never the token, nor botbuilder's message (it may quote claims)."""
    if isinstance(exc, _BadToken):
        return str(exc)
    return next((reason for kind, reason in _AUTH_REASONS if isinstance(exc, kind)), _DEFAULT_AUTH_REASON)


class _CachingConnectorFactory(ConnectorFactory):
    """botbuilder's per-request factory, remembering the clients it builds in the adapter's cache."""

    def __init__(self, inner: ConnectorFactory, app_id: str | None, cache: dict[Any, Any]) -> None:
        self._inner, self._app_id, self._cache = inner, app_id, cache

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            if len(self._cache) >= _MAX_CONNECTORS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = client
        return client


def _claims_app_id(claims_identity: ClaimsIdentity | None) -> str | None:
    """The app id botbuilder reads from the claims for outbound clients: the audience, else the appid claim."""
    claims = claims_identity.claims if claims_identity else {}
    app_id = claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
    return app_id if app_id is not None else claims.get(AuthenticationConstants.APP_ID_CLAIM)


class _CachingAuthentication(BotFrameworkAuthentication):
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
        key = _claims_app_id(claims_identity)
        client = self._user_token_clients.get(key)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            if len(self._user_token_clients) >= _MAX_CONNECTORS:
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


class FixedCloudAdapter(CloudAdapter):
    """`CloudAdapter` with a validating POST path, single serialisation and a pooled reply sender.

    Call `close()` on shutdown to release the HTTP session and cached connector clients.
    """

    def __init__(
        self,
        bot_framework_authentication: Any = None,
        *,
        max_body_bytes: int,
        max_id_chars: int = 512,
        loopback_replies_only: bool = False,
    ) -> None:
        patch_msrest_retry_policy()
        openid.install()  # botbuilder's blocking, failure-blind signing-key fetch is replaced, once per process
        super().__init__(bot_framework_authentication)  # which picks botbuilder's default when given None
        self.bot_framework_authentication: BotFrameworkAuthentication = _CachingAuthentication(
            self.bot_framework_authentication
        )
        self._max_body_bytes = max_body_bytes
        self._max_id_chars = max_id_chars
        # auth off: nobody proved who sent the activity, so its serviceUrl may only name this machine
        self._loopback_replies_only = loopback_replies_only
        self._connectors: dict[Any, Any] = {}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the shared reply session and the cached connector clients."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        for client in self._connectors.values():
            async with client:  # leaving the context closes msrest's `requests` session
                pass
        self._connectors.clear()

    async def process(
        self, request: web.Request, bot: Bot, ws_response: web.WebSocketResponse | None = None
    ) -> web.StreamResponse:
        """Handle one POST from the channel (GET + websocket streaming stays with botbuilder)."""
        if request.method == "GET" and ws_response is not None:
            await super().process(request, bot, ws_response)
            return ws_response
        if request.method != "POST":
            return web.json_response({"error": "use POST"}, status=405, headers={"Allow": "POST"})
        activity = await self._read_activity(request)
        if isinstance(activity, web.Response):
            return activity
        try:
            auth = await self._authenticate(activity, request.headers.get("Authorization", ""))
        # Broad on purpose, and around authentication only: botbuilder signals a refused token with PermissionError,
        # PyJWT errors, bare `Exception("Could not validate endorsement key")`, and KeyError or TypeError from claims
        # it reads unchecked (a token without `iss`). Each is the caller's fault and a 401, never a 500; the class
        # is logged so that a fault of ours still shows. The turn below is not covered: its errors stay 500s.
        except Exception as exc:
            reason = _auth_failure_reason(exc)
            log.warning("rejected unauthenticated activity: %s (%s)", reason, type(exc).__name__)
            return _reject(401, reason)
        result = await self.process_activity(auth, activity, bot.on_turn)
        if result is None:
            return web.Response(status=201)
        if result.body is None:  # an invoke nobody answers: 200 with no body (`invoke_answer`)
            return web.Response(status=int(result.status))
        body = serializer_helper(result.body) if isinstance(result.body, Model) else result.body
        return web.json_response(body, status=int(result.status))

    async def process_activity(self, auth_header_or_result: Any, activity: Activity, logic: Any) -> Any:
        """As botbuilder's, but a turn authenticated from a header reuses the cached connector client."""
        if isinstance(auth_header_or_result, str):
            auth_header_or_result = await self._authenticate(activity, auth_header_or_result)
        return await super().process_activity(auth_header_or_result, activity, logic)

    def in_process_auth(self, app_id: str, claims: dict[str, Any]) -> AuthenticateRequestResult:
        """Credentials for turns this process hands the bot itself (embedded Direct Line, terminal): the bot's own
        identity, as botbuilder builds it for a proactive turn, plus `claims`; with the caching connector factory,
        so a turn builds no connector client (one per turn left cyclic garbage behind)."""
        auth = self.bot_framework_authentication
        identity = self.create_claims_identity(app_id)
        identity.claims = {**identity.claims, **claims}
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = auth.get_originating_audience()
        result.caller_id = None
        factory = auth.create_connector_factory(identity)
        result.connector_factory = _CachingConnectorFactory(factory, _claims_app_id(identity), self._connectors)
        return result

    async def _authenticate(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        """botbuilder's authentication, after the shape check, with the connector factory made caching.

        Raises:
            Exception: any kind (see `process`) when the token is refused.
        """
        _check_token_shape(auth_header)
        result = await self.bot_framework_authentication.authenticate_request(activity, auth_header)
        app_id = _claims_app_id(result.claims_identity)
        result.connector_factory = _CachingConnectorFactory(result.connector_factory, app_id, self._connectors)
        return result

    async def _read_activity(self, request: web.Request) -> Activity | web.Response:
        if request.content_type != "application/json":
            return _reject(415, "Content-Type must be application/json")
        limit = self._max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return _reject(413, f"body exceeds {limit} bytes")
        raw = bytearray()
        async for chunk in request.content.iter_any():  # bounded read, Content-Length or not
            raw += chunk
            if len(raw) > limit:
                return _reject(413, f"body exceeds {limit} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return _reject(400, "body is not valid JSON")
        problem = _shape_problem(body)
        if problem:
            return _reject(400, problem)
        if has_lone_surrogate(raw, body):
            return _reject(400, "body holds text that is not valid Unicode (a lone surrogate)")
        problem = _ids_problem(body, self._max_id_chars) or self._reply_target_problem(body)
        if problem:
            return _reject(400, problem)
        try:
            return deserialize(Activity, body)
        except ValueError:  # msrest's DeserializationError
            return _reject(400, "activity does not match the Bot Framework schema")

    def _reply_target_problem(self, body: dict[str, Any]) -> str | None:
        service_url = body.get("serviceUrl")
        if self._loopback_replies_only and isinstance(service_url, str) and not _loopback_url(service_url):
            return "with Bot Framework auth off, serviceUrl must be a loopback URL (replies go only to this machine)"
        return None

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        """Send replies like `CloudAdapterBase.send_activities`, over the shared session."""
        if not isinstance(context.turn_state.get(self.CONNECTOR_FACTORY_KEY), _CachingConnectorFactory):
            sent: list[ResourceResponse] = await super().send_activities(context, activities)
            return sent  # streaming and proactive turns keep botbuilder's path
        responses = []
        for activity in activities:
            activity.id = None
            response = None
            if activity.type == "delay":
                await asyncio.sleep(int((activity.value or 1000) / 1000))
            elif activity.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
            elif activity.type != ActivityTypes.trace or activity.channel_id == Channels.emulator:
                response = await self._post(context, activity)
            responses.append(response or ResourceResponse(id=activity.id or ""))
        return responses

    def _create_turn_context(self, activity: Activity, *args: Any, **kwargs: Any) -> TurnContext:
        """botbuilder's turn context set-up, on a `FastCopyTurnContext` (same turn state)."""
        base: TurnContext = super()._create_turn_context(activity, *args, **kwargs)
        context = FastCopyTurnContext(self, activity)
        context.turn_state.update(base.turn_state)
        return context

    def _process_turn_results(self, context: TurnContext) -> InvokeResponse | None:
        """As botbuilder's, but expectReplies reuses the replies' serialisation (the transcript's, usually), and an
        invoke always gets a defined answer (`invoke_answer`): never botbuilder's 501, never a body that fails."""
        if context.activity.delivery_mode != DeliveryModes.expect_replies:
            result: InvokeResponse | None = super()._process_turn_results(context)
            if context.activity.type == ActivityTypes.invoke:
                return invoke_answer(result)
            return result
        # what ExpectedReplies(activities=...).serialize() gives, one serialize() per reply
        activities = [serialized(context, activity) for activity in context.buffered_reply_activities]
        return InvokeResponse(status=HTTPStatus.OK, body={"activities": activities})

    async def _post(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        if not activity.service_url:
            raise ConnectorError("the activity has no serviceUrl to reply to")
        if self._loopback_replies_only and not _loopback_url(activity.service_url):  # checked on the way in too
            raise ConnectorError("with auth off, replies go only to loopback service URLs")
        path = f"/v3/conversations/{quote(activity.conversation.id, safe='')}/activities"
        if activity.reply_to_id:
            path += f"/{quote(activity.reply_to_id, safe='')}"
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = await _bearer_token(context.turn_state.get(self.BOT_CONNECTOR_CLIENT_KEY))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
        base = URL(activity.service_url)  # encoded=True keeps ":;@=" escaped, as msrest sends them
        url = base.with_path(base.raw_path.rstrip("/") + path, encoded=True)
        body = snapshot(context, activity)  # always afresh: what goes out is the activity as it is now
        try:  # bytes in, bytes out: aiohttp's str payload and text() (charset handling) cost ~50 µs a reply
            async with self._session.post(url, data=json.dumps(body).encode(), headers=headers) as resp:
                if not 200 <= resp.status < 300:
                    raise ConnectorError(f"Bot Connector answered HTTP {resp.status}", resp.status)
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConnectorError(f"Bot Connector unreachable: {type(exc).__name__}") from exc
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError:
            data = {}  # only the id is read; a garbled answer to a 2xx is not worth failing the turn
        return ResourceResponse(id=data.get("id") if isinstance(data, dict) else None)


async def _bearer_token(connector: Any) -> str | None:
    """The token botbuilder's own credentials would put on this reply, or None when auth is off."""
    credentials = getattr(getattr(connector, "config", None), "credentials", None)
    app_id = getattr(credentials, "microsoft_app_id", None)
    # same rule as AppCredentials._should_set_token
    if credentials is None or not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
        return None
    # MSAL may call Entra ID on a cache miss, and that call is blocking
    return await asyncio.to_thread(credentials.get_access_token)
