"""The application core, SDK-free: no botbuilder, aiohttp or msrest imports.

For now it holds redaction (`assistant.redaction`); later ports, the case model, presenters.
"""
