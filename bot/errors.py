"""The adapter's turn-error handler: log with ids, apologise once, keep the conversation's state."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.storage import StorageConflictError
from dialogs import messages
from dialogs.state import turn_lang

log = logging.getLogger(__name__)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Called by the adapter when a turn raises.

    State is not deleted: the failed turn's changes are simply not saved, so the conversation resumes
    from its last good state (the user can always say "restart").
    """
    activity = context.activity
    conversation = activity.conversation.id if activity.conversation else None
    log.error(
        "turn failed: conversation=%s activity=%s type=%s error=%s",
        conversation,
        activity.id,
        activity.type,
        type(error).__name__,
        exc_info=error,
    )
    if activity.type not in (ActivityTypes.message, ActivityTypes.conversation_update):
        return
    key = "conflict" if isinstance(error, StorageConflictError) else "error"
    try:
        await context.send_activity(messages.text(key, turn_lang(context)))
        if activity.channel_id == "emulator":
            await context.send_activity(
                Activity(
                    type=ActivityTypes.trace,
                    timestamp=datetime.now(UTC),
                    name="on_turn_error",
                    label="TurnError",
                    value=type(error).__name__,
                    value_type="https://www.botframework.com/schemas/error",
                )
            )
    except Exception:  # the channel itself may be what failed; nothing more to do but log
        log.warning("could not send the error message: conversation=%s", conversation, exc_info=True)
