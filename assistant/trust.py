"""Who may see the tenant and who may change it: the trust model, designed once, SDK-free.

A turn's user is *verified* only when the channel proved who they are:

- **Teams** (`msteams`) with Bot Framework auth on: the Bot Connector's signed token proves the activity came from
  Teams, and Teams sets `from.aadObjectId` — the user's Entra object id.
- **A portal that vouched for the user**: the embedding portal's server asked for the Direct Line token with the
  configured portal key and the user's id (as Azure Direct Line's trusted user ids work). The embedded Direct Line
  binds that id to the conversation; through Azure Direct Line the id travels as `dl_u.<id>`, which only this
  server (holding the Direct Line secret) can have a token issued for.

What a turn may do follows from that and the deployment:

| who | live findings | fixes |
|---|---|---|
| verified | yes | when a verified id is on the admin allow-list |
| anyone, auth off, loopback only; the terminal | yes (the operator's own machine) | only with the local-demo setting |
| everyone else | no: FAQ answers, and one line why | no |

Ids a caller merely claims (`from.id`, `from.aadObjectId` on other channels, or with auth off) are never verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Proof = Literal["teams", "portal", "none"]
Reason = Literal["verified", "local", "unverified"]

# Azure Direct Line user ids of vouched users; anonymous ones are `dl_<hex>` (no dot), so the two cannot collide
VOUCHED_PREFIX = "dl_u."
TEAMS_CHANNEL = "msteams"
_DIRECT_LINE_CHANNELS = frozenset({"webchat", "directline"})


@dataclass(frozen=True)
class Identity:
    """The user of one turn, and how (if at all) the channel proved it.

    Attributes:
        channel: the channel id of the turn.
        user_id: `from.id` as the channel sent it.
        aad_object_id: `from.aadObjectId` as the channel sent it (proven only on Teams with auth on).
        proof: what proved the identity.
        vouched_id: the portal's own id of a vouched user.
        terminal: the turn came from this process's own terminal (`chat`, `ask`): the operator, who holds the
            settings, whatever the deployment's auth.
    """

    channel: str
    user_id: str | None
    aad_object_id: str | None = None
    proof: Proof = "none"
    vouched_id: str | None = None
    terminal: bool = False

    @property
    def verified(self) -> bool:
        """True when the channel proved who the user is."""
        return self.proof != "none"

    def verified_ids(self) -> tuple[str, ...]:
        """The ids the allow-list may be matched against: only proven ones."""
        if self.proof == "teams":
            return tuple(i for i in (self.aad_object_id, self.user_id) if i)
        if self.proof == "portal":
            return tuple(i for i in (self.vouched_id, self.user_id) if i)
        return ()

    def claimed_ids(self) -> tuple[str, ...]:
        """Every id the caller sent, proven or not (for the local demo and the journal)."""
        return tuple(i for i in (self.aad_object_id, self.user_id) if i)


@dataclass(frozen=True)
class Access:
    """What this turn may see and do.

    Attributes:
        live: live findings and trace results may be shown.
        fix_ids: ids to match against the admin allow-list; empty = no fixes at all this turn.
        reason: why: a verified user, the operator's own loopback machine, or an unverified user.
    """

    live: bool
    fix_ids: tuple[str, ...]
    reason: Reason


NO_ACCESS = Access(live=False, fix_ids=(), reason="unverified")


@dataclass(frozen=True)
class TrustPolicy:
    """The deployment's side of the trust model.

    Attributes:
        auth_enabled: Bot Framework auth is on (an app id is configured).
        loopback_only: the server only listens on a loopback address.
        local_fixes: with auth off on loopback, the local user may run fixes (against the allow-list).
    """

    auth_enabled: bool
    loopback_only: bool
    local_fixes: bool = False

    @property
    def local(self) -> bool:
        """Auth off and reachable from this machine only: whoever talks to it is the operator."""
        return not self.auth_enabled and self.loopback_only

    def access(self, identity: Identity) -> Access:
        """What `identity` may see and do under this policy."""
        if identity.verified:
            return Access(live=True, fix_ids=identity.verified_ids(), reason="verified")
        if self.local or identity.terminal:
            return Access(live=True, fix_ids=identity.claimed_ids() if self.local_fixes else (), reason="local")
        return NO_ACCESS


def azure_vouched_id(channel: str, user_id: str | None) -> str | None:
    """The portal's id of a user vouched for through Azure Direct Line (`dl_u.<id>`), else None."""
    if channel in _DIRECT_LINE_CHANNELS and user_id and user_id.startswith(VOUCHED_PREFIX):
        return user_id[len(VOUCHED_PREFIX) :] or None
    return None


def identify(
    *,
    channel: str,
    user_id: str | None,
    aad_object_id: str | None,
    channel_authenticated: bool,
    embedded_vouched: str | None = None,
    embedded: bool = False,
    terminal: bool = False,
) -> Identity:
    """Decide how the channel proved the user of a turn.

    Args:
        channel: the activity's channel id.
        user_id: `from.id`.
        aad_object_id: `from.aadObjectId`.
        channel_authenticated: the activity came with a Bot Framework token that was validated (auth on).
        embedded_vouched: for turns of the embedded Direct Line, the user id it bound to a vouched conversation.
        embedded: the turn came from the embedded Direct Line (its own rules only).
        terminal: the turn came from this process's terminal (the operator).
    """
    if terminal:
        return Identity(channel, user_id, aad_object_id, terminal=True)
    base = Identity(channel=channel, user_id=user_id, aad_object_id=aad_object_id)
    if embedded:
        if embedded_vouched and embedded_vouched == user_id:
            vouched = user_id[len(VOUCHED_PREFIX) :] if user_id.startswith(VOUCHED_PREFIX) else user_id
            return Identity(channel, user_id, None, "portal", vouched)
        return Identity(channel, user_id, None)  # an embedded turn never carries a proven AAD id
    if not channel_authenticated:
        return base
    if channel == TEAMS_CHANNEL and aad_object_id:
        return Identity(channel, user_id, aad_object_id, "teams")
    vouched_id = azure_vouched_id(channel, user_id)
    if vouched_id:
        return Identity(channel, user_id, None, "portal", vouched_id)
    return base
