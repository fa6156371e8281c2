"""A local fake of the Bot Connector REST API (v3), for tests and the benchmark: an aiohttp app on 127.0.0.1 at an
ephemeral port, to be used as an activity's `serviceUrl`.

Routes, answered the way the Teams connector answers them:

- `POST /v3/conversations` (ConversationParameters: `isGroup`, `channelData.channel.id`, `channelData.tenant.id`,
  `members`, `activity`) → 201. With a Teams channel id this starts a new thread in that channel, as Teams does:
  `{"id": "<channel id>;messageid=<n>", "activityId": "<n>"}`; without one, a 1:1 conversation `{"id": "a:fake-<n>"}`
  (plus `activityId` when an activity was given). `<n>` is a Teams-like message id (epoch milliseconds, increasing).
- `POST /v3/conversations/{id}/activities` (send to conversation) and `POST …/activities/{activityId}` (reply to
  an activity) → 200 `{"id": "<n>"}`.
- `PUT /v3/conversations/{id}/activities/{activityId}` (update an activity) → 200 `{"id": "<activityId>"}`.
- anything else → 404 `{"error": {"code": "NotFound", …}}`, recorded too, so a test sees the unexpected call.

Ids may hold ":", ";", "@", "/" and percent-encoding (msrest quotes the whole id: `19:abc@thread.tacv2;messageid=1`
arrives as `19%3Aabc%40thread.tacv2%3Bmessageid%3D1`); the routes take `{name:.+}` and each `ConnectorCall` holds the
ids decoded and the raw path as sent.

Every call is recorded (method, raw path, decoded ids, JSON body, Authorization header, the status answered, when
it was answered) in `calls`; `await fake.wait_for(predicate, timeout)` waits on an `asyncio.Condition` for a matching
call. Switches: `not_in_roster = True` answers `POST /v3/conversations` with 403 `BotNotInConversationRoster` (the bot
is not installed in the team: the "Ask an expert" failure), and `fail_next(n)` answers the next `n` calls with 503.

Use: `fake = await FakeConnector().start()` … `await fake.stop()`, or `async with FakeConnector() as fake:` — no
pytest plugin needed (tests/conftest.py's `fake_connector` fixture is one).

What works against it with botbuilder 4.17.1 (observed; tests/devtools/test_fake_connector.py drives each):

- `botframework.connector.aio.ConnectorClient(MicrosoftAppCredentials.empty(), base_url=fake.url)`, used as
  `async with` (it has no `close()`): `conversations.create_conversation` (→ `ConversationResourceResponse` with
  `id` and `activity_id`), `send_to_conversation`, `reply_to_activity` and `update_activity` all round-trip. Empty
  credentials send no Authorization header (anonymous, as with auth off). Its transport is `requests` in a thread
  pool with urllib3's retry policy, which retries idempotent methods only: a POST answered 403 or 503 raises
  `botframework.connector.models.ErrorResponseException` at once (`.error.error.code` is the fake's code, one
  call recorded), while a PUT (`update_activity`) answered 503 is retried, so `fail_next(1)` is invisible to the
  caller (two calls recorded) and four 503s in a row take about 5 s of backoff and raise
  `msrest.exceptions.ClientRequestError` ("too many 503 error responses"), not `ErrorResponseException`.
- A non-empty `MicrosoftAppCredentials(app_id, password)` would fetch a token from login.microsoftonline.com: not
  usable offline. Credentials whose `get_access_token` returns a fixed string (tests/echo_host.py's
  `StaticCredentials`) put `Authorization: Bearer <token>` on every call.
- `CloudAdapter.create_conversation("", callback, ConversationParameters(...), "msteams", fake.url)` with auth off
  (empty app id; botbuilder's `CloudAdapter` and bot/adapter.py's `FixedCloudAdapter` alike) posts
  `POST /v3/conversations`, then runs `callback` with a turn context whose activity is an **event** named
  `CreateConversation` (not a conversationUpdate): `conversation.id` is the new thread's (`…;messageid=<n>`) and
  `id` is `activityId`, so `TurnContext.get_conversation_reference` captures the thread, and `send_activity` from
  the callback is a reply to the thread's first message (`POST …/activities/<n>`). On 403 the
  `ErrorResponseException` propagates out of `create_conversation` itself (the callback never runs, and
  `on_turn_error` is not called).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

NOT_IN_ROSTER = {"code": "BotNotInConversationRoster", "message": "The bot is not part of the conversation roster."}
UNAVAILABLE = {"code": "ServiceUnavailable", "message": "The service is temporarily unavailable."}
_FIRST_MESSAGE_ID = 1_767_225_600_000  # Teams message ids are epoch milliseconds


@dataclass(frozen=True)
class ConnectorCall:
    """One request the fake received, and what it answered."""

    kind: str  # create_conversation, send_to_conversation, reply_to_activity, update_activity, unknown
    method: str
    path: str  # raw, still percent-encoded as sent
    conversation_id: str | None  # decoded
    activity_id: str | None  # decoded: the activity replied to or updated
    body: Any  # the parsed JSON body (None if there was none or it was not JSON)
    authorization: str | None
    status: int  # the status the fake answered
    at: float = 0.0  # `time.perf_counter()` when the fake answered (this process's clock): the bench times deliveries

    @property
    def activity(self) -> dict[str, Any]:
        """The activity sent: the body of an activity call, the `activity` of a create call ({} if none)."""
        if not isinstance(self.body, dict):
            return {}
        if self.kind == "create_conversation":
            inner = self.body.get("activity")
            return inner if isinstance(inner, dict) else {}
        return self.body


class FakeConnector:
    """The fake Bot Connector: `await start()`, use `url` as the serviceUrl, read `calls`, `await stop()`."""

    def __init__(self) -> None:
        self.calls: list[ConnectorCall] = []
        self.not_in_roster = False  # answer create_conversation with 403 BotNotInConversationRoster
        self._failures = 0
        self._ids = itertools.count(_FIRST_MESSAGE_ID)
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Condition | None = None
        self.url = ""

    def fail_next(self, times: int) -> None:
        """Answer the next `times` calls (any route) with 503 ServiceUnavailable."""
        self._failures = times

    @property
    def failures_left(self) -> int:
        """How many of the 503s asked for by `fail_next` are still to come."""
        return self._failures

    async def start(self) -> FakeConnector:
        """Listen on 127.0.0.1 at an ephemeral port; `url` is then `http://127.0.0.1:<port>`."""
        if self._runner is not None:
            raise RuntimeError("the fake connector is already started")
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        # `[\s\S]+`: msrest percent-encodes ids whole; one holding "/" ("%2F") is not matched by `{name}`, and one
        # holding a line break ("%0D%0A", decoded before matching) not by `.+`
        app.router.add_post(r"/v3/conversations/{conversation:[\s\S]+}/activities", self._send)
        app.router.add_post(r"/v3/conversations/{conversation:[\s\S]+}/activities/{activity:[\s\S]+}", self._reply)
        app.router.add_put(r"/v3/conversations/{conversation:[\s\S]+}/activities/{activity:[\s\S]+}", self._update)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeConnector:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # a `timeout` argument rather than the caller's `asyncio.timeout()`: the timeout error lists the calls received
    async def wait_for(
        self,
        predicate: Callable[[ConnectorCall], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> ConnectorCall:
        """The first call (already received or still to come) for which `predicate` is true.

        Raises:
            TimeoutError: none came within `timeout` seconds (the message lists the calls that did).
        """
        if self._changed is None:
            raise RuntimeError("start the fake connector first")

        def found() -> ConnectorCall | None:
            return next((call for call in self.calls if predicate(call)), None)

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: found() is not None)
        except TimeoutError:
            seen = [(call.method, call.path, call.status) for call in self.calls]
            raise TimeoutError(f"no matching connector call within {timeout}s; received: {seen}") from None
        call = found()
        assert call is not None  # it matched when the wait ended, and calls are only ever appended
        return call

    # --- the routes --------------------------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        body = await _json(request)
        kind = "create_conversation"
        if self._take_failure():
            return await self._answer(request, kind, body, 503, {"error": UNAVAILABLE})
        if self.not_in_roster:
            return await self._answer(request, kind, body, 403, {"error": NOT_IN_ROSTER})
        params = body if isinstance(body, dict) else {}
        channel = _object(_object(params.get("channelData")).get("channel"))
        message_id = str(next(self._ids))
        result: dict[str, Any]
        if isinstance(channel.get("id"), str) and channel["id"]:  # a new thread in a Teams channel
            result = {"id": f"{channel['id']};messageid={message_id}", "activityId": message_id}
        else:  # a 1:1 conversation; Teams returns an activity id only when it posted an activity
            result = {"id": f"a:fake-{message_id}"}
            if isinstance(params.get("activity"), dict):
                result["activityId"] = message_id
        return await self._answer(request, kind, body, 201, result, conversation=result["id"])

    async def _send(self, request: web.Request) -> web.Response:
        return await self._activity(request, "send_to_conversation")

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._activity(request, "reply_to_activity")

    async def _update(self, request: web.Request) -> web.Response:
        return await self._activity(request, "update_activity")

    async def _activity(self, request: web.Request, kind: str) -> web.Response:
        body = await _json(request)
        # aiohttp matches on the path with "%2F" still encoded and decodes each value once
        ids = request.match_info["conversation"], request.match_info.get("activity")
        if self._take_failure():
            return await self._answer(request, kind, body, 503, {"error": UNAVAILABLE}, *ids)
        if not isinstance(body, dict):
            error = {"code": "BadArgument", "message": "The activity is missing or is not a JSON object."}
            return await self._answer(request, kind, body, 400, {"error": error}, *ids)
        new_id = ids[1] if kind == "update_activity" and ids[1] else str(next(self._ids))
        return await self._answer(request, kind, body, 200, {"id": new_id}, *ids)

    async def _unknown(self, request: web.Request) -> web.Response:
        error = {"code": "NotFound", "message": f"{request.method} is not served at this path by the fake connector"}
        return await self._answer(request, "unknown", await _json(request), 404, {"error": error})

    # --- recording ---------------------------------------------------------------------------------------------

    def _take_failure(self) -> bool:
        if self._failures <= 0:
            return False
        self._failures -= 1
        return True

    async def _answer(
        self,
        request: web.Request,
        kind: str,
        body: Any,
        status: int,
        answer: dict[str, Any],
        conversation: str | None = None,
        activity: str | None = None,
    ) -> web.Response:
        call = ConnectorCall(
            kind=kind,
            method=request.method,
            path=request.raw_path,
            conversation_id=conversation,
            activity_id=activity,
            body=body,
            authorization=request.headers.get("Authorization"),
            status=status,
            at=time.perf_counter(),
        )
        assert self._changed is not None  # set by start(), before any request can arrive
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return web.json_response(answer, status=status)


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def _json(request: web.Request) -> Any:
    """The request's JSON body, or None when it has none or it is not JSON."""
    raw = await request.read()
    try:
        return json.loads(raw) if raw else None
    except ValueError:  # UnicodeDecodeError included
        return None
