"""The partner's systems, SDK-free: clients for Partner Center, Power Automate, Dataverse, Power Platform, Graph and
Salesforce (`clients/`), the live checks built on them (`checks/`), the runner that sweeps them, the confirm-gated
remediations, the hop-by-hop sync trace, and their credentials (`auth/`: Entra ID with msal, Salesforce OAuth).

May import: httpx, pydantic, msal, cryptography, PyJWT, the OpenTelemetry API (`telemetry`: never its SDK),
`knowledge` (entry ids and texts). Imported by: `assistant`, `dialogs` (models and ports' types), `bot` (wiring).
Never imports botbuilder, aiohttp or msrest, nor `bot` (import-linter contracts).
"""
