"""Web Chat for the assistant: the page at `/`, the pinned Web Chat bundle, `/embed.js`, and the token route
`/api/directline/token`, which hands out a conversation of the embedded Direct Line endpoint (`directline/`) or, in
Azure mode, of Azure's Direct Line; plus the origins that may use them (CORS, CSP `frame-ancestors`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.channels.directline.azure import exchange_secret
from bot.channels.directline.endpoint import DirectLine
from bot.channels.directline.protocol import BASE, DirectLineError, read_json, valid_locale
from bot.channels.directline.routes import add_direct_line_routes, admit
from bot.channels.gate import ClientRateLimit, TokenGate
from bot.channels.webpage import bundle_response, page_language, precompressed, render_page
from bot.log_setup import safe_id
from bot.wiring import Assistant, DatabaseError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

WEBCHAT_DIR = Path(__file__).resolve().parents[2] / "webchat" / "node_modules" / "botframework-webchat"
BUNDLE = WEBCHAT_DIR / "dist" / "webchat.js"
STATIC = Path(__file__).with_name("static")

_ALLOW_HEADERS = "Authorization, Content-Type, x-ms-bot-agent, X-Requested-With"  # DirectLineJS sends all four
_CORS_PREFIXES = (BASE + "/", "/api/directline/")
_LOOPBACK = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$")


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
        except DatabaseError as exc:  # the shared store (conversations, tokens, history) failed: try again shortly
            log.warning("web chat request failed: the store is unavailable: path=%s (%s)", safe_id(request.path), exc)
            unavailable = "the bot's store is unavailable: try again shortly"
            response = DirectLineError(503, "ServiceUnavailable", unavailable, {"Retry-After": "5"}).response()
        except web.HTTPException as exc:  # 404/405/413 from aiohttp itself
            exc.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return cors


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
    page = Template((STATIC / "index.html").read_text(encoding="utf-8"))
    if BUNDLE.is_file() and len(precompressed(BUNDLE)) < 2:
        log.warning("Web Chat bundle not (freshly) precompressed, sent as is: run scripts/bootstrap")
    embed = (STATIC / "embed.js").read_text(encoding="utf-8").replace("__WEBCHAT_VERSION__", version)
    gate = TokenGate(
        settings.directline_portal_key.get_secret_value(),
        ClientRateLimit(settings.rate_limit, forwarded_hops=settings.forwarded_hops),
    )
    direct_line = None
    if settings.embedded_directline:
        direct_line = DirectLine(
            assistant,
            assistant.directline,
            token_lifetime=settings.directline_token_lifetime,
            max_conversations=settings.directline_max_conversations,
        )
        add_direct_line_routes(app, direct_line, gate)
        app.on_startup.append(lambda _: direct_line.open())
        app.on_shutdown.append(lambda _: direct_line.close())  # before cleanup closes what the turns use
        assistant.adapter.local_sinks.append(direct_line.deliver)  # proactive messages (escalation) to web chat

    async def index(request: web.Request) -> web.Response:
        lang, locale = page_language(request, settings.default_locale)
        csp = f"frame-ancestors {policy.frame_ancestors()}"
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff"}
        headers |= {"Content-Language": lang, "Vary": "Accept-Language"}
        return web.Response(text=render_page(page, lang, locale), content_type="text/html", headers=headers)

    async def embed_js(request: web.Request) -> web.Response:
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return web.Response(text=embed, content_type="text/javascript", headers=headers)

    async def bundle(request: web.Request) -> web.StreamResponse:
        if not BUNDLE.is_file():
            log.error("Web Chat bundle missing at %s: run scripts/bootstrap (npm ci in webchat/)", BUNDLE)
            text = "Web Chat is not installed on this server: run scripts/bootstrap (it runs npm ci in webchat/).\n"
            return web.Response(status=503, text=text, headers={"Retry-After": "60"})
        return bundle_response(BUNDLE)

    async def token(request: web.Request) -> web.Response:
        if direct_line is None and not settings.azure_directline:
            raise DirectLineError(404, "WebChatDisabled", _DISABLED)
        body = await read_json(request)
        vouched = admit(gate, request, "token", body)
        if direct_line is not None:
            locale = body.get("locale") if isinstance(body, dict) else None
            issued, user_id = await direct_line.generate(locale if valid_locale(locale) else None, vouched)
            # relative: the client resolves it against the URL it reached the bot by (proxies included)
            issued |= {"domain": BASE, "userId": user_id, "webSocket": True}
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
