"""Visible progress: what the user sees at once when a turn is about to run live checks on their tenant."""

from __future__ import annotations

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from assistant import messages
from dialogs.state import SEND_NOW, turn_lang


async def announce_checks(ctx: TurnContext) -> None:
    """Say "Checking your tenant…" and show the typing indicator, right before live checks run (they can take
    seconds); channels that stream (Direct Line's WebSocket, Teams) show both at once, before the findings.

    The message goes first: Web Chat hides a bot's typing indicator when a message from the bot arrives, so the
    indicator sent after it stays up while the checks run.
    """
    note = MessageFactory.text(messages.text("checking_tenant", turn_lang(ctx)))
    ctx.turn_state[SEND_NOW] = True  # progress, not an answer: out at once even while answers wait for the save
    try:
        await ctx.send_activities([note, Activity(type=ActivityTypes.typing)])
    finally:
        ctx.turn_state.pop(SEND_NOW, None)
