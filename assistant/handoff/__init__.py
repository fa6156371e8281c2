"""Escalation to support staff: the case, its diagnostic bundle (`cosell.case.v1`) and how it is rendered.

- `bundle`: the versioned JSON document handed to support — who asked, what the assistant matched, checked, found,
  tried and was told, and the conversation itself — built by a pure function and passed through
  `assistant.redaction` whole, so nothing secret leaves with it.
- `render`: the bundle as HTML (the staff page, `cosell-bot cases show --html`) and as short Markdown (cards).

SDK-free: the bot host delivers what is built here. May import `assistant.redaction`, `assistant.case`, `knowledge`
and `tenant` models. Imported by `dialogs` (the hand-over dialog), `bot` (delivery, the staff page) and the cli.
"""
