"""In-memory implementations of the dialogs' ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.models import Area, Lang


@dataclass
class FakeJournal:
    """Records what the dialogs journal, in lists."""

    feedback: list[tuple[str, str, bool, Lang]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    checklists: list[tuple[str, Area, dict[str, str]]] = field(default_factory=list)

    async def record_feedback(self, conversation_id: str, entry_id: str, helpful: bool, lang: Lang) -> None:
        self.feedback.append((conversation_id, entry_id, helpful, lang))

    async def record_handoff(self, conversation_id: str, channel_id: str, lang: Lang, summary: str) -> str:
        ref = f"H-TEST{len(self.handoffs) + 1}"
        self.handoffs.append({"ref": ref, "conversation_id": conversation_id, "lang": lang, "summary": summary})
        return ref

    async def record_checklist(self, conversation_id: str, area: Area, results: dict[str, Any]) -> None:
        self.checklists.append((conversation_id, area, dict(results)))


@dataclass
class FakeLiveFindings:
    """Live checks with canned results: `results` per check id; `by_entry` maps FAQ entries to check ids."""

    results: dict[str, Any]
    by_entry: dict[str, list[str]]
    configured: bool = True
    sweeps: list[dict[str, Any]] = field(default_factory=list)

    def ids_for(self, entry_id: str) -> list[str]:
        return list(self.by_entry.get(entry_id, ()))

    async def sweep(self, *, area: str | None = None, ids: list[str] | None = None, inputs: Any = None) -> Any:
        from knowledge.live.runner import Sweep

        self.sweeps.append({"area": area, "ids": ids})
        chosen = [r for i, r in self.results.items() if (ids is None or i in ids)]
        if area is not None:
            chosen = [r for r in chosen if r.evidence.get("area") == area]
        return Sweep(results=chosen, elapsed_ms=1.0, api_calls=len(chosen))
