"""Who may open Web Chat conversations: the embedding portal's vouching key, and per-client rate limits of the
public routes (token, refresh, conversation creation), on `limits`.

A portal's server vouches for a signed-in user by calling the token route with `Authorization: Bearer <portal key>`
and `{"user": {"id": …}}` in the body, as Azure Direct Line's trusted user ids work with its secret; such calls are
not rate limited (one portal server speaks for many users). Everyone else is anonymous and limited.

A moving window per client and route family, in memory (one process; the shared store comes with several
instances). The client is the peer address, or, behind `forwarded_hops` proxies, the X-Forwarded-For entry the
nearest trusted proxy wrote (entries further left are the client's own claims and are not believed). IPv6 clients
are grouped by their /64, which one subscriber usually holds whole.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import re
import time
from typing import Any

from aiohttp import web
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

_VOUCHED_ID = re.compile(r"[A-Za-z0-9._@:+\-]{1,128}")  # a portal's user id: an email, a GUID, a login name


class GateRefusal(Exception):
    """A token request the gate refuses: `status`, a Direct Line error `code`, a message and response headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class RateLimited(Exception):
    """The client spent its allowance for a route family; `retry_after` seconds until one request is allowed."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached: retry after {retry_after} s")
        self.retry_after = retry_after


def client_key(request: web.Request, forwarded_hops: int) -> str:
    """Who is asking: the peer address, or the address the nearest of `forwarded_hops` trusted proxies saw."""
    address = request.remote or "unknown"
    if forwarded_hops > 0:
        chain = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(chain) >= forwarded_hops:
            address = chain[-forwarded_hops]
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64]  # not an address (a unix socket, a garbled header): still one bucket per value
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class ClientRateLimit:
    """`check(request, family)` raises `RateLimited` once a client is over any of the configured windows."""

    def __init__(self, spec: str, *, forwarded_hops: int = 0) -> None:
        self._items: list[RateLimitItem] = parse_many(spec)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._hops = forwarded_hops

    def check(self, request: web.Request, family: str) -> None:
        """Count one request of `family` for this client, or raise `RateLimited` (nothing counted then)."""
        key = client_key(request, self._hops)
        for item in self._items:  # test all windows first: a refused request spends none of them
            if not self._limiter.test(item, family, key):
                reset = self._limiter.get_window_stats(item, family, key).reset_time
                raise RateLimited(max(1, math.ceil(reset - time.time())))
        for item in self._items:
            self._limiter.hit(item, family, key)


class LogThrottle:
    """At most one warning per `interval` seconds per kind, with how many were held back: a flood of refused
    requests must not become a flood of log lines."""

    def __init__(self, interval: float = 60.0, clock: Any = time.monotonic) -> None:
        self._interval, self._clock = interval, clock
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def due(self, kind: str) -> int | None:
        """None while `kind` is held back; else how many were held back since the last one logged."""
        now = self._clock()
        if now < self._next.get(kind, 0.0):
            self._held[kind] = self._held.get(kind, 0) + 1
            return None
        self._next[kind] = now + self._interval
        return self._held.pop(kind, 0)


class TokenGate:
    """Decides, per request, whether a token or conversation may be issued and whether a portal vouched for the user.

    Args:
        portal_key: the portal's vouching key ('' = no portal can vouch).
        limit: the per-client rate limit of anonymous requests.
    """

    def __init__(self, portal_key: str, limit: ClientRateLimit) -> None:
        self._key = portal_key.encode()
        self._limit = limit

    def admit(self, request: web.Request, family: str, body: Any = None) -> str | None:
        """The portal's id of a vouched user, or None for an anonymous request that is within its rate limit.

        Raises:
            GateRefusal: a wrong portal key (403), a vouching call without a usable user id (400), or a client over
                its rate limit (429 with Retry-After).
        """
        scheme, _, presented = request.headers.get("Authorization", "").strip().partition(" ")
        if family == "token" and scheme.casefold() == "bearer" and presented.strip():
            if not self._key or not hmac.compare_digest(presented.strip().encode(), self._key):
                raise GateRefusal(403, "Forbidden", "the portal key is not valid")
            return _vouched_id(body)
        try:
            self._limit.check(request, family)
        except RateLimited as exc:
            message = f"too many requests from this client: retry after {exc.retry_after} s"
            raise GateRefusal(429, "TooManyRequests", message, {"Retry-After": str(exc.retry_after)}) from None
        return None


def _vouched_id(body: Any) -> str:
    user = body.get("user") if isinstance(body, dict) else None
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not _VOUCHED_ID.fullmatch(user_id):
        raise GateRefusal(400, "BadArgument", "a vouched token needs user.id: 1-128 letters, digits or . _ @ : + -")
    return user_id
