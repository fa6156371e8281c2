"""[http] the baseline servers beside the botbuilder echo bot (turns.py): the Microsoft 365 Agents SDK 1.9 echo agent
and a bare aiohttp handler, each an `aiohttp.web.Application` that `over_http.serve` runs in its own process.

- `agents_echo_app`: the SDK's documented echo sample (the quickstart's `AgentApplication` answering every message with
  "you said: …", `MemoryStorage`, `MsalConnectionManager`, `Authorization`, served by the aiohttp `CloudAdapter`
  through `start_agent_process` behind `jwt_authorization_middleware`), with auth off as the samples run locally: the
  service connection allows anonymous requests and has no client id, so nothing asks for a token and replies go out
  without an Authorization header. The configuration is the sample's own `load_configuration_from_env`, fed a fixed
  mapping instead of the environment, so a developer's variables cannot switch auth on.
- `bare_app`: no bot at all. POST /api/messages parses the JSON body; with normal delivery it POSTs one reply activity
  (the text echoed, `from`/`recipient` swapped, `replyToId`) to `{serviceUrl}/v3/conversations/{id}/activities/{id}`
  as a bot replies, over one keep-alive `ClientSession` for the whole process, waits for the connector's answer and
  then returns 200 with no body (with expectReplies it returns the reply in the body instead of POSTing it). It
  validates nothing and keeps no state: the floor of a bot's turn on this aiohttp.

The Agents SDK is a dev-only dependency (pyproject's `dev` extra): only this module imports it, on first use.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from aiohttp import web

AGENTS_ECHO_PREFIX = "you said: "  # the quickstart sample's reply
# the SDK's settings for a local run with auth off (an environment's `CONNECTIONS__SERVICE_CONNECTION__SETTINGS__…`)
AGENTS_ANONYMOUS = {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "True"}


def agents_echo_app() -> web.Application:
    """The Agents SDK echo sample as an aiohttp app (the sample's `start_server`, without `run_app`)."""
    from aiohttp import web
    from microsoft_agents.activity import load_configuration_from_env
    from microsoft_agents.authentication.msal import MsalConnectionManager
    from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware, start_agent_process
    from microsoft_agents.hosting.core import AgentApplication, Authorization, MemoryStorage, TurnContext, TurnState

    # Every turn builds a user-token client, which warns "App ID is not provided" when there is none: true only
    # because auth is off here (a deployed agent has its app id), and a log line per turn is not the SDK's cost.
    logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client").setLevel(logging.ERROR)

    config = load_configuration_from_env(AGENTS_ANONYMOUS)
    storage = MemoryStorage()
    connection_manager = MsalConnectionManager(**config)
    adapter = CloudAdapter(connection_manager=connection_manager)
    authorization = Authorization(storage, connection_manager, **config)
    agent_app = AgentApplication[TurnState](storage=storage, adapter=adapter, authorization=authorization, **config)

    async def on_message(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(f"{AGENTS_ECHO_PREFIX}{context.activity.text}")

    agent_app.activity("message")(on_message)

    async def entry_point(request: web.Request) -> web.StreamResponse:
        response = await start_agent_process(request, agent_app, adapter)
        if response is None:  # typed Optional, but the aiohttp CloudAdapter always answers
            raise web.HTTPInternalServerError()
        return response

    app = web.Application(middlewares=[jwt_authorization_middleware])
    app.router.add_post("/api/messages", entry_point)
    app["agent_configuration"] = connection_manager.get_default_connection_configuration()
    return app


def _reply(activity: dict[str, Any]) -> dict[str, Any]:
    """The reply a bot sends to `activity`: its text echoed, addressed back to the sender."""
    return {"type": "message", "channelId": activity.get("channelId"), "serviceUrl": activity.get("serviceUrl"),
            "conversation": activity.get("conversation"), "from": activity.get("recipient"),
            "recipient": activity.get("from"), "replyToId": activity.get("id"), "text": activity.get("text"),
            "locale": activity.get("locale"), "inputHint": "acceptingInput"}  # fmt: skip


def bare_app() -> web.Application:
    """An aiohttp app with no bot: read the activity, POST one reply to its connector, answer 200."""
    import aiohttp
    from aiohttp import web

    session_key = web.AppKey("session", aiohttp.ClientSession)

    async def client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[session_key] = session
            yield

    async def messages(request: web.Request) -> web.Response:
        activity = await request.json()
        reply = _reply(activity)
        if activity.get("deliveryMode") == "expectReplies":
            return web.json_response({"activities": [reply]})
        conversation, replied_to = quote(activity["conversation"]["id"], safe=""), quote(activity["id"], safe="")
        url = f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation}/activities/{replied_to}"
        async with request.app[session_key].post(url, json=reply) as resp:
            await resp.read()
            resp.raise_for_status()
        return web.Response(status=200)

    app = web.Application()
    app.cleanup_ctx.append(client)
    app.router.add_post("/api/messages", messages)
    return app
