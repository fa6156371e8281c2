"""SqlJournal: durable feedback votes, checklist outcomes and remediations, in the bot's
database.

Implements the `Journal` port (`assistant.ports`). Rows carry ids and choices only, never user text; the
remediation's before/after and detail go through `assistant.redaction` first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from assistant import effects
from assistant.case import ItemStatus, RemediationResult
from assistant.ports import Area, Lang
from assistant.redaction.masking import redact, redact_activity
from stores.sql.database import Database


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class SqlJournal:
    """The `Journal` port on a `Database` (its tables: `stores.sql.schema`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_feedback(self, conversation_id: str, entry_id: str, helpful: bool, lang: Lang) -> None:
        effects.record("journal")
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO feedback (at, conversation_id, entry_id, helpful, lang) VALUES (?, ?, ?, ?, ?)",
                (_now(), conversation_id, entry_id, int(helpful), lang),
            )

    async def record_checklist(self, conversation_id: str, area: Area, results: dict[str, ItemStatus]) -> None:
        effects.record("journal")
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO checklist (at, conversation_id, area, results) VALUES (?, ?, ?, ?)",
                (_now(), conversation_id, area.value, json.dumps(results, sort_keys=True)),
            )

    async def record_remediation(
        self,
        conversation_id: str,
        user_id: str,
        action: str,
        *,
        before: dict[str, Any],
        after: dict[str, Any],
        result: RemediationResult,
        detail: str | None = None,
    ) -> None:
        effects.record("journal")
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO remediation (at, conversation_id, user_id, action, before, after, result, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    conversation_id,
                    user_id,
                    action,
                    json.dumps(redact_activity(before), sort_keys=True, default=str),
                    json.dumps(redact_activity(after), sort_keys=True, default=str),
                    result,
                    redact(detail) if detail is not None else None,
                ),
            )

    async def feedback_for(self, conversation_id: str) -> list[dict[str, Any]]:
        rows = await self._db.query(
            "SELECT at, entry_id, helpful, lang FROM feedback WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [
            {"at": datetime.fromisoformat(at), "entry_id": e, "helpful": bool(h), "lang": lg} for at, e, h, lg in rows
        ]

    async def remediations_for(self, conversation_id: str) -> list[dict[str, Any]]:
        rows = await self._db.query(
            "SELECT at, user_id, action, before, after, result, detail FROM remediation WHERE conversation_id = ?"
            " ORDER BY id",
            (conversation_id,),
        )
        return [
            {
                "at": datetime.fromisoformat(at),
                "user_id": u,
                "action": a,
                "before": json.loads(b),
                "after": json.loads(af),
                "result": r,
                "detail": d,
            }
            for at, u, a, b, af, r, d in rows
        ]

    def remediations(self) -> list[dict[str, Any]]:
        """All remediation attempts (refused, cancelled, done, failed), oldest first."""
        rows = self._db.sync_query(
            "SELECT at, conversation_id, user_id, action, before, after, result, detail FROM remediation ORDER BY id"
        )
        return [
            {
                "at": at,
                "conversation_id": c,
                "user_id": u,
                "action": a,
                "before": json.loads(b),
                "after": json.loads(af),
                "result": r,
                "detail": d,
            }
            for at, c, u, a, b, af, r, d in rows
        ]

    def feedback(self) -> list[dict[str, Any]]:
        """All votes, oldest first."""
        rows = self._db.sync_query("SELECT conversation_id, entry_id, helpful, lang FROM feedback ORDER BY id")
        return [{"conversation_id": c, "entry_id": e, "helpful": bool(h), "lang": lg} for c, e, h, lg in rows]
