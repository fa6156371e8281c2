"""CloudAdapter for botbuilder 4.17.1 with its HTTP edge fixed and its reply path made cheap.

- POST bodies are validated before a turn (`bot/inbound.py`): a bad request gets a 4xx with a short JSON reason,
  never a 500; a refused bearer token a 401 with a short reason (`bot/bearer.py`).
- expectReplies and invoke responses are serialised once (4.17.x serialises twice and answers 500): a reply
  is serialised when it goes out and that snapshot serves the POST, the expectReplies response and the
  transcript (`bot/sdk/turn_context.py`); serialising goes through `bot/sdk/activity_json.py` (msrest's output, without
  msrest's per-call overhead), as does reading the incoming activity. An invoke always gets a defined answer
  (`invoke_answer`).
- Replies are copied shallowly by `bot/sdk/turn_context.py` rather than with `copy.deepcopy` before they are sent.
- Replies go out through one shared aiohttp session instead of a thread-pooled `requests` call.
- Connector and user-token clients are built once, not per turn, and msrest's retry policy is cheap
  (`bot/sdk/connectors.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import aiohttp
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
)
from msrest.exceptions import SerializationError
from msrest.serialization import Model
from yarl import URL

from assistant import fast_json
from bot.bearer import auth_failure_reason, check_token_shape
from bot.inbound import loopback_url, read_activity, reject
from bot.sdk import openid
from bot.sdk.connectors import (
    CachingAuthentication,
    CachingConnectorFactory,
    claims_app_id,
    patch_msrest_retry_policy,
)
from bot.sdk.turn_context import FastCopyTurnContext, serialized, snapshot

log = logging.getLogger(__name__)

_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
ERROR_TYPE = "application/vnd.microsoft.error"  # the `type` of a Universal Actions error answer


class ConnectorError(Exception):
    """The Bot Connector refused a reply or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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
        self.bot_framework_authentication: BotFrameworkAuthentication = CachingAuthentication(
            self.bot_framework_authentication
        )
        self._max_body_bytes = max_body_bytes
        self._max_id_chars = max_id_chars
        # auth off: nobody proved who sent the activity, so its serviceUrl may only name this machine
        self._loopback_replies_only = loopback_replies_only
        self._connectors: dict[Any, Any] = {}
        self._session: aiohttp.ClientSession | None = None
        # channels served by this process (the embedded Direct Line): a sink keeps a proactive activity for its
        # conversation and returns True, or returns False for activities it does not serve
        self.local_sinks: list[Callable[[Activity], Awaitable[bool]]] = []

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
        activity = await read_activity(
            request,
            max_body_bytes=self._max_body_bytes,
            max_id_chars=self._max_id_chars,
            loopback_replies_only=self._loopback_replies_only,
        )
        if isinstance(activity, web.Response):
            return activity
        try:
            auth = await self._authenticate(activity, request.headers.get("Authorization", ""))
        # Broad on purpose, and around authentication only: botbuilder signals a refused token with PermissionError,
        # PyJWT errors, bare `Exception("Could not validate endorsement key")`, and KeyError or TypeError from claims
        # it reads unchecked (a token without `iss`). Each is the caller's fault and a 401, never a 500; the class
        # is logged so that a fault of ours still shows. The turn below is not covered: its errors stay 500s.
        except Exception as exc:
            reason = auth_failure_reason(exc)
            log.warning("rejected unauthenticated activity: %s (%s)", reason, type(exc).__name__)
            return reject(401, reason)
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
        result.connector_factory = CachingConnectorFactory(factory, claims_app_id(identity), self._connectors)
        return result

    async def _authenticate(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        """botbuilder's authentication, after the shape check, with the connector factory made caching.

        Raises:
            Exception: any kind (see `process`) when the token is refused.
        """
        check_token_shape(auth_header)
        result = await self.bot_framework_authentication.authenticate_request(activity, auth_header)
        app_id = claims_app_id(result.claims_identity)
        result.connector_factory = CachingConnectorFactory(result.connector_factory, app_id, self._connectors)
        return result

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        """Send replies like `CloudAdapterBase.send_activities`, over the shared session."""
        if not isinstance(context.turn_state.get(self.CONNECTOR_FACTORY_KEY), CachingConnectorFactory):
            # proactive turns to the embedded Direct Line stay in the process; others keep botbuilder's path
            remote = [a for a in activities if not await self._kept_locally(a)] if self.local_sinks else activities
            kept = [ResourceResponse(id=a.id or "") for a in activities if a not in remote]
            sent: list[ResourceResponse] = await super().send_activities(context, remote) if remote else []
            return kept + sent
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

    async def _kept_locally(self, activity: Activity) -> bool:
        if activity.type == ActivityTypes.trace:
            return False
        for sink in self.local_sinks:
            if await sink(activity):
                return True
        return False

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
        if self._loopback_replies_only and not loopback_url(activity.service_url):  # checked on the way in too
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
            async with self._session.post(url, data=fast_json.dumps_body(body), headers=headers) as resp:
                if not 200 <= resp.status < 300:
                    raise ConnectorError(f"Bot Connector answered HTTP {resp.status}", resp.status)
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConnectorError(f"Bot Connector unreachable: {type(exc).__name__}") from exc
        try:
            data = fast_json.loads(raw) if raw.strip() else {}
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
