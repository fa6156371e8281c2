"""The tenant's credentials: how the live checks get access tokens for the partner's systems.

- `entra`: Entra ID tokens with msal (app-only client credentials, delegated device-code sign-in) and the
  Fernet-encrypted msal token cache, persisted through the `TokenCacheStore` port.
- `salesforce`: Salesforce OAuth against the org's connected app (JWT bearer, client credentials).

Each module takes a small frozen config of exactly the values it uses (`EntraConfig`, `SalesforceAuthConfig`), never
the bot's settings: `bot/live.py` builds them from `Settings`, and `stores/sqlite/token_cache.py` keeps the cache's
rows. May import: httpx, msal, cryptography, PyJWT, pydantic (`SecretStr`), `tenant.base`, `tenant.clients`. Imported
by: `bot` (wiring, the `login` command) and `assistant.ports` (which re-exports the `TokenCacheStore` port). Never
imports `bot` (import-linter layers).
"""
