"""Signed, expiring links to a case's bundle, and the staff page they open: `GET /cases/{ref}?exp=…&sig=…`.

The signature is HMAC-SHA256 over "<ref>.<exp>" with `COSELL_CASE_LINK_SECRET`, hex, compared in constant time;
`exp` is a Unix time. Without the secret there are no links and the route answers 404 to everyone: the bundle is
never reachable anonymously. Support staff may also present an Entra ID bearer token of the support group
(`bot.support.staff_tokens`). A refused request learns only that (401), never whether the case exists.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from aiohttp import web

from assistant.handoff.bundle import CaseBundle
from assistant.handoff.render import bundle_html
from assistant.ports import CaseStore
from bot.support.staff_tokens import StaffTokens

#: the headers of a page for staff (the case bundle, the usage report): no script, not cached, not framed, not indexed
STAFF_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}


def signature(secret: str, ref: str, exp: int) -> str:
    """The link signature of `ref` valid until `exp`."""
    return hmac.new(secret.encode(), f"{ref}.{exp}".encode(), hashlib.sha256).hexdigest()


class CaseLinks:
    """Makes and checks the signed links; `base_url` is the assistant's public URL."""

    def __init__(self, secret: str, base_url: str, days: int) -> None:
        self._secret = secret
        self._base = base_url.rstrip("/")
        self._ttl = days * 86400

    @property
    def enabled(self) -> bool:
        """Links exist only with a secret and a public URL."""
        return bool(self._secret and self._base)

    def link(self, ref: str, *, now: float | None = None) -> str | None:
        """A link to the bundle of `ref`, valid for the configured days; None without a secret or public URL."""
        if not self.enabled:
            return None
        exp = int((now if now is not None else time.time()) + self._ttl)
        return f"{self._base}/cases/{ref}?exp={exp}&sig={signature(self._secret, ref, exp)}"

    def valid(self, ref: str, exp: str, sig: str, *, now: float | None = None) -> bool:
        """True when `sig` signs `ref` until `exp` and `exp` has not passed."""
        if not self._secret or not exp.isdigit() or len(exp) > 12:
            return False
        if int(exp) < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(signature(self._secret, ref, int(exp)), sig)


def add_case_routes(app: web.Application, store: CaseStore, links: CaseLinks, staff: StaffTokens) -> None:
    """`GET /cases/{ref}`: the bundle as HTML for whoever holds a valid signed link, or a bearer token of a member of
    the support group."""

    async def case_page(request: web.Request) -> web.Response:
        ref = request.match_info["ref"]
        query = request.rel_url.query
        signed = links.valid(ref, query.get("exp", ""), query.get("sig", ""))
        if not signed and not await staff.allowed(request.headers.get("Authorization")):
            reason = "a valid, unexpired signed link or a support group member's bearer token is required"
            return web.json_response({"error": reason}, status=401, headers={"WWW-Authenticate": "Bearer"})
        raw = await store.bundle(ref)
        case = await store.get(ref)
        if raw is None or case is None:
            return web.json_response({"error": "no such case"}, status=404)
        bundle = CaseBundle.model_validate(raw).model_copy(update={"status": case.status})
        return web.Response(text=bundle_html(bundle), content_type="text/html", headers=STAFF_PAGE_HEADERS)

    app.router.add_get("/cases/{ref}", case_page)
