"""Two owned fixes to botbuilder-dialogs 4.17's per-turn cost; behaviour is unchanged.

- `patch_dialog_context()`: every `DialogContext` (and every `WaterfallStepContext`, which is one) builds a
  `DialogStateManager` in its constructor: memory-scope configuration, a component registration and a
  reference cycle back to the context, for each of the half-dozen contexts a turn creates. Only
  `DialogManager`, adaptive dialogs and the class memory scope ever read `dc.state`; this bot uses none of
  them. After the patch the manager is built on first access of `dc.state`, exactly as before, and a context
  nobody asks it of is plain garbage the moment the turn drops it (no cycle for the collector to find).
- `Waterfall`: `WaterfallDialog` whose per-run instance id (telemetry only) is 128 random bits from `random`
  instead of `uuid1`. CPython's `uuid1` goes through libuuid's `uuid_generate_time_safe`, which tries the
  uuidd socket on every call (about 11 µs); `uuid4` costs a `getrandom` system call (2.6 µs, and more on a
  cold, idle server); the id needs to be unique, not unpredictable.
"""

from __future__ import annotations

import random
from typing import Any

from botbuilder.dialogs import DialogContext, DialogSet, DialogState, DialogTurnResult, WaterfallDialog
from botbuilder.dialogs.dialog_reason import DialogReason
from botbuilder.dialogs.memory import DialogStateManager

_STATE = "_lazy_state_manager"


def _context_init(self: DialogContext, dialog_set: DialogSet, turn_context: Any, state: DialogState) -> None:
    """botbuilder's `DialogContext.__init__` without building the state manager."""
    if dialog_set is None:
        raise TypeError("DialogContext(): dialog_set cannot be None.")
    if turn_context is None:
        raise TypeError("DialogContext(): turn_context cannot be None.")
    self._turn_context = turn_context
    self._dialogs = dialog_set
    self._stack = state.dialog_stack
    self.services = {}
    self.parent = None


def _get_state(self: DialogContext) -> DialogStateManager:
    manager = self.__dict__.get(_STATE)
    if manager is None:
        manager = self.__dict__[_STATE] = DialogStateManager(self)
    return manager


def _set_state(self: DialogContext, manager: DialogStateManager) -> None:
    self.__dict__[_STATE] = manager


def patch_dialog_context() -> None:
    """Build `DialogContext.state` on first use instead of in the constructor; idempotent."""
    if DialogContext.__init__ is not _context_init:
        DialogContext.__init__ = _context_init
        DialogContext.state = property(_get_state, _set_state)


class Waterfall(WaterfallDialog):
    """`WaterfallDialog` with a cheaper instance id; the rest is botbuilder's."""

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None) -> DialogTurnResult:
        if not dialog_context:
            raise TypeError("WaterfallDialog.begin_dialog(): dc cannot be None.")
        state = dialog_context.active_dialog.state
        instance_id = f"{random.getrandbits(128):032x}"
        state[self.PersistedOptions] = options
        state[self.PersistedValues] = {}
        state[self.PersistedInstanceId] = instance_id
        self.telemetry_client.track_event("WaterfallStart", {"DialogId": self.id, "InstanceId": instance_id})
        result: DialogTurnResult = await self.run_step(dialog_context, 0, DialogReason.BeginCalled, None)
        return result
