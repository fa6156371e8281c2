"""Delivery adapters of the escalation outbox: how a support case leaves the assistant for a system outside it.

- `signing`: the HMAC-SHA256 signature (with a timestamp against replay) every webhook request carries, and the
  check a receiver runs (`verify`).
- `webhook`: `WebhookTarget`, which posts the case and its diagnostic bundle (`cosell.case.v1`) as signed JSON to a
  URL (a Power Automate / Logic App trigger, an Azure Function, a ticket system's inbound endpoint).

SDK-free: httpx and the standard library only, no botbuilder, botframework, msrest or aiohttp. May import
`assistant` (the case and outbox models, redaction); never `bot`, `dialogs`, `stores` or `devtools`. Only `bot` may
import it (the settings take the secret's minimum length from `signing`; the wiring builds the targets from the
settings once the outbox runs), besides tests and devtools. The import-linter contracts in pyproject.toml hold this.
"""
