"""Persistence behind the application core's ports (`assistant/ports.py`), one folder per backend (`sqlite/`).

What lives here: the concrete stores (state, transcripts, journal, API call counts, the token cache's rows). They
import only the standard library, `assistant.ports`, the `assistant.case` models and `assistant.redaction`: never
botbuilder, aiohttp, msrest, nor `bot`, `dialogs`, `tenant`, `knowledge` or `devtools`. The vocabulary of the
ports' signatures (`System`, `Area`, `Lang`) comes to them through `assistant.ports`.

Who may import it: `bot/wiring.py` only, which names the concrete stores and hands them to the rest of the host (the
CLI included) typed as ports. Both directions are import-linter contracts in `pyproject.toml`.
"""
