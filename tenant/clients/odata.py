"""OData/JSON helpers the clients share: reading bodies, validating shapes, following next-page links."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import BaseModel, BeforeValidator, ValidationError

from tenant.base import LiveCheckFailed, System
from tenant.calls import system_name
from tenant.clients.transport import send
from tenant.texts import said

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _none_to_empty(value: object) -> object:
    return () if value is None else value


Items = Annotated[tuple[T, ...], BeforeValidator(_none_to_empty)]  # the APIs send null for empty arrays


def odata_datetime(moment: datetime) -> str:
    """An OData datetime literal in UTC (a naive datetime is taken as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def odata_string(value: str) -> str:
    """`value` as the inside of an OData string literal (quotes doubled)."""
    return value.replace("'", "''")


def as_dict(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (for optional nested objects)."""
    return value if isinstance(value, dict) else {}


def read_json(resp: httpx.Response, system: System) -> Any:
    """The response body as JSON, or LiveCheckFailed (never echoing the body)."""
    try:
        return resp.json()
    except ValueError as exc:
        raise LiveCheckFailed(system, said("not-json", system=system_name(system)), status=resp.status_code) from exc


def parse_as(model: type[M], data: object, system: System) -> M:
    """Validate `data` as `model`; a schema mismatch becomes LiveCheckFailed naming only the model."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise LiveCheckFailed(
            system, said("unexpected-shape", system=system_name(system), model=model.__name__)
        ) from exc


async def collect_pages(
    http: httpx.AsyncClient,
    system: System,
    path: str,
    *,
    params: dict[str, str | int] | None = None,
    headers: dict[str, str] | None = None,
    next_key: str = "@odata.nextLink",
    max_pages: int = 3,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """GET an OData collection, following next links for at most `max_pages` pages (and `limit` items)."""
    items: list[dict[str, Any]] = []
    url: str | None = path
    for page in range(max_pages):
        if url is None or (limit is not None and len(items) >= limit):
            break
        resp = await send(http, system, "GET", url, params=params if page == 0 else None, headers=headers)
        body = read_json(resp, system)
        if not isinstance(body, dict) or not isinstance(body.get("value", []), list):
            raise LiveCheckFailed(system, said("unexpected-list", system=system_name(system)))
        items.extend(item for item in body.get("value", []) if isinstance(item, dict))
        url = body.get(next_key) if isinstance(body.get(next_key), str) else None
        if url is not None and httpx.URL(url).is_absolute_url and httpx.URL(url).host != http.base_url.host:
            # the client's Authorization header must never follow a link to another host
            raise LiveCheckFailed(system, said("foreign-next-link", system=system_name(system)))
    else:
        if url is not None:
            log.info("%s: stopped paging %s after %d pages", system.value, path, max_pages)
    return items if limit is None else items[:limit]
