"""The status marks, defined once: checklist outcomes, live-check statuses, fix steps and connector-trace hops.

A mark never stands alone in front of a user: `labelled` puts the status word of the turn's language after it
("✅ OK", "❌ Problema"), for screen readers, for machines without emoji fonts, and for anyone who reads words."""

from __future__ import annotations

from knowledge.models import Lang

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

#: the word each mark stands for, in each language
WORDS: dict[str, dict[Lang, str]] = {
    "done": {"en": "Done", "it": "Fatto"},
    "fixed": {"en": "Fixed", "it": "Sistemato"},
    "open": {"en": "Open", "it": "Aperto"},
    "skipped": {"en": "Skipped", "it": "Saltato"},
    "pass": {"en": "OK", "it": "OK"},
    "warn": {"en": "Warning", "it": "Attenzione"},
    "fail": {"en": "Problem", "it": "Problema"},
    "error": {"en": "Not checked", "it": "Non verificato"},
    "pending": {"en": "Pending", "it": "In attesa"},
    "ok": {"en": "OK", "it": "OK"},
    "broken": {"en": "Failed", "it": "Non riuscito"},
    "unknown": {"en": "Unknown", "it": "Sconosciuto"},
}


def mark(status: str, default: str = "•") -> str:
    """The bare mark for `status` (a checklist outcome, a check status, "ok"/"broken"/"unknown"); what a user sees
    is `labelled`."""
    return MARKS.get(status, default)


def status_word(status: str, lang: Lang) -> str:
    """The word for `status` in `lang` (the status itself when it has none)."""
    return WORDS.get(status, {}).get(lang, status)


def labelled(status: str, lang: Lang, default: str = "skipped") -> str:
    """The mark and its word: "✅ OK", "❌ Problema"; an unknown status reads as `default`."""
    known = status if status in MARKS else default
    return f"{MARKS[known]} {status_word(known, lang)}"
