"""The transcript middleware: every activity of a turn, serialised, to the `TranscriptSink` port.

The store behind the port (`stores/sqlite/transcripts.py`, wired by `bot/wiring.py`) takes the serialised dicts and
redacts them (`assistant.redaction`) before anything is stored.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity, ActivityEventNames, ActivityTypes, ChannelAccount
from msrest.serialization import Serializer

from assistant.ports import TranscriptSink, TurnFacts
from bot.log_setup import safe_id
from bot.sdk.activity_json import serialize
from bot.sdk.turn_context import serialized
from dialogs.state import turn_facts

log = logging.getLogger(__name__)


class TranscriptMiddleware(Middleware):
    """Logs incoming and outgoing activities to a `TranscriptSink`.

    Unlike botbuilder's TranscriptLoggerMiddleware it records the incoming activity even when the turn
    raises, skips traces, sets roles and timestamps on copies only, and never lets a transcript failure
    break the turn.

    Each activity is serialised when it happens; the turn's rows are written together, in order, when the
    turn ends (one transaction instead of one per activity). Whatever is sent after that, such as the
    turn-error apology, is written at once.

    Note: botbuilder's `TurnContext._emit` runs every send hook before the real send and gives the
    hooks no responses, so an "out" row means "the bot is sending this" and carries no channel-assigned
    activity id.
    """

    def __init__(self, store: TranscriptSink) -> None:
        self._store = store

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[Any]]) -> None:
        """Record the incoming activity, hook the outgoing ones, run the rest of the pipeline, then write."""
        turn = _TurnLog(self._store)  # holds no reference to the context: no cycle through its hooks
        if _should_log(context.activity):  # serialised now: the handler goes on to normalise its text
            await turn.add(context, _with_defaults(context.activity, "user"), "in")
        context.on_send_activities(turn.on_send)
        context.on_update_activity(turn.on_update)
        try:
            await logic()
        finally:
            await turn.flush(context)


@dataclass
class _Entry:
    """One transcript row to be: an activity serialised when it happened, or a reply serialised when written."""

    direction: str
    raw: dict[str, Any] | None = None
    reply: Activity | None = None
    timestamp: datetime | None = None  # the reply's default timestamp, taken when it was sent


class _TurnLog:
    """One turn's transcript entries, held until `flush` and written directly after it.

    A reply is logged as the JSON snapshot `FastCopyTurnContext` took when it went out (the adapter's POST body,
    or the expectReplies buffer), fetched through `serialized` when the rows are written: serialised once, and
    exactly what was sent. The context is passed in, never kept, so the hooks make no reference cycle.
    """

    def __init__(self, store: TranscriptSink) -> None:
        self._store = store
        self._pending: list[_Entry] | None = []

    async def on_send(
        self, context: TurnContext, activities: list[Activity], next_send: Callable[[], Awaitable[Any]]
    ) -> Any:
        responses = await next_send()  # always None: botbuilder's _emit drops what the next hook returns
        for activity in activities:
            if _should_log(activity):
                await self._add(context, _Entry("out", reply=activity, timestamp=_default_timestamp(activity)))
        return responses

    async def on_update(
        self, context: TurnContext, activity: Activity, next_update: Callable[[], Awaitable[Any]]
    ) -> Any:
        response = await next_update()
        updated = _with_defaults(activity, "bot")
        updated.type = ActivityTypes.message_update
        await self.add(context, updated, "out")
        return response

    async def add(self, context: TurnContext, activity: Activity, direction: str) -> None:
        """Log `activity` as it is now: serialised at once, written at `flush` (or now, if that is past)."""
        try:
            raw = serialize(activity)
        except Exception:
            _log_failure(direction, activity.conversation.id if activity.conversation else None, activity.id)
            return
        await self._add(context, _Entry(direction, raw=raw))

    async def _add(self, context: TurnContext, entry: _Entry) -> None:
        if self._pending is None:
            await self._write(context, [entry])
        else:
            self._pending.append(entry)

    async def flush(self, context: TurnContext) -> None:
        """Write what the turn logged so far, with the turn's facts (`dialogs.state.turn_facts`) on its incoming row;
        later entries are written as they come."""
        pending, self._pending = self._pending, None
        if pending:
            await self._write(context, pending, turn_facts(context))

    async def _write(self, context: TurnContext, entries: list[_Entry], facts: TurnFacts | None = None) -> None:
        rows = []
        for entry in entries:
            raw = entry.raw if entry.reply is None else _serialize_reply(context, entry.reply, entry.timestamp)
            if raw is not None:
                rows.append((raw, entry.direction))
        await self._store_rows(rows, facts)

    async def _store_rows(self, rows: list[tuple[dict[str, Any], str]], facts: TurnFacts | None) -> None:
        try:
            await self._store.log_serialized(rows, facts)
            return
        except Exception:
            if len(rows) == 1:
                raw, direction = rows[0]
                _log_failure(direction, (raw.get("conversation") or {}).get("id"), raw.get("id"))
                return
        for row in rows:  # one bad row must not cost the others theirs
            await self._store_rows([row], facts if row[1] == "in" else None)


def _serialize_reply(context: TurnContext, reply: Activity, timestamp: datetime | None) -> dict[str, Any] | None:
    try:
        return as_logged(serialized(context, reply), "bot", timestamp)
    except Exception:
        _log_failure("out", reply.conversation.id if reply.conversation else None, reply.id)
        return None


def _log_failure(direction: str, conversation: str | None, activity_id: str | None) -> None:
    log.exception(
        "transcript: %s activity not logged (conversation %s, activity %s)",
        direction,
        safe_id(conversation),
        safe_id(activity_id),
    )


def _should_log(activity: Activity | None) -> bool:
    if activity is None or activity.type == ActivityTypes.trace:
        return False
    # skills' ContinueConversation events only initialise middleware; botbuilder skips them too
    return not (activity.type == ActivityTypes.event and activity.name == ActivityEventNames.continue_conversation)


def _default_timestamp(activity: Activity) -> datetime | None:
    return None if activity.timestamp else datetime.now(UTC)


def _with_defaults(activity: Activity, role: str) -> Activity:
    """Shallow copy with a sender role and a timestamp; the original (sent to the channel) is untouched."""
    clone = copy.copy(activity)
    sender = copy.copy(activity.from_property) if activity.from_property else ChannelAccount()
    sender.role = sender.role or role
    clone.from_property = sender
    clone.timestamp = activity.timestamp or datetime.now(UTC)
    return clone


def _ranks(model: Any) -> dict[str, int]:
    return {desc["key"]: rank for rank, desc in enumerate(model._attribute_map.values())}


_ACTIVITY_KEYS = _ranks(Activity)
_ACCOUNT_KEYS = _ranks(ChannelAccount)


def _with_key(raw: dict[str, Any], key: str, value: Any, ranks: dict[str, int]) -> dict[str, Any]:
    """A copy of `raw` with `key` set, keys in msrest's order (the model's attribute map)."""
    merged = {**raw, key: value}
    return dict(sorted(merged.items(), key=lambda item: ranks.get(item[0], len(ranks))))


def as_logged(raw: dict[str, Any], role: str, timestamp: datetime | None) -> dict[str, Any]:
    """`activity.serialize()` turned into `_with_defaults(activity, role).serialize()`, key order included.

    `timestamp` is the default timestamp (None when the activity had its own), taken when it was sent.
    """
    sender = raw.get("from") or {}
    if not sender.get("role"):
        raw = _with_key(raw, "from", _with_key(sender, "role", role, _ACCOUNT_KEYS), _ACTIVITY_KEYS)
    if timestamp is not None:
        raw = _with_key(raw, "timestamp", Serializer.serialize_iso(timestamp), _ACTIVITY_KEYS)
    return raw
