"""Bearer tokens of support staff on `GET /cases/{ref}`: an Entra ID access token (v2, RS256) for the configured
audience, issued by the configured tenant, whose `groups` claim holds the support group.

Keys come from the tenant's OpenID metadata through the same hardened cache as the Bot Framework's
(`bot.sdk.openid`: asynchronous, time-boxed, failures remembered, never a 500). The token's shape is checked before
any key is looked up (`bot.bearer.check_token_shape`: RS256 and a key id only). Any refusal is one answer — 401 — and
the log names the reason class, never the token or its claims.
"""

from __future__ import annotations

import logging

import jwt

from bot.bearer import BadToken, check_token_shape
from bot.sdk.openid import CACHE, OpenIdError, OpenIdMetadataCache

log = logging.getLogger(__name__)


class StaffTokens:
    """Decides whether an `Authorization` header proves membership of the support group."""

    def __init__(
        self,
        *,
        group_id: str,
        audience: str,
        tenant_id: str,
        openid_url: str = "",
        issuer: str | None = None,
        cache: OpenIdMetadataCache = CACHE,
    ) -> None:
        self._group = group_id
        self._audience = audience
        self._url = openid_url or f"https://login.microsoftonline.com/{tenant_id}/v2.0/.well-known/openid-configuration"
        self._issuer = issuer or f"https://login.microsoftonline.com/{tenant_id}/v2.0"
        self._cache = cache

    @property
    def enabled(self) -> bool:
        """Tokens are accepted only with a group and an audience configured."""
        return bool(self._group and self._audience)

    async def allowed(self, authorization: str | None) -> bool:
        """True when the header carries a valid token of a member of the support group."""
        if not self.enabled or not authorization:
            return False
        try:
            check_token_shape(authorization)
            token = authorization.partition(" ")[2]
            kid = jwt.get_unverified_header(token)["kid"]
            key = await self._cache.metadata(self._url).get(kid)
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (BadToken, OpenIdError, jwt.PyJWTError, KeyError) as exc:
            log.info("refused a staff token on /cases: %s", type(exc).__name__)
            return False
        groups = claims.get("groups")
        if not isinstance(groups, list) or self._group not in groups:
            log.info("refused a staff token on /cases: not in the support group")
            return False
        return True
