"""The channels: Web Chat (`webchat`: the page, `/embed.js`, the token route, the origins that may use them) over the
embedded Direct Line (`directline/`) or Azure's; who may open a conversation (`gate`); one renderer per channel,
wrapping the presenters' markdown and cards in activities (`rendering`); the Teams app package (`teams_package`).

May import: `bot` (settings, wiring, identity, sdk), `dialogs`, `assistant`, `knowledge`, botbuilder, aiohttp.
Imported by: `bot` (app, wiring, handler, commands).
"""
