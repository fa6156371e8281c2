"""`SqlAnalytics`: the `Analytics` port (`assistant.ports`) on either engine — what the usage report
(`assistant.analytics.figures`) is computed from, read in a handful of plain statements both engines run alike.

Sources, all bounded by the window [since, until):

- `transcript`: the incoming activities with the facts migration 4 put on them (`verdict`, `entry_id`, `checks`),
  and each conversation's last activity (any direction); the text of the activities the report may quote, read by
  row id from the stored JSON — redacted when it was stored (`stores.sql.transcripts`);
- `feedback` (votes) and `checklist` (a walk with no item left "open") by `at`; `cases` by `created`.

Nothing is written. The transcript has no index on its timestamp (one would cost every turn's insert): the window is
scanned, which a report — run by hand or by an authenticated admin — can afford.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from assistant.analytics.model import Turn, Vote
from assistant.ports import TurnFacts, Window
from stores.sql.database import Database

_TEXT_CHARS = 500  # of a quoted message, at most (the report shows fewer)
_CHUNK = 500  # ids per IN (...) list
_TURNS = (
    "SELECT id, channel_id, conversation_id, timestamp, type, verdict, entry_id, checks FROM transcript"
    " WHERE direction = 'in' AND timestamp >= ? AND timestamp < ? ORDER BY id"
)
_LAST = (
    "SELECT channel_id, conversation_id, MAX(timestamp) FROM transcript WHERE timestamp >= ? AND timestamp < ?"
    " GROUP BY channel_id, conversation_id"
)


def _activity_stamp(value: datetime) -> str:
    """`value` in the transcript's timestamp shape (msrest's), as `stores.sql.retention` compares them."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: Any, default: datetime) -> datetime:
    """A stored timestamp as an aware datetime (a channel's odd one: `default`)."""
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return default
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _checks(text: str | None) -> tuple[tuple[str, str, str], ...]:
    if not text:
        return ()
    try:
        return tuple((str(c), str(s), str(st)) for c, s, st in json.loads(text))
    except (ValueError, TypeError):
        return ()


def _text(data: str) -> str | None:
    try:
        text = json.loads(data).get("text")
    except (ValueError, AttributeError):
        return None
    return text[:_TEXT_CHARS] if isinstance(text, str) and text.strip() else None


class SqlAnalytics:
    """The `Analytics` port on a `Database` (read-only)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def window(self, since: datetime, until: datetime) -> Window:
        """See `assistant.ports.Analytics.window`."""
        span = (_activity_stamp(since), _activity_stamp(until))
        turns = [
            Turn(
                row=int(row),
                conversation=(channel, conversation),
                at=_parse(ts, since),
                message=kind == "message",
                facts=TurnFacts(verdict=verdict, entry_id=entry, checks=_checks(checks)),
            )
            for row, channel, conversation, ts, kind, verdict, entry, checks in await self._db.query(_TURNS, span)
        ]
        last = {(c, v): _parse(ts, since) for c, v, ts in await self._db.query(_LAST, span)}
        at = (since.astimezone(UTC).isoformat(timespec="milliseconds"), until.astimezone(UTC).isoformat())
        votes = [
            Vote(conversation_id=c, at=_parse(when, since), entry_id=e, helpful=bool(h))
            for c, when, e, h in await self._db.query(
                "SELECT conversation_id, at, entry_id, helpful FROM feedback WHERE at >= ? AND at < ? ORDER BY id", at
            )
        ]
        checklists = await self._db.query("SELECT conversation_id, results FROM checklist WHERE at >= ? AND at < ?", at)
        created = (since.astimezone(UTC).isoformat(timespec="microseconds"), until.astimezone(UTC).isoformat())
        cases = await self._db.query(
            "SELECT channel_id, conversation_id FROM cases WHERE created >= ? AND created < ?", created
        )
        unhelped = {v.conversation_id for v in votes if not v.helpful}
        quoted = [
            t.row
            for t in turns
            if t.facts.verdict == "none" or (t.facts.verdict in ("answer", "clarify") and t.conversation[1] in unhelped)
        ]
        return Window(
            since=since,
            until=until,
            turns=turns,
            last_activity=last,
            votes=votes,
            clean_checklists={c for c, results in checklists if "open" not in json.loads(results).values()},
            escalated={(c, v) for c, v in cases},
            texts=await self._texts(quoted),
        )

    async def _texts(self, rows: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(rows))
        texts: dict[int, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row, data in await self._db.query(f"SELECT id, data FROM transcript WHERE id IN ({marks})", chunk):
                text = _text(data)
                if text is not None:
                    texts[int(row)] = text
        return texts
