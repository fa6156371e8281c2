"""The compact transcript row (format 2): a serialised activity without what the row's columns, the activity it
answers or a shared part already hold, and the activity restored from them on read, key order included.

A row's `data` is either an activity as `Activity.serialize()` gave it (format 1, every row written before this
format, and the fallback for a dict this codec does not cover), or a JSON object whose first key is `"_v": 2`:

- `type`, `id`, `timestamp`, `channelId` and `conversation` (`{"id": …}` only) are left out when they equal the
  row's columns (`type`, `activity_id`, `timestamp`, `channel_id`, `conversation_id`);
- an "out" row that answers an "in" row of the same write (its `replyToId` is that activity's `id`) names it in
  `"_r"`, and leaves out `serviceUrl`, `conversation`, `locale` and `replyToId` when they equal the answered
  activity's, `from` when it equals the answered activity's `recipient` and `recipient` when it equals its `from`;
- the bot's content (`text`, `summary`, `attachments` — the Adaptive Cards —, `suggestedActions`, …) of an "out" row,
  and the addressing of an "in" row that every message repeats (`serviceUrl`, the bot's account in `recipient`, the
  client's `entities`), go, when their JSON is at least `PART_MIN` characters, to the shared table `transcript_part`
  under a digest of that JSON (the row's `part` column): an answer or a card sent a thousand times is stored once,
  exactly as it was sent;
- `"_n"` lists the fields that would be restored but were absent from the activity.

Fields starting with `_` are this format's own (an activity's JSON has none). Anything else is stored as it was.
Restored fields are put back in msrest's order (`ACTIVITY_KEYS`), so the activity reads back equal to what was
written, JSON text included; an activity whose keys are not in that order is stored whole (format 1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from assistant import fast_json

FORMAT = 2
#: `botbuilder.schema.Activity`'s JSON keys in its attribute map's order (`Activity.serialize()`'s key order; a test
#: checks it against botbuilder's own)
ACTIVITY_KEYS = (
    "type", "id", "timestamp", "localTimestamp", "localTimezone", "serviceUrl", "channelId", "from", "conversation",
    "recipient", "textFormat", "attachmentLayout", "membersAdded", "membersRemoved", "reactionsAdded",
    "reactionsRemoved", "topicName", "historyDisclosed", "locale", "text", "speak", "inputHint", "summary",
    "suggestedActions", "attachments", "entities", "channelData", "action", "replyToId", "label", "valueType", "value",
    "name", "relatesTo", "code", "expiration", "importance", "deliveryMode", "listenFor", "textHighlights",
    "semanticAction", "callerId",
)  # fmt: skip
_RANK = {key: rank for rank, key in enumerate(ACTIVITY_KEYS)}
#: the fields shared through `transcript_part`, per direction: what the bot shows, in what it sends; the addressing
#: every user's message repeats (the service URL, the bot's account, the client's capabilities), in what it receives
SHARED = {
    "out": frozenset(
        {"textFormat", "attachmentLayout", "text", "speak", "inputHint", "summary", "suggestedActions", "attachments",
         "entities", "channelData"}
    ),
    "in": frozenset({"localTimezone", "serviceUrl", "recipient", "entities"}),
}  # fmt: skip
PART_MIN = 96  # characters of JSON worth a shared part (its digest and index entry cost ~50 bytes a row)
# an "out" row's field ← the field of the "in" activity it answers
_MIRROR = (
    ("serviceUrl", "serviceUrl"),
    ("from", "recipient"),
    ("conversation", "conversation"),
    ("recipient", "from"),
    ("locale", "locale"),
    ("replyToId", "id"),
)


@dataclass(frozen=True)
class Columns:
    """A transcript row's columns, as stored and read back."""

    channel_id: str
    conversation_id: str
    activity_id: Any
    type: Any
    timestamp: str


def columns(raw: dict[str, Any], stamp: str) -> Columns:
    """The columns a row of `raw` gets; `stamp` is the timestamp of an activity that has none."""
    return Columns(
        str(raw.get("channelId") or ""),
        str((raw.get("conversation") or {}).get("id") or ""),
        raw.get("id"),
        raw.get("type"),
        raw.get("timestamp") or stamp,
    )


def part_hash(content_json: str) -> str:
    """The shared part's key: 80 bits of BLAKE2b of its JSON, in hex."""
    return hashlib.blake2b(content_json.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def _derived(cols: Columns, answered: dict[str, Any] | None) -> dict[str, Any]:
    """What a reader restores for a row with `cols`, answering `answered` (its "in" activity) or nothing."""
    out: dict[str, Any] = {"channelId": cols.channel_id, "conversation": {"id": cols.conversation_id}}
    if isinstance(cols.type, str):
        out["type"] = cols.type
    if isinstance(cols.activity_id, str):
        out["id"] = cols.activity_id
    if cols.timestamp:
        out["timestamp"] = cols.timestamp
    if answered is not None:
        for key, source in _MIRROR:
            if source in answered:
                out[key] = answered[source]
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal JSON, key order included (`==` ignores dict order and takes True for 1)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def in_order(raw: dict[str, Any]) -> bool:
    """True when `raw`'s keys are all activity keys, in msrest's order (what `pack` can restore exactly)."""
    last = -1
    for key in raw:
        rank = _RANK.get(key, -1)
        if rank <= last:
            return False
        last = rank
    return True


def pack(rest: dict[str, Any], cols: Columns, answered: dict[str, Any] | None) -> dict[str, Any]:
    """The compact row of `rest` (an activity in msrest's order, its shared content taken out) with columns `cols`,
    answering `answered` (the "in" activity of the same write whose `id` is `rest["replyToId"]`) or nothing."""
    row: dict[str, Any] = {"_v": FORMAT}
    if answered is not None:
        row["_r"] = answered["id"]
    derived = _derived(cols, answered)
    absent = [key for key in derived if key not in rest]
    if absent:
        row["_n"] = absent
    for key, value in rest.items():
        if key not in derived or not _same(value, derived[key]):
            row[key] = value
    return row


def is_compact(row: Any) -> bool:
    """True for a format-2 row (`json.loads` of its `data`)."""
    return isinstance(row, dict) and row.get("_v") == FORMAT


def unpack(row: Any, cols: Columns, part: str | None, answered: dict[str, Any] | None) -> Any:
    """The activity a row stores (`row`: its `data` loaded): format 1 as it is, format 2 with its columns, the
    activity it answers (the "in" row its `_r` names) and its shared part's JSON."""
    if not is_compact(row):
        return row
    derived = _derived(cols, answered if "_r" in row else None)
    absent = set(row.get("_n", ()))
    out = {key: value for key, value in row.items() if not key.startswith("_")}
    for key, value in derived.items():
        if key not in out and key not in absent:
            out[key] = value
    if part is not None:
        out.update(fast_json.loads(part))
    return dict(sorted(out.items(), key=lambda item: _RANK[item[0]]))


def encode(value: Any) -> str:
    """JSON as the transcript stores it (UTF-8 kept, no circular-reference walk: activities are trees)."""
    return fast_json.dumps_utf8(value)
