"""The Direct Line 3.0 wire as the embedded endpoint, its routes, Azure mode and the token route share it: the base
path, errors as `{"error": {"code", "message"}}`, JSON request bodies and locales."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from bot.sdk.activity_json import has_lone_surrogate

BASE = "/v3/directline"
_LOCALE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,3}$")


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


def valid_locale(value: Any) -> bool:
    """A BCP 47-looking locale of at most 35 characters."""
    return isinstance(value, str) and len(value) <= 35 and bool(_LOCALE.match(value))


async def read_json(request: web.Request) -> Any:
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
