"""The partner's systems, SDK-free: clients for Partner Center, Power Automate, Dataverse, Power Platform, Graph and
Salesforce (`clients/`), the live checks built on them (`checks/`), the runner that sweeps them, the confirm-gated
remediations and the hop-by-hop sync trace.

May import: httpx, pydantic, `knowledge` (entry ids and texts). Imported by: `assistant`, `dialogs` (models and
ports' types), `bot` (wiring). Never imports botbuilder, aiohttp or msrest (import-linter contract).
"""
