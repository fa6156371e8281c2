"""Web Chat for the assistant: the page at `/`, the pinned Web Chat bundle, `/embed.js`, the token route
`/api/directline/token` and an embedded Direct Line 3.0 endpoint under `/v3/directline`.

Local mode (no Direct Line secret): the embedded endpoint speaks the part of Direct Line 3.0 that Web Chat uses
when polling. Each user activity is echoed into its conversation's history first (Web Chat marks a message sent
only when its `clientActivityID` comes back), then handed to the same bot in process with deliveryMode
expectReplies; the replies are appended after it.

Azure mode (a secret is set): `/api/directline/token` exchanges the secret server-side for a conversation token
and the page talks to Azure's Direct Line. The embedded endpoint is then not mounted, so the bot keeps no
unauthenticated side door next to its authenticated `/api/messages`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiohttp import web
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from assistant.trust import VOUCHED_PREFIX
from bot.channels.gate import ClientRateLimit, GateRefusal, LogThrottle, TokenGate
from bot.identity import EMBEDDED_CLAIM, VOUCHED_CLAIM
from bot.log_setup import safe_id
from bot.sdk.activity_json import has_lone_surrogate
from bot.settings import Settings
from bot.wiring import Assistant

log = logging.getLogger(__name__)

BASE = "/v3/directline"
WEBCHAT_DIR = Path(__file__).resolve().parents[2] / "webchat" / "node_modules" / "botframework-webchat"
BUNDLE = WEBCHAT_DIR / "dist" / "webchat.js"
STATIC = Path(__file__).with_name("static")

MAX_HISTORY = 500  # activities kept per conversation; older ones fall off (and beyond the history bytes setting)
MAX_TOKENS = 4  # live tokens per conversation (each refresh adds one)
_THROTTLE = LogThrottle()  # refusals are logged at most once a minute per kind
_FULL_RETRY_AFTER = 60  # seconds a client is told to wait when no new conversation can be opened
BOT_ACCOUNT = {"id": "cosell-bot", "name": "Co-sell Connectors Assistant", "role": "bot"}

_ALLOW_HEADERS = "Authorization, Content-Type, x-ms-bot-agent, X-Requested-With"  # DirectLineJS sends all four
_CORS_PREFIXES = (BASE + "/", "/api/directline/")
_LOOPBACK = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$")
_LOCALE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,3}$")
_SERVER_FIELDS = ("id", "timestamp", "channelId", "conversation", "recipient", "serviceUrl", "deliveryMode", "callerId")
_DROPPED_TYPES = frozenset({"trace", "invokeResponse"})
_UPSTREAM_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class DirectLineError(Exception):
    """A request the Direct Line routes refuse; becomes `{"error": {"code", "message"}}` with `status`."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def response(self) -> web.Response:
        """The JSON error response."""
        body = {"error": {"code": self.code, "message": self.message}}
        return web.json_response(body, status=self.status, headers=self.headers)


@dataclass(frozen=True)
class _Grant:
    conversation_id: str
    user_id: str
    expires_at: float


@dataclass
class _Conversation:
    id: str
    user_id: str
    locale: str | None
    touched: float
    auth: AuthenticateRequestResult
    vouched: bool = False  # the embedding portal's server vouched for the user (assistant/trust.py)
    started: bool = False
    count: int = 0  # activities ever appended: the watermark
    last_ms: int = 0  # timestamps are strictly increasing: Web Chat orders by them
    size: int = 0  # JSON bytes of the activities in `history`
    history: deque[tuple[int, dict[str, Any], int]] = field(default_factory=deque)  # (watermark, activity, bytes)
    tokens: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_TOKENS))


def channel_auth(assistant: Assistant, vouched_user: str | None = None) -> AuthenticateRequestResult:
    """Credentials for turns the embedded endpoint hands the bot.

    The endpoint *is* the channel: there is no inbound Bot Framework JWT to validate (see
    `FixedCloudAdapter.in_process_auth`); two claims of ours say the turn is the embedded endpoint's and which user,
    if any, a portal vouched for (bot/identity.py).
    """
    claims = {EMBEDDED_CLAIM: True, VOUCHED_CLAIM: vouched_user}
    result: AuthenticateRequestResult = assistant.adapter.in_process_auth(assistant.settings.app_id, claims)
    return result


