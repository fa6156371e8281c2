"""The read-only knowledge, SDK-free: the FAQ entries and lexicon (`data/`), their models and loader (validated at
start-up), text folding and stemming (`text`), and the matcher.

May import: pydantic, PyYAML, rapidfuzz, snowballstemmer. Imported by `dialogs`, `bot` and the bench; `tenant` and
`assistant` may. Imports none of them, nor botbuilder, aiohttp or msrest (import-linter).
"""
