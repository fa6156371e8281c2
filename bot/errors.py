"""The adapter's turn-error handler: log with ids, apologise once (or answer the invoke), keep the state."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from http import HTTPStatus

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, InvokeResponse

from assistant import messages
from assistant.ports import StateConflict
from bot.adapter import invoke_error
from bot.log_setup import safe_id
from dialogs.state import turn_lang

log = logging.getLogger(__name__)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Called by the adapter when a turn raises.

    State is not deleted: the failed turn's changes are simply not saved, so the conversation resumes
    from its last good state (the user can always say "restart"). An invoke is answered with HTTP 200 and a
    statusCode 500 error body (Teams' Universal Actions shape) in place of whatever it would have returned, so
    the caller gets neither a 500 nor the failure's details.
    """
    activity = context.activity
    conversation = safe_id(activity.conversation.id if activity.conversation else None)
    log.error(
        "turn failed: conversation=%s activity=%s channel=%s type=%s name=%s error=%s",
        conversation,
        safe_id(activity.id),
        safe_id(activity.channel_id),
        safe_id(activity.type),
        safe_id(activity.name),
        type(error).__name__,
        exc_info=error,
    )
    if activity.type == ActivityTypes.invoke:
        await _answer_invoke(context, conversation)
        return
    if activity.type not in (ActivityTypes.message, ActivityTypes.conversation_update):
        return
    key = "conflict" if isinstance(error, StateConflict) else "error"
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


async def _answer_invoke(context: TurnContext, conversation: str) -> None:
    """Replace the failed invoke's answer (if it had one) with a generic error: 200, statusCode 500."""
    body = invoke_error(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalServerError", "the bot could not process this")
    answer = Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=int(HTTPStatus.OK), body=body))
    try:
        await context.send_activity(answer)
    except Exception:  # nothing more to do: the adapter answers 200 with no body when no answer was set
        log.warning("could not answer the failed invoke: conversation=%s", conversation, exc_info=True)