class DirectLine:
    """In-memory Direct Line 3.0: tokens, conversations and their history; runs turns in process.

    Args:
        assistant: the bot that answers.
        token_lifetime: seconds a token lives; also how long an idle conversation is kept.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        assistant: Assistant,
        *,
        token_lifetime: int,
        max_conversations: int = 1000,
        max_history_bytes: int = 512 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._assistant = assistant
        self.token_lifetime = token_lifetime
        self.max_conversations = max_conversations
        self.max_history_bytes = max_history_bytes
        self.clock = clock
        self._conversations: dict[str, _Conversation] = {}
        self._grants: dict[str, _Grant] = {}
        self._anonymous = channel_auth(assistant)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._conversations

    def generate(self, locale: str | None = None, vouched_id: str | None = None) -> tuple[dict[str, Any], str]:
        """A new conversation and its first token: (Direct Line body, user id).

        Anonymous callers never choose their user id (a chosen id would let a caller read another user's state):
        it is random. Only a user the portal's server vouched for (`vouched_id`, checked by the caller) gets the
        portal's id, as `dl_u.<id>`, and the conversation's turns carry it as verified.

        Raises:
            DirectLineError: 503 when the open conversations are at the cap (live ones are never evicted for new).
        """
        self._sweep()
        self._admit(vouched=vouched_id is not None)
        now = self.clock()
        if vouched_id is not None:
            user_id = VOUCHED_PREFIX + vouched_id
            auth, vouched = channel_auth(self._assistant, user_id), True
        else:
            user_id, auth, vouched = f"user-{secrets.token_hex(8)}", self._anonymous, False
        conversation = _Conversation(secrets.token_hex(16), user_id, locale, now, auth, vouched)
        self._conversations[conversation.id] = conversation
        return self._issue(conversation), conversation.user_id

    def _admit(self, *, vouched: bool) -> None:
        """Refuse a new conversation when the cap is reached: anonymous ones count against `max_conversations`,
        and all together against twice that (vouched users keep some room when anonymous ones fill theirs)."""
        total = len(self._conversations)
        anonymous = total if not vouched else sum(1 for c in self._conversations.values() if not c.vouched)
        if total >= 2 * self.max_conversations or (not vouched and anonymous >= self.max_conversations):
            if (held := _THROTTLE.due("full")) is not None:
                log.warning(
                    "web chat is full: refused a new conversation (%d open, %d more refused before)", total, held
                )
            raise DirectLineError(
                503,
                "TooManyConversations",
                "too many open conversations: try again in a minute",
                {"Retry-After": str(_FULL_RETRY_AFTER)},
            )

    def refresh(self, authorization: str | None) -> dict[str, Any]:
        """A new token for the same conversation; the presented one stays valid until it expires."""
        _, conversation = self.authorize(authorization)
        return self._issue(conversation)

    def authorize(self, authorization: str | None, conversation_id: str | None = None) -> tuple[str, _Conversation]:
        """The bearer token and the conversation it opens; 401, 403 or 404 as a `DirectLineError`."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.casefold() != "bearer" or not token or " " in token:
            raise DirectLineError(401, "Unauthorized", "an Authorization: Bearer <token> header is required")
        now = self.clock()
        grant = self._grants.get(token)
        if grant is None or grant.expires_at <= now:
            raise DirectLineError(403, "TokenExpired", "the token is unknown or expired")
        conversation = self._conversations.get(conversation_id or grant.conversation_id)
        if conversation is None:
            raise DirectLineError(404, "BadArgument", "conversation not found")
        if conversation.id != grant.conversation_id:
            raise DirectLineError(403, "Forbidden", "the token is not valid for this conversation")
        conversation.touched = now
        return token, conversation

    def describe(self, token: str, conversation: _Conversation) -> dict[str, Any]:
        """`{conversationId, token, expires_in}` for a token already issued."""
        expires_in = max(0, int(self._grants[token].expires_at - self.clock()))
        return {"conversationId": conversation.id, "token": token, "expires_in": expires_in}

    async def start(self, conversation: _Conversation, locale: str | None, service_url: str) -> bool:
        """Send the conversationUpdate (user and bot added) once; True if this call started the conversation."""
        if conversation.started:
            return False
        conversation.started = True  # before the await: a concurrent start must not welcome twice
        conversation.locale = locale or conversation.locale
        members = [{"id": conversation.user_id, "role": "user"}, BOT_ACCOUNT]
        update = {"type": "conversationUpdate", "membersAdded": members, "from": {"id": conversation.user_id}}
        stamped = self._stamp(conversation, update, service_url)
        stamped["id"] = f"{conversation.id}|start"  # never shown: Web Chat does not get conversationUpdates
        await self._turn(conversation, stamped)
        log.info("web chat conversation started: conversation=%s", safe_id(conversation.id))
        return True

    async def post(self, conversation: _Conversation, body: Any, service_url: str) -> str:
        """Echo the user's activity into the history, run the bot's turn on it; returns the echo's id."""
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            raise DirectLineError(400, "BadArgument", "the body must be an activity with a type")
        if not isinstance(body.get("text"), str | None):
            raise DirectLineError(400, "BadArgument", "activity text must be a string")
        if not conversation.started:  # a client that never called POST /conversations still gets a welcome
            await self.start(conversation, None, service_url)
        echo = self._stamp(conversation, body, service_url)
        try:
            activity = Activity().deserialize(echo)
        except ValueError as exc:  # msrest's DeserializationError
            raise DirectLineError(400, "BadArgument", "the activity does not match the Bot Framework schema") from exc
        self._append(conversation, echo)
        activity.id = echo["id"]
        await self._turn(conversation, activity)
        return str(echo["id"])

    def activities(self, conversation: _Conversation, watermark: str | None) -> dict[str, Any]:
        """Activities after `watermark` (all kept ones without it) and the new watermark."""
        try:
            since = int(watermark) if watermark else 0
        except ValueError as exc:
            raise DirectLineError(400, "BadArgument", "watermark must be an integer") from exc
        found = [activity for seq, activity, _ in conversation.history if seq > since]
        return {"activities": found, "watermark": str(conversation.count)}

    def _issue(self, conversation: _Conversation) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        if len(conversation.tokens) == MAX_TOKENS:
            self._grants.pop(conversation.tokens[0], None)  # the deque drops it too
        conversation.tokens.append(token)
        self._grants[token] = _Grant(conversation.id, conversation.user_id, self.clock() + self.token_lifetime)
        return {"conversationId": conversation.id, "token": token, "expires_in": self.token_lifetime}

    def _sweep(self) -> None:
        """Forget conversations idle longer than a token lives: no token can reach them. Live ones are kept (a
        flood of new conversations is refused instead, see `_admit`)."""
        now = self.clock()
        idle = [c for c in self._conversations.values() if now - c.touched > self.token_lifetime]
        for conversation in idle:
            del self._conversations[conversation.id]
            for token in conversation.tokens:
                self._grants.pop(token, None)
        for token in [t for t, grant in self._grants.items() if grant.expires_at <= now]:
            del self._grants[token]

    def _stamp(self, conversation: _Conversation, body: dict[str, Any], service_url: str) -> dict[str, Any]:
        """The user's activity as the channel delivers it: server fields set, `from` bound to the token's user."""
        activity = {k: v for k, v in body.items() if k not in _SERVER_FIELDS}
        sender = body.get("from")
        name = sender.get("name") if isinstance(sender, dict) else None
        name = name if isinstance(name, str) else None
        activity["from"] = {"id": conversation.user_id, "role": "user", **({"name": name} if name else {})}
        activity["recipient"] = dict(BOT_ACCOUNT)
        activity["conversation"] = {"id": conversation.id}
        activity["channelId"] = "webchat"
        activity["serviceUrl"] = service_url
        locale = body.get("locale")
        activity["locale"] = locale if _valid_locale(locale) else conversation.locale
        if activity["locale"] is None:
            del activity["locale"]
        return activity

    def _append(self, conversation: _Conversation, activity: dict[str, Any]) -> None:
        conversation.count += 1
        now_ms = max(int(time.time() * 1000), conversation.last_ms + 1)
        conversation.last_ms = now_ms
        activity["id"] = f"{conversation.id}|{conversation.count:07d}"
        activity["timestamp"] = (
            datetime.fromtimestamp(now_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
        size = len(json.dumps(activity, ensure_ascii=False))
        history = conversation.history
        history.append((conversation.count, activity, size))
        conversation.size += size
        # bounded in count and bytes; the newest activity is always kept, however large
        while len(history) > 1 and (len(history) > MAX_HISTORY or conversation.size > self.max_history_bytes):
            conversation.size -= history.popleft()[2]

    async def _turn(self, conversation: _Conversation, incoming: dict[str, Any] | Activity) -> None:
        activity = incoming if isinstance(incoming, Activity) else Activity().deserialize(incoming)
        activity.delivery_mode = "expectReplies"
        activity.timestamp = activity.timestamp or datetime.now(UTC)
        assistant = self._assistant
        try:
            response = await assistant.adapter.process_activity(conversation.auth, activity, assistant.bot.on_turn)
        except Exception as exc:  # on_turn_error already ran; this is the adapter itself failing
            log.exception(
                "web chat turn failed: conversation=%s activity=%s", safe_id(conversation.id), safe_id(activity.id)
            )
            raise DirectLineError(502, "BotError", "the bot could not process the activity") from exc
        body = response.body if response is not None else None
        for reply in body.get("activities", []) if isinstance(body, dict) else []:
            data = reply.serialize() if isinstance(reply, Activity) else dict(reply)
            if data.get("type") not in _DROPPED_TYPES:
                self._append(conversation, data)


def _valid_locale(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 35 and bool(_LOCALE.match(value))


@dataclass(frozen=True)
class OriginPolicy:
    """Which browser origins may use the token route and the Direct Line endpoint, and frame the page."""

    trusted: tuple[str, ...]

    def allows(self, origin: str, request: web.Request) -> bool:
        """The bot's own origin always; then the configured list, or any loopback origin when there is none."""
        origin = origin.strip().rstrip("/").lower()
        if urlsplit(origin).netloc == request.host.lower():  # scheme aside: a TLS proxy may sit in front
            return True
        if self.trusted:
            return origin in self.trusted
        return bool(_LOOPBACK.match(origin))

    def frame_ancestors(self) -> str:
        """The page's CSP `frame-ancestors` value."""
        others = self.trusted or ("http://localhost:*", "http://127.0.0.1:*")  # CSP cannot express [::1]
        return " ".join(("'self'", *others))


def _cors_middleware(policy: OriginPolicy) -> Any:
    @web.middleware
    async def cors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        if not request.path.startswith(_CORS_PREFIXES):
            return await handler(request)
        origin = request.headers.get("Origin")
        if origin is not None and not policy.allows(origin, request):
            log.warning("refused web chat request from an untrusted origin: path=%s", safe_id(request.path))
            return DirectLineError(403, "OriginNotAllowed", "this origin is not trusted").response()
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}
        if request.method == "OPTIONS":
            headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            headers["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
            headers["Access-Control-Max-Age"] = "600"
            return web.Response(status=204, headers=headers)
        try:
            response = await handler(request)
        except DirectLineError as exc:
            response = exc.response()
        except web.HTTPException as exc:  # 404/405/413 from aiohttp itself
            exc.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return cors


async def _read_json(request: web.Request) -> Any:
    """The JSON body ({} when empty), bounded by the app's client_max_size."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise DirectLineError(413, "BadArgument", "the body is too large") from exc
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise DirectLineError(400, "BadArgument", "the body is not valid JSON") from exc
    if has_lone_surrogate(raw, value):
        raise DirectLineError(400, "BadArgument", "the body holds text that is not valid Unicode (a lone surrogate)")
    return value


def _service_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}{BASE}"


def _admit(gate: TokenGate, request: web.Request, family: str, body: Any = None) -> str | None:
    """`gate.admit`, its refusals as Direct Line errors."""
    try:
        return gate.admit(request, family, body)
    except GateRefusal as exc:
        if exc.status == 429 and (held := _THROTTLE.due("rate")) is not None:
            log.warning("rate limited: route=%s (%d more refused before)", family, held)
        raise DirectLineError(exc.status, exc.code, exc.message, exc.headers) from None


def add_direct_line_routes(app: web.Application, direct_line: DirectLine, gate: TokenGate) -> None:
    """Mount the embedded Direct Line 3.0 endpoint under `/v3/directline`."""

    async def generate(request: web.Request) -> web.Response:
        body = await _read_json(request)
        vouched = _admit(gate, request, "token", body)
        locale = body.get("locale") if isinstance(body, dict) else None
        issued, _ = direct_line.generate(locale if _valid_locale(locale) else None, vouched)
        return web.json_response(issued)

    async def refresh(request: web.Request) -> web.Response:
        _admit(gate, request, "refresh")
        return web.json_response(direct_line.refresh(request.headers.get("Authorization")))

    async def start(request: web.Request) -> web.Response:
        _admit(gate, request, "conversation")
        token, conversation = direct_line.authorize(request.headers.get("Authorization"))
        body = await _read_json(request)
        locale = body.get("locale") if isinstance(body, dict) else None
        started = await direct_line.start(
            conversation, locale if _valid_locale(locale) else None, _service_url(request)
        )
        return web.json_response(direct_line.describe(token, conversation), status=201 if started else 200)

    async def reconnect(request: web.Request) -> web.Response:
        token, conversation = direct_line.authorize(request.headers.get("Authorization"), request.match_info["id"])
        await direct_line.start(conversation, None, _service_url(request))
        return web.json_response(direct_line.describe(token, conversation))

    async def post_activity(request: web.Request) -> web.Response:
        _, conversation = direct_line.authorize(request.headers.get("Authorization"), request.match_info["id"])
        body = await _read_json(request)
        activity_id = await direct_line.post(conversation, body, _service_url(request))
        return web.json_response({"id": activity_id})

    async def get_activities(request: web.Request) -> web.Response:
        _, conversation = direct_line.authorize(request.headers.get("Authorization"), request.match_info["id"])
        return web.json_response(direct_line.activities(conversation, request.query.get("watermark")))

    app.router.add_post(f"{BASE}/tokens/generate", generate)
    app.router.add_post(f"{BASE}/tokens/refresh", refresh)
    app.router.add_post(f"{BASE}/conversations", start)
    app.router.add_get(f"{BASE}/conversations/{{id}}", reconnect)
    app.router.add_post(f"{BASE}/conversations/{{id}}/activities", post_activity)
    app.router.add_get(f"{BASE}/conversations/{{id}}/activities", get_activities)


async def exchange_secret(
    http: httpx.AsyncClient, settings: Settings, origins: list[str], vouched_id: str | None = None
) -> dict[str, Any]:
    """Azure mode: trade the Direct Line secret for a conversation token (the secret stays on this server).

    Azure binds the token to the user id chosen here: `dl_<random>` for anonymous users, `dl_u.<portal id>` for a
    user the portal vouched for (no random id contains a dot, so neither can pass for the other).
    """
    user_id = VOUCHED_PREFIX + vouched_id if vouched_id is not None else f"dl_{secrets.token_hex(12)}"
    url = settings.directline_url.rstrip("/") + "/tokens/generate"
    secret = settings.directline_secret.get_secret_value()
    started = time.perf_counter()
    try:
        resp = await http.post(
            url,
            headers={"Authorization": f"Bearer {secret}"},
            json={"user": {"id": user_id}, "trustedOrigins": origins},
            timeout=_UPSTREAM_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        log.warning("directline tokens/generate failed: %s", type(exc).__name__)
        raise DirectLineError(502, "DirectLineUnavailable", "Azure Direct Line could not be reached") from exc
    elapsed = (time.perf_counter() - started) * 1000
    log.info("directline POST /tokens/generate status=%d %.0fms", resp.status_code, elapsed)
    try:
        data = resp.json() if resp.is_success else None
        issued = {k: data[k] for k in ("token", "conversationId", "expires_in")} if isinstance(data, dict) else None
    except (ValueError, KeyError):
        issued = None
    if issued is None or not isinstance(issued["token"], str):
        raise DirectLineError(502, "DirectLineRefused", f"Azure Direct Line answered HTTP {resp.status_code}")
    return {**issued, "domain": settings.directline_url.rstrip("/"), "userId": user_id, "webSocket": True}


_DISABLED = (
    "Web Chat is not enabled on this server: with Bot Framework auth on, set COSELL_DIRECTLINE_PORTAL_KEY (so a "
    "portal can vouch for its users), a Direct Line secret, or COSELL_DIRECTLINE_EMBEDDED=true (README, Trust)"
)


def _webchat_version() -> str:
    try:
        return str(json.loads((WEBCHAT_DIR / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "missing"


def add_webchat_routes(
    app: web.Application, assistant: Assistant, http: Callable[[], httpx.AsyncClient]
) -> DirectLine | None:
    """Mount the page, the bundle, `/embed.js`, the token route and (local mode) the Direct Line endpoint.

    Args:
        http: returns the app's shared httpx client (used in Azure mode only).

    Returns:
        The embedded Direct Line, or None in Azure mode.
    """
    settings = assistant.settings
    policy = OriginPolicy(settings.trusted_origins)
    version = _webchat_version()
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    embed = (STATIC / "embed.js").read_text(encoding="utf-8").replace("__WEBCHAT_VERSION__", version)
    gate = TokenGate(
        settings.directline_portal_key.get_secret_value(),
        ClientRateLimit(settings.rate_limit, forwarded_hops=settings.forwarded_hops),
    )
    direct_line = None
    if settings.embedded_directline:
        direct_line = DirectLine(
            assistant,
            token_lifetime=settings.directline_token_lifetime,
            max_conversations=settings.directline_max_conversations,
            max_history_bytes=settings.directline_max_history_bytes,
        )
        add_direct_line_routes(app, direct_line, gate)

    async def index(request: web.Request) -> web.Response:
        csp = f"frame-ancestors {policy.frame_ancestors()}"
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff"}
        return web.Response(text=page, content_type="text/html", headers=headers)

    async def embed_js(request: web.Request) -> web.Response:
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return web.Response(text=embed, content_type="text/javascript", headers=headers)

    async def bundle(request: web.Request) -> web.StreamResponse:
        if not BUNDLE.is_file():
            log.error("Web Chat bundle missing at %s: run scripts/bootstrap (npm ci in webchat/)", BUNDLE)
            text = "Web Chat is not installed on this server: run scripts/bootstrap (it runs npm ci in webchat/).\n"
            return web.Response(status=503, text=text, headers={"Retry-After": "60"})
        # the page asks for ?v=<version>, so a long cache cannot outlive an upgrade
        headers = {"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "text/javascript"}
        return web.FileResponse(BUNDLE, headers=headers)

    async def token(request: web.Request) -> web.Response:
        if direct_line is None and not settings.azure_directline:
            raise DirectLineError(404, "WebChatDisabled", _DISABLED)
        body = await _read_json(request)
        vouched = _admit(gate, request, "token", body)
        if direct_line is not None:
            locale = body.get("locale") if isinstance(body, dict) else None
            issued, user_id = direct_line.generate(locale if _valid_locale(locale) else None, vouched)
            # relative: the client resolves it against the URL it reached the bot by (proxies included)
            issued |= {"domain": BASE, "userId": user_id, "webSocket": False}
        else:
            own = f"{request.scheme}://{request.host}"
            origins = list(dict.fromkeys([*settings.trusted_origins, request.headers.get("Origin", own).rstrip("/")]))
            issued = await exchange_secret(http(), settings, origins, vouched)
        return web.json_response(issued, headers={"Cache-Control": "no-store"})

    app.middlewares.append(_cors_middleware(policy))
    app.router.add_get("/", index)
    app.router.add_get("/embed.js", embed_js)
    app.router.add_get("/webchat/webchat.js", bundle)
    app.router.add_post("/api/directline/token", token)
    return direct_line
