"""The application core, SDK-free: no botbuilder, aiohttp or msrest imports.

It holds the ports the host and the dialogs talk through (`ports`, implemented by `stores/` and the tenant), the
trust model (`trust`: how a turn's user was proven, what they may see and do), the case model (`case`: dialog
options, prompt specs, the conversation's data), the dialogs' words in English and Italian (`messages`), the
presenters (`presenters/`: markdown and Adaptive Cards) and redaction (`redaction/`: what transcripts, the journal
and the log may not keep).

May import: `tenant`, `knowledge`, pydantic, detect-secrets, the OpenTelemetry API (`telemetry`: never its SDK).
Imported by: `dialogs`, `bot`, `stores`. Never imports them back, nor botbuilder, aiohttp or msrest (import-linter
contracts).
"""
