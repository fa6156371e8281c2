"""The SDK edge of the trust model: read how a turn's user was proven from botbuilder's turn state.

`assistant/trust.py` holds the rules; this module only knows where botbuilder keeps the validated claims
(`BotAdapter.BOT_IDENTITY_KEY`) and the claims the embedded Direct Line adds to the turns it runs.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botframework.connector.auth import AuthenticationConstants

from assistant.trust import Access, Identity, TrustPolicy, identify

# Claims the embedded Direct Line puts on the claims identity of the turns it hands the bot. They cannot come from a
# caller: on /api/messages the claims are those of a token botbuilder validated (or, auth off, its anonymous ones).
EMBEDDED_CLAIM = "cosell:embedded_directline"
VOUCHED_CLAIM = "cosell:vouched_user"
# The claim of in-process turns from the terminal (`cosell-bot chat` / `ask`): the operator, who holds the settings.
TERMINAL_CLAIM = "cosell:terminal"


def _claims(ctx: TurnContext) -> dict[str, Any]:
    identity = ctx.turn_state.get(BotAdapter.BOT_IDENTITY_KEY)
    claims = getattr(identity, "claims", None)
    return claims if isinstance(claims, dict) else {}


def _channel_authenticated(ctx: TurnContext, claims: dict[str, Any], auth_enabled: bool) -> bool:
    """A Bot Framework token was validated for this turn: auth on, and claims from a real issuer."""
    identity = ctx.turn_state.get(BotAdapter.BOT_IDENTITY_KEY)
    if not auth_enabled or not getattr(identity, "is_authenticated", False):
        return False
    if getattr(identity, "authentication_type", None) == AuthenticationConstants.ANONYMOUS_AUTH_TYPE:
        return False
    return bool(claims.get(AuthenticationConstants.ISSUER_CLAIM))


def turn_identity(ctx: TurnContext, auth_enabled: bool) -> Identity:
    """How the channel proved the user of this turn (see `assistant.trust.identify`)."""
    activity = ctx.activity
    sender = activity.from_property
    user_id = sender.id if sender is not None and isinstance(sender.id, str) else None
    aad = getattr(sender, "aad_object_id", None) if sender is not None else None
    claims = _claims(ctx)
    vouched = claims.get(VOUCHED_CLAIM)
    return identify(
        channel=str(activity.channel_id or ""),
        user_id=user_id,
        aad_object_id=aad if isinstance(aad, str) and aad else None,
        channel_authenticated=_channel_authenticated(ctx, claims, auth_enabled),
        embedded=bool(claims.get(EMBEDDED_CLAIM)),
        embedded_vouched=vouched if isinstance(vouched, str) else None,
        terminal=claims.get(TERMINAL_CLAIM) is True,
    )


def turn_access(ctx: TurnContext, policy: TrustPolicy) -> Access:
    """What this turn's user may see and do under `policy`."""
    return policy.access(turn_identity(ctx, policy.auth_enabled))
