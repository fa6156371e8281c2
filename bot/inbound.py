"""What `/api/messages` accepts as an activity: the POST body read within a bound, checked, and deserialised; else the
4xx with a short JSON reason, never a 500 (each refused case would otherwise fail the turn, with a traceback in the
log and nothing sent). Reading goes through `bot/sdk/activity_json.py` (msrest's output, without its per-call cost).
"""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from botbuilder.schema import Activity, DeliveryModes
from yarl import URL

from assistant import fast_json
from bot.loopback import is_loopback_host
from bot.sdk.activity_json import deserialize, has_lone_surrogate

_ID_FIELDS = (("id",), ("replyToId",), ("channelId",), ("conversation", "id"), ("from", "id"), ("recipient", "id"))


def _shape_problem(body: Any) -> str | None:
    """What makes `body` unusable as an activity, checked before msrest sees it; None if nothing.

    Refused with a 400: an empty conversation.id (botbuilder's state keys need it), and a serviceUrl that is not an
    http(s) URL, or missing when the replies must go to the Bot Connector (not expectReplies). Accepted: any activity
    type (an unknown one is a no-op turn), a missing or null `from` or `recipient` (the turn still runs, replies are
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
def loopback_url(url: str) -> bool:
    """`url` names this machine (a loopback host)."""
    try:
        return is_loopback_host(URL(url).host)
    except ValueError:
        return False


def _reply_target_problem(body: dict[str, Any], loopback_replies_only: bool) -> str | None:
    service_url = body.get("serviceUrl")
    if loopback_replies_only and isinstance(service_url, str) and not loopback_url(service_url):
        return "with Bot Framework auth off, serviceUrl must be a loopback URL (replies go only to this machine)"
    return None


def reject(status: int, reason: str) -> web.Response:
    """The refusal: `{"error": reason}` with `status`."""
    return web.json_response({"error": reason}, status=status)


async def read_activity(
    request: web.Request, *, max_body_bytes: int, max_id_chars: int, loopback_replies_only: bool
) -> Activity | web.Response:
    """The activity a POST carries, or the 4xx response refusing it.

    Args:
        max_body_bytes: the largest body read (413 above, Content-Length or not).
        max_id_chars: the longest id accepted (400 above).
        loopback_replies_only: auth is off, so nobody proved who sent the activity: its serviceUrl may only name
            this machine.
    """
    if request.content_type != "application/json":
        return reject(415, "Content-Type must be application/json")
    limit = max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return reject(413, f"body exceeds {limit} bytes")
    raw = bytearray()
    async for chunk in request.content.iter_any():  # bounded read, Content-Length or not
        raw += chunk
        if len(raw) > limit:
            return reject(413, f"body exceeds {limit} bytes")
    try:
        body = fast_json.loads(raw)
    except (ValueError, RecursionError):
        return reject(400, "body is not valid JSON")
    problem = _shape_problem(body)
    if problem:
        return reject(400, problem)
    if has_lone_surrogate(raw, body):
        return reject(400, "body holds text that is not valid Unicode (a lone surrogate)")
    problem = _ids_problem(body, max_id_chars) or _reply_target_problem(body, loopback_replies_only)
    if problem:
        return reject(400, problem)
    try:
        return deserialize(Activity, body)
    except ValueError:  # msrest's DeserializationError
        return reject(400, "activity does not match the Bot Framework schema")
