"""The application core, SDK-free: no botbuilder, aiohttp or msrest imports.

For now it holds the trust model (`assistant.trust`: how a turn's user was proven, what they may see and do) and
redaction (`assistant.redaction`: what transcripts, the journal and the log may not keep); later ports, the case
model, presenters.

May import: `tenant`, `knowledge`, detect-secrets. Imported by: `dialogs`, `bot`. Never imports them back, nor
botbuilder, aiohttp or msrest (import-linter contracts).
"""
