"""`TurnContext` that snapshots each reply as JSON when it goes out, instead of deep-copying it first.

botbuilder 4.17's `TurnContext.send_activities` deep-copies every reply before addressing it, so that what the
bot goes on to do with its own object cannot change what was sent. `copy.deepcopy` costs about a tenth of a
millisecond for a reply with an Adaptive Card, and a turn also rebuilds its conversation reference (three model
copies and a msrest model) on every send.

Here a reply is copied shallowly (addressing only assigns top-level fields, so the bot's own object is never
touched) and the protection deepcopy gave comes from serialising: what leaves the bot is the reply's JSON taken
at the moment it is sent, after the send hooks ran: by the adapter when it POSTs it, by `send_activities` when it
buffers it for expectReplies. `serialized()` hands that same snapshot to the transcript and to the expectReplies
response, so a reply is serialised once and a later change to a nested part of the bot's object (a card, a list)
changes nothing that was sent or logged. The conversation reference is built once per turn.

`send_activities` below is botbuilder's, step for step (address, validate, buffer for expectReplies or send
through the adapter, run the send hooks); only the copy differs. The adapter creates this class for every turn.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, DeliveryModes, ResourceResponse

from bot.sdk.activity_json import serialize
from dialogs.state import SEND_NOW

_SERIALIZED = "cosell.serialized"  # turn_state: id(activity) → (activity, its JSON as sent)
_HELD = "cosell.held"  # turn_state: the `HeldReplies` of a turn whose replies wait for its state to be saved
_REFERENCE = "cosell.reference"  # turn_state: (incoming activity, its conversation reference)


def snapshot(context: TurnContext, activity: Activity) -> dict[str, Any]:
    """Serialise `activity` now and remember it as this turn's JSON for that very object."""
    body = serialize(activity)
    context.turn_state.setdefault(_SERIALIZED, {})[id(activity)] = (activity, body)
    return body


def serialized(context: TurnContext, activity: Activity) -> dict[str, Any]:
    """`activity.serialize()`, reusing the snapshot this turn took of that very object when it was sent.

    The send hooks (the transcript), the adapter and the expectReplies response all get the same reply objects
    from `FastCopyTurnContext.send_activities`, so a reply is serialised once. Treat the result as read-only.
    """
    entry = context.turn_state.get(_SERIALIZED, {}).get(id(activity))
    if entry is None or entry[0] is not activity:
        return snapshot(context, activity)
    body: dict[str, Any] = entry[1]
    return body


def _shallow_copy(activity: Activity) -> Activity:
    clone: Activity = activity.__class__.__new__(activity.__class__)
    clone.__dict__.update(activity.__dict__)
    return clone


class HeldReplies:
    """A turn's replies, held until its state is saved (the Bot Framework's scale-out guidance: a turn that loses
    the save to another instance is run again, and its user must not have seen the lost attempt's answers).

    `hold(context)` starts holding; `FastCopyTurnContext.send_activities` then keeps each batch here (typing
    indicators, and whatever is sent while `SEND_NOW` is set, go out at once), before any send hook, so the
    transcript records only what is really sent. `release` sends them, in order; `discard` forgets them.
    """

    def __init__(self) -> None:
        self.batches: list[list[Activity]] = []
        self.releasing = False

    @staticmethod
    def hold(context: TurnContext) -> HeldReplies:
        held = HeldReplies()
        context.turn_state[_HELD] = held
        return held

    def takes(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse] | None:
        """Keep `activities` (and answer for them as the adapter would) or, None, let them go out now."""
        if self.releasing or context.turn_state.get(SEND_NOW):
            return None
        if all(getattr(a, "type", None) == ActivityTypes.typing for a in activities):
            return None
        self.batches.append(list(activities))
        if any(getattr(a, "type", None) != ActivityTypes.trace for a in activities):
            context.responded = True
        return [ResourceResponse() for _ in activities]

    async def release(self, context: TurnContext) -> None:
        """Send what is held, batch by batch, and stop holding."""
        self.releasing = True
        context.turn_state.pop(_HELD, None)
        batches, self.batches = self.batches, []
        for batch in batches:
            await context.send_activities(batch)

    def discard(self) -> None:
        self.batches = []


class _HookChain:
    """Runs send/update/delete hooks as botbuilder's `_emit` does: each hook's `next` runs the hooks after it."""

    __slots__ = ("_arg", "_context", "_hooks")

    def __init__(self, context: TurnContext, hooks: list[Callable[..., Awaitable[Any]]], arg: Any) -> None:
        self._context, self._hooks, self._arg = context, hooks, arg

    async def run(self, i: int) -> None:
        if i < len(self._hooks):
            await self._hooks[i](self._context, self._arg, functools.partial(self.run, i + 1))


def _validate(output: list[Activity]) -> bool:
    """botbuilder's validator on the outgoing copies; True when one of them is not a trace."""
    sent_non_trace = False
    for activity in output:
        if not getattr(activity, "type", None):
            activity.type = ActivityTypes.message
        if activity.type != ActivityTypes.trace:
            sent_non_trace = True
        if not activity.input_hint:
            activity.input_hint = "acceptingInput"
        activity.id = None
    return sent_non_trace


class FastCopyTurnContext(TurnContext):
    """botbuilder's `TurnContext`, with a shallow copy and a JSON snapshot in place of `copy.deepcopy`."""

    async def _emit(self, plugins: list[Callable[..., Awaitable[Any]]], arg: Any, logic: Awaitable[Any]) -> Any:
        """botbuilder's `_emit` (the hooks, in order, then `logic`), without its self-referencing closure: that
        cycle held each turn's context, and everything in its turn state, until the cycle collector ran."""
        await _HookChain(self, list(plugins), arg).run(0)
        return await logic

    def _reference(self) -> ConversationReference:
        cached = self.turn_state.get(_REFERENCE)
        if cached is None or cached[0] is not self.activity:
            cached = (self.activity, TurnContext.get_conversation_reference(self.activity))
            self.turn_state[_REFERENCE] = cached
        reference: ConversationReference = cached[1]
        return reference

    async def send_activities(self, activities: list[Activity]) -> list[ResourceResponse]:
        held: HeldReplies | None = self.turn_state.get(_HELD)
        if held is not None and (kept := held.takes(self, activities)) is not None:
            return kept
        reference = self._reference()
        output = [TurnContext.apply_conversation_reference(_shallow_copy(act), reference) for act in activities]
        sent_non_trace = _validate(output)

        async def logic() -> list[ResourceResponse]:
            if self.activity.delivery_mode == DeliveryModes.expect_replies:
                responses = []
                for activity in output:
                    snapshot(self, activity)  # what the expectReplies response will carry
                    self.buffered_reply_activities.append(activity)
                    # the invoke response is not sent through the adapter, which would record it
                    if activity.type == ActivityTypes.invoke_response:
                        self.turn_state[TurnContext._INVOKE_RESPONSE_KEY] = activity
                    responses.append(ResourceResponse())
            else:
                responses = await self.adapter.send_activities(self, output)
            if sent_non_trace:
                self.responded = True
            return responses

        result: list[ResourceResponse] = await self._emit(self._on_send_activities, output, logic())
        return result
