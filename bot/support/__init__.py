"""Escalation at the host's edge: the outbox targets that speak the Bot Framework (the Teams support channel, the
user's own conversation, the `handoff.initiate` event), the support staff's side of a case (card actions, replies in
the thread, `handoff.status` from an agent hub) and the staff page `GET /cases/{ref}` behind signed links.

The case logic itself is SDK-free (`assistant.handoff`); this package only moves it through botbuilder. Imported by
`bot.wiring`, `bot.handler` and `bot.app`.
"""
