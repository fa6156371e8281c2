"""The status marks, defined once: checklist outcomes, live-check statuses, fix steps and connector-trace hops."""

from __future__ import annotations

MARKS: dict[str, str] = {
    # a checklist item as the user reported it
    "done": "✅",
    "fixed": "🔧",
    "open": "❌",
    "skipped": "⏭️",
    # a live check's status
    "pass": "✅",
    "warn": "⚠️",
    "fail": "❌",
    "error": "❗",
    "pending": "⬜",
    # a fix step, a trace hop
    "ok": "✅",
    "broken": "❌",
    "unknown": "❔",
}


def mark(status: str, default: str = "•") -> str:
    """The mark for `status` (a checklist outcome, a check status, "ok"/"broken"/"unknown")."""
    return MARKS.get(status, default)
