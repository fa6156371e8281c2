"""One client per external system (`<System>Client`, on a ready `httpx.AsyncClient`), plus the retrying transport and
the OData helpers they share. Errors are the `tenant.base.LiveCheckError` family only."""
