"""Azure mode (a Direct Line secret is set): the token route trades the secret for a conversation token on Azure's
Direct Line, server-side, and the page talks to Azure over WebSocket. The secret never reaches the browser or the
logs."""

from __future__ import annotations

import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from assistant.trust import VOUCHED_PREFIX
from bot.channels.directline.protocol import DirectLineError
from bot.settings import Settings

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_UPSTREAM_S, _CONNECT_S = 10.0, 5.0  # seconds: the whole exchange, the connection


async def exchange_secret(
    http: httpx.AsyncClient, settings: Settings, origins: list[str], vouched_id: str | None = None
) -> dict[str, Any]:
    """Trade the Direct Line secret for a conversation token (the secret stays on this server).

    Azure binds the token to the user id chosen here: `dl_<random>` for anonymous users, `dl_u.<portal id>` for a
    user the portal vouched for (no random id contains a dot, so neither can pass for the other).
    """
    import httpx  # here, not at start-up: only Azure mode exchanges a secret

    user_id = VOUCHED_PREFIX + vouched_id if vouched_id is not None else f"dl_{secrets.token_hex(12)}"
    url = settings.directline_url.rstrip("/") + "/tokens/generate"
    secret = settings.directline_secret.get_secret_value()
    started = time.perf_counter()
    try:
        resp = await http.post(
            url,
            headers={"Authorization": f"Bearer {secret}"},
            json={"user": {"id": user_id}, "trustedOrigins": origins},
            timeout=httpx.Timeout(_UPSTREAM_S, connect=_CONNECT_S),
        )
    except httpx.HTTPError as exc:
        log.warning("directline tokens/generate failed: %s", type(exc).__name__)
        raise DirectLineError(502, "DirectLineUnavailable", "Azure Direct Line could not be reached") from exc
    elapsed = (time.perf_counter() - started) * 1000
    log.info("directline POST /tokens/generate status=%d %.0fms", resp.status_code, elapsed)
    try:
        data = resp.json() if resp.is_success else None
        issued = {k: data[k] for k in ("token", "conversationId", "expires_in")} if isinstance(data, dict) else None
    except (ValueError, KeyError):
        issued = None
    if issued is None or not isinstance(issued["token"], str):
        raise DirectLineError(502, "DirectLineRefused", f"Azure Direct Line answered HTTP {resp.status_code}")
    return {**issued, "domain": settings.directline_url.rstrip("/"), "userId": user_id, "webSocket": True}
