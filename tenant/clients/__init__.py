"""One client per external system (`<System>Client`, on a ready `httpx.AsyncClient`), plus the retrying transport and
the OData helpers they share. Errors are the `tenant.base.LiveCheckError` family only.

May import: httpx, pydantic, `tenant.base`. Imported by: `tenant` (checks, runner, remediation, auth) and `bot`
(wiring the live checks).
"""
