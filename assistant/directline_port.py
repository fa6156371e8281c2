"""The embedded Direct Line's port: `DirectLineStore`, the conversations, bounded histories and tokens the endpoint
(`bot.channels.directline`) keeps in the database every instance shares (`stores.sql.directline`), and the records it
reads back. Apart from `assistant.ports` only for size: the same rules hold (SDK-free; implemented in `stores/`,
wired by `bot/wiring.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class DirectLineConversation:
    """One embedded Direct Line conversation as stored (`DirectLineStore`)."""

    id: str
    user_id: str
    locale: str | None
    vouched: bool
    started: bool
    count: int  # the watermark: activities ever appended
    touched: float  # Unix seconds of its last use


@dataclass(frozen=True)
class DirectLineGrant:
    """What a Direct Line token (or stream token) opens, until when (Unix seconds)."""

    conversation_id: str
    expires_at: float
    parent: str | None = None  # a stream token's token, as the store keeps it (its hash)
    since: int | None = None  # a stream token's replay watermark


DirectLineTokenKind = Literal["token", "stream"]


class DirectLineStore(Protocol):
    """The embedded Direct Line's conversations, bounded histories and tokens, shared by every instance of the bot
    (`stores.sql.directline`); the endpoint (`bot.channels.directline`) keeps nothing of a conversation in memory
    but its turns waiting on that instance and its open sockets."""

    async def create(self, conversation_id: str, user_id: str, locale: str | None, vouched: bool, now: float) -> None:
        """Keep a new conversation."""
        ...

    async def conversation(self, conversation_id: str) -> DirectLineConversation | None: ...

    async def population(self) -> tuple[int, int]:
        """(conversations, anonymous ones) kept now."""
        ...

    async def touch(self, conversation_id: str, now: float, granularity: float) -> None:
        """Record a use, at most once per `granularity` seconds."""
        ...

    async def start(self, conversation_id: str, locale: str | None) -> bool:
        """Mark it started; True for the one caller, on any instance, that did."""
        ...

    async def issue(
        self,
        token: str,
        conversation_id: str,
        kind: DirectLineTokenKind,
        expires_at: float,
        *,
        parent: str | None = None,
        since: int | None = None,
    ) -> None:
        """Keep a new token of `kind` (the conversation's oldest beyond the bound are forgotten)."""
        ...

    async def token(self, token: str, kind: DirectLineTokenKind = "token") -> DirectLineGrant | None: ...

    async def token_by_hash(self, hashed: str, kind: DirectLineTokenKind = "token") -> DirectLineGrant | None:
        """A token by what the store keeps of it (a stream grant's `parent`)."""
        ...

    async def redeem(self, stream_token: str) -> DirectLineGrant | None:
        """Take a stream token, once."""
        ...

    async def alive(self, conversation_id: str, now: float) -> bool:
        """True while some token of the conversation can still reach it."""
        ...

    async def append(self, conversation_id: str, activity: dict[str, Any], now_ms: int) -> int | None:
        """Stamp `activity` (id, timestamp) and keep it: its watermark, or None when the conversation is gone."""
        ...

    async def watermark(self, conversation_id: str) -> int: ...

    async def activities(self, conversation_id: str, since: int) -> tuple[list[dict[str, Any]], int]:
        """The kept activities after `since`, and the watermark they bring the reader to."""
        ...

    async def sweep(self, now: float, idle: float) -> list[str]:
        """Forget conversations unused for `idle` seconds and expired tokens; the forgotten conversations' ids."""
        ...

    def changes(self) -> AsyncIterator[str] | None:
        """Conversation ids appended to by any instance, as they commit; None when the database cannot tell."""
        ...
