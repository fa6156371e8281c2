"""One embedded Direct Line conversation: who it belongs to, its live tokens, its history, bounded in count and
bytes, of activities stamped as the channel delivers them, who listens for new ones (the WebSocket streams), and the
turns waiting to run, one at a time, in arrival order."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botframework.connector.auth import AuthenticateRequestResult

from bot.channels.directline.protocol import valid_locale

MAX_HISTORY = 500  # activities kept per conversation; older ones fall off (and beyond the history bytes setting)
MAX_TOKENS = 4  # live tokens per conversation (each refresh adds one)
BOT_ACCOUNT = {"id": "cosell-bot", "name": "Co-sell Connectors Assistant", "role": "bot"}

_SERVER_FIELDS = ("id", "timestamp", "channelId", "conversation", "recipient", "serviceUrl", "deliveryMode", "callerId")


@dataclass(frozen=True)
class Grant:
    """What a token opens, until when."""

    conversation_id: str
    user_id: str
    expires_at: float


@dataclass
class Conversation:
    """A conversation's state; `DirectLine` keeps them in memory."""

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
    stream_tokens: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_TOKENS))  # unused stream URLs
    listeners: set[asyncio.Event] = field(default_factory=set)  # set on every append (the streams' pumps wait)
    pending: deque[Any] = field(default_factory=deque)  # turns waiting to run (endpoint.py)
    worker: asyncio.Task[None] | None = None  # runs `pending`, one turn at a time

    def stamp(self, body: dict[str, Any], service_url: str) -> dict[str, Any]:
        """The user's activity as the channel delivers it: server fields set, `from` bound to the token's user."""
        activity = {k: v for k, v in body.items() if k not in _SERVER_FIELDS}
        sender = body.get("from")
        name = sender.get("name") if isinstance(sender, dict) else None
        name = name if isinstance(name, str) else None
        activity["from"] = {"id": self.user_id, "role": "user", **({"name": name} if name else {})}
        activity["recipient"] = dict(BOT_ACCOUNT)
        activity["conversation"] = {"id": self.id}
        activity["channelId"] = "webchat"
        activity["serviceUrl"] = service_url
        locale = body.get("locale")
        activity["locale"] = locale if valid_locale(locale) else self.locale
        if activity["locale"] is None:
            del activity["locale"]
        return activity

    def append(self, activity: dict[str, Any], max_history_bytes: int) -> None:
        """Give `activity` its id and timestamp and keep it; the oldest fall off beyond `MAX_HISTORY` activities or
        `max_history_bytes` bytes."""
        self.count += 1
        now_ms = max(int(time.time() * 1000), self.last_ms + 1)
        self.last_ms = now_ms
        activity["id"] = f"{self.id}|{self.count:07d}"
        activity["timestamp"] = (
            datetime.fromtimestamp(now_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
        size = len(json.dumps(activity, ensure_ascii=False))
        history = self.history
        history.append((self.count, activity, size))
        self.size += size
        # bounded in count and bytes; the newest activity is always kept, however large
        while len(history) > 1 and (len(history) > MAX_HISTORY or self.size > max_history_bytes):
            self.size -= history.popleft()[2]
        for listener in self.listeners:
            listener.set()
