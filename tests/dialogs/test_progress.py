"""Visible progress before live checks: "Checking your tenant…" (in the turn's language) and the typing indicator
go out before the sweep starts, in every dialog that runs one; a turn without checks sends neither."""

from __future__ import annotations

from botbuilder.schema import Activity, ActivityTypes

from tenant.base import CheckResult, Status, System
from tests.fakes import FakeLiveFindings
from tests.harness import DialogHarness

RESULT = CheckResult(
    id="flow-activation-order",
    title="Flow activation order",
    system=System.power_automate,
    status=Status.fail,
    summary="Child flows are off.",
    entries=("cfg-activate-pc-to-crm",),
    evidence={"area": "configuration"},
)


class _WatchedLive(FakeLiveFindings):
    """Notes what the bot had sent when the sweep started."""

    def __init__(self, harness_box: list[DialogHarness]) -> None:
        super().__init__(results={RESULT.id: RESULT}, by_entry={"cfg-activate-pc-to-crm": [RESULT.id]})
        self._box = harness_box
        self.sent_before: list[tuple[str, str]] = []

    async def sweep(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        buffer = self._box[0].adapter.activity_buffer
        self.sent_before = [(a.type, a.text or "") for a in buffer if isinstance(a, Activity)]
        return await super().sweep(*args, **kwargs)


def _harness(knowledge, locale: str = "en-US") -> tuple[DialogHarness, _WatchedLive]:  # type: ignore[no-untyped-def]
    box: list[DialogHarness] = []
    live = _WatchedLive(box)
    box.append(DialogHarness(knowledge, live=live, locale=locale))
    return box[0], live


async def test_the_note_and_typing_go_out_before_the_checks_run(knowledge) -> None:  # type: ignore[no-untyped-def]
    h, live = _harness(knowledge)
    await h.send("which child flows must be on before the partner center to crm flow?")
    assert live.sent_before == [(ActivityTypes.message, "Checking your tenant…"), (ActivityTypes.typing, "")]
    assert h.progress_notes == 1


async def test_the_note_is_italian_in_an_italian_turn_and_precedes_every_sweep(knowledge) -> None:  # type: ignore[no-untyped-def]
    h, live = _harness(knowledge, locale="it-IT")
    await h.send("verifica tutto")
    assert (ActivityTypes.message, "Sto controllando il tuo tenant…") in live.sent_before
    await h.send("configurazione")  # a checklist sweeps its area first
    assert live.sent_before[0] == (ActivityTypes.message, "Sto controllando il tuo tenant…")
    assert h.progress_notes == 2


async def test_no_note_without_checks(knowledge) -> None:  # type: ignore[no-untyped-def]
    h, _ = _harness(knowledge)
    [answer] = await h.send("Solution ID is required")
    assert "co-sell ready" in answer and h.progress_notes == 0
