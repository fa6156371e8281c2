"""What the current turn may see and do (set by the bot handler from `assistant.trust`), and the one line that
tells an unverified user why live checks are not shown."""

from __future__ import annotations

from botbuilder.core import TurnContext

from assistant import messages
from assistant.trust import NO_ACCESS, Access
from dialogs.state import conversation_data, turn_lang

ACCESS_KEY = "cosell.access"


def turn_access(ctx: TurnContext) -> Access:
    """This turn's access, decided on first use by the resolver the handler left under `ACCESS_KEY`; none when the
    handler set nothing (deny by default)."""
    found = ctx.turn_state.get(ACCESS_KEY)
    if isinstance(found, Access):
        return found
    access = found(ctx) if callable(found) else NO_ACCESS
    access = access if isinstance(access, Access) else NO_ACCESS
    ctx.turn_state[ACCESS_KEY] = access
    return access


async def may_show_live(ctx: TurnContext, *, always_explain: bool = False) -> bool:
    """True when live findings may be shown this turn; otherwise say why (once per conversation, or every time
    with `always_explain`, for an explicit "diagnose") and return False."""
    if turn_access(ctx).live:
        return True
    data = conversation_data(ctx)
    if always_explain or data is None or not data.live_hidden_told:
        await ctx.send_activity(messages.text("live_hidden", turn_lang(ctx)))
        if data is not None:
            data.live_hidden_told = True
    return False
