"""The application core, SDK-free: no botbuilder, aiohttp or msrest imports.

It holds the trust model (`trust`: how a turn's user was proven, what they may see and do), the case model (`case`:
dialog options, prompt specs, the conversation's data), the dialogs' words in English and Italian (`messages`), the
presenters (`presenters/`: markdown and Adaptive Cards) and redaction (`redaction/`: what transcripts, the journal
and the log may not keep); ports to come.

May import: `tenant`, `knowledge`, pydantic, detect-secrets. Imported by: `dialogs`, `bot`. Never imports them back,
nor botbuilder, aiohttp or msrest (import-linter contracts).
"""
