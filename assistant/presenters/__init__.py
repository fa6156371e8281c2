"""Presenters: what the assistant shows, as markdown and as Adaptive Cards, built by pure functions.

- `marks`: the one table of status marks (checklist outcomes, live-check statuses, fix steps).
- `choices`: the buttons a prompt offers and how a reply (button, number, word) is recognised.
- `markdown`: answers, checklist items and summaries, live findings, fix offers, previews and outcomes as markdown
  (the text channels, the terminal, and every card's plain-text summary).
- `cards`: the same things as Adaptive Card 1.5 JSON (Teams, Web Chat, the Emulator).
- `views`: the language-neutral things a dialog asks to show that are not prompts (findings, a fix's report).

SDK-free (no botbuilder, aiohttp, msrest): the channel renderer in `bot/channels/rendering.py` wraps their output in
activities. May import `assistant.messages`, `assistant.case`, `knowledge`, `tenant` models. Imported by `dialogs`
(recognising replies) and `bot` (rendering).
"""
