"""What the current turn may see and do (set by the bot handler from `assistant.trust`), and the one line that
tells an unverified user why live checks are not shown."""

from __future__ import annotations

from botbuilder.core import TurnContext

from assistant.trust import NO_ACCESS, Access
from dialogs import messages
from dialogs.state import turn_lang

ACCESS_KEY = "cosell.access"
_TOLD_KEY = "cosell.live_hidden_told"  # in the conversation's data: say it once per conversation


def turn_access(ctx: TurnContext) -> Access:
    """This turn's access; none when the handler did not set it (deny by default)."""
    access = ctx.turn_state.get(ACCESS_KEY)
    return access if isinstance(access, Access) else NO_ACCESS


async def may_show_live(ctx: TurnContext, *, always_explain: bool = False) -> bool:
    """True when live findings may be shown this turn; otherwise say why (once per conversation, or every time
    with `always_explain`, for an explicit "diagnose") and return False."""
    if turn_access(ctx).live:
        return True
    data = ctx.turn_state.get("cosell.data")
    told = bool(getattr(data, "live_hidden_told", False))
    if always_explain or not told:
        await ctx.send_activity(messages.text("live_hidden", turn_lang(ctx)))
        if data is not None and hasattr(data, "live_hidden_told"):
            data.live_hidden_told = True
    return False
