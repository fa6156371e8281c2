"""The application core, SDK-free: no botbuilder, aiohttp or msrest imports.

It holds the ports the host and the dialogs talk through (`assistant.ports`, implemented by `stores/` and the
tenant), the conversation's case model (`assistant.case`), the trust model and redaction; later, presenters.
"""
