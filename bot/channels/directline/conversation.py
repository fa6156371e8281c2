"""One embedded Direct Line conversation as a request sees it: who it belongs to, its locale, whether it was
started, and the credentials its turns run with; how a user's activity is stamped as the channel delivers it. Its
history and tokens live in the shared store (`stores.sql.directline`), so every instance sees the same."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botframework.connector.auth import AuthenticateRequestResult

from bot.channels.directline.protocol import valid_locale

BOT_ACCOUNT = {"id": "cosell-bot", "name": "Co-sell Connectors Assistant", "role": "bot"}

_SERVER_FIELDS = ("id", "timestamp", "channelId", "conversation", "recipient", "serviceUrl", "deliveryMode", "callerId")


@dataclass
class Conversation:
    """A conversation, loaded from the store for one request."""

    id: str
    user_id: str
    locale: str | None
    auth: AuthenticateRequestResult
    vouched: bool = False  # the embedding portal's server vouched for the user (assistant/trust.py)
    started: bool = False

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
