"""Tests for dialogs/runtime.py: the lazy DialogStateManager and the uuid4 waterfall."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.core import ConversationState, MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogContext, DialogSet, DialogState, DialogTurnStatus, WaterfallDialog
from botbuilder.dialogs.memory import DialogStateManager
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from dialogs.runtime import Waterfall, patch_dialog_context
from tests.harness import DialogHarness


def _context() -> TurnContext:
    activity = Activity(
        type="message", text="hi", channel_id="test", conversation=ConversationAccount(id="c1"),
        from_property=ChannelAccount(id="user"), recipient=ChannelAccount(id="bot"),
    )  # fmt: skip
    return TurnContext(TestAdapter(), activity)


def _set() -> DialogSet:
    return DialogSet(ConversationState(MemoryStorage()).create_property("d"))


def test_the_state_manager_is_built_on_first_use_and_kept() -> None:
    patch_dialog_context()
    patch_dialog_context()  # idempotent
    dc = DialogContext(_set(), _context(), DialogState())

    assert "_lazy_state_manager" not in vars(dc)
    manager = dc.state
    assert isinstance(manager, DialogStateManager) and dc.state is manager
    replacement = DialogStateManager(dc)
    dc.state = replacement
    assert dc.state is replacement


def test_a_context_keeps_botbuilders_checks_and_attributes() -> None:
    patch_dialog_context()
    with pytest.raises(TypeError, match="dialog_set"):
        DialogContext(None, _context(), DialogState())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="turn_context"):
        DialogContext(_set(), None, DialogState())  # type: ignore[arg-type]
    state = DialogState()
    dc = DialogContext(_set(), _context(), state)
    assert dc.stack is state.dialog_stack and dc.parent is None and dc.services == {}


async def test_a_whole_conversation_builds_no_state_manager(knowledge: Any) -> None:
    harness = DialogHarness(knowledge)
    built: list[object] = []
    original = DialogStateManager.__init__

    def counting(self: DialogStateManager, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    DialogStateManager.__init__ = counting  # type: ignore[method-assign]
    try:
        await harness.join()
        await harness.send("Solution ID is required")
        await harness.send("no")
        await harness.send("prerequisites")
    finally:
        DialogStateManager.__init__ = original  # type: ignore[method-assign]

    assert built == []


async def test_waterfall_runs_its_steps_with_a_fresh_random_instance_id() -> None:
    seen: list[str] = []

    async def first(step: Any) -> Any:
        seen.append(step.active_dialog.state[WaterfallDialog.PersistedInstanceId])
        return await step.next(None)

    async def second(step: Any) -> Any:
        return await step.end_dialog("done")

    storage = ConversationState(MemoryStorage())
    dialogs = DialogSet(storage.create_property("d"))
    dialogs.add(Waterfall("w", [first, second]))
    dc = await dialogs.create_context(_context())

    result = await dc.begin_dialog("w", {"x": 1})
    await dc.begin_dialog("w", {"x": 2})

    assert result.status == DialogTurnStatus.Complete and result.result == "done"
    assert len(seen) == 2 and seen[0] != seen[1]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in seen)  # 128 bits in hex
