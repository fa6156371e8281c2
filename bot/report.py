"""The usage report (`assistant.analytics`) on the running assistant's database: `usage_report` for the CLI and the
route, and `GET /admin/report` — JSON by default, the HTML page with `?format=html` or `Accept: text/html`; `?days=N`
(1-365, default 7).

The route is off (404, with the reason) unless `COSELL_ADMIN_REPORT_TOKEN` is set or support staff tokens are
configured (`bot.support.staff_tokens`: an Entra ID token of the support group). Any other request gets 401 and
nothing else: the token is compared in constant time, a staff token is verified as on `/cases/{ref}`. A database
failure is a 503, never a 500 with a traceback.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime, timedelta

from aiohttp import web

from assistant.analytics.figures import build_report
from assistant.analytics.model import Report
from assistant.analytics.page import report_html
from assistant.ports import Analytics
from bot.support.links import STAFF_PAGE_HEADERS
from bot.support.staff_tokens import StaffTokens
from knowledge.loader import KnowledgeBase

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAYS = 365
_HEADERS = STAFF_PAGE_HEADERS


async def usage_report(analytics: Analytics, kb: KnowledgeBase, days: int, *, now: datetime | None = None) -> Report:
    """The report of the last `days` days up to `now` (default: this moment)."""
    until = now or datetime.now(UTC)
    window = await analytics.window(until - timedelta(days=days), until)
    return build_report(window, areas={e.id: e.area.value for e in kb.entries}, days=days)


class ReportAccess:
    """Who may read `/admin/report`: the holder of the report token, or a member of the support group."""

    def __init__(self, token: str, staff: StaffTokens) -> None:
        self._token = token.encode()
        self._staff = staff

    @property
    def enabled(self) -> bool:
        return bool(self._token) or self._staff.enabled

    async def allowed(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        scheme, _, value = authorization.partition(" ")
        if self._token and scheme.casefold() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token):
            return True
        return self._staff.enabled and await self._staff.allowed(authorization)


def _days(text: str | None) -> int | None:
    if text is None:
        return DEFAULT_DAYS
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_DAYS else None


def _wants_html(request: web.Request) -> bool:
    wanted = request.rel_url.query.get("format")
    if wanted is not None:
        return wanted == "html"
    return "text/html" in request.headers.get("Accept", "")


def add_report_route(app: web.Application, analytics: Analytics, kb: KnowledgeBase, access: ReportAccess) -> None:
    """`GET /admin/report` (see the module docstring)."""

    async def report(request: web.Request) -> web.Response:
        if not access.enabled:
            reason = "the report is off: set COSELL_ADMIN_REPORT_TOKEN (or the support group's token settings)"
            return web.json_response({"error": reason}, status=404, headers=_HEADERS)
        if not await access.allowed(request.headers.get("Authorization")):
            reason = "the report token or a support group member's bearer token is required"
            return web.json_response({"error": reason}, status=401, headers={**_HEADERS, "WWW-Authenticate": "Bearer"})
        days = _days(request.rel_url.query.get("days"))
        if days is None:
            return web.json_response({"error": f"days must be 1-{MAX_DAYS}"}, status=400, headers=_HEADERS)
        try:
            figures = await usage_report(analytics, kb, days)
        except Exception:  # the database failed (either engine's errors): no traceback, no data
            log.exception("the usage report failed")
            return web.json_response({"error": "the report is unavailable"}, status=503, headers=_HEADERS)
        if _wants_html(request):
            return web.Response(text=report_html(figures), content_type="text/html", headers=_HEADERS)
        return web.Response(text=figures.model_dump_json(), content_type="application/json", headers=_HEADERS)

    app.router.add_get("/admin/report", report)
