"""The embedded Direct Line 3.0 endpoint under `/v3/directline`, and Azure mode's token exchange.

Local mode (no Direct Line secret): the endpoint speaks the part of Direct Line 3.0 that Web Chat and DirectLineJS
use (`endpoint`: tokens, stream URLs, conversations; `conversation`: one conversation's bounded history; `turns`: the
bot's turns, in the background; `stream`: the WebSocket stream; `routes`: the HTTP routes; `protocol`: the wire's
errors, bodies and locales). Each user activity is echoed into its conversation's history first (Web Chat marks a
message sent only when its `clientActivityID` comes back), then queued for the same bot in process with deliveryMode
expectReplies; each reply reaches the history, the open streams and the next poll as the bot sends it.

Azure mode (a secret is set, `azure`): the token route exchanges the secret server-side for a conversation token and
the page talks to Azure's Direct Line. The embedded endpoint is then not mounted, so the bot keeps no unauthenticated
side door next to its authenticated `/api/messages`.

Imported by `bot.channels.webchat` (which mounts it next to the page and the token route) and `bot.app`.
"""
