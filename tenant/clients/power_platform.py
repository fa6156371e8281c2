"""Power Platform admin APIs (external-apis.md §4.1–4.2): BAP environments (Dataverse linked?) and tenant capacity.

Environments come from `api.bap.microsoft.com` (ARM-style resources); tenant capacity from `api.powerplatform.com`,
a second host with its own client. Reading one environment by id (`…/scopes/admin/environments/{id}`) is what the
PowerShell admin module calls; only the list route is in Microsoft's docs (UNVERIFIED as public API).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, model_validator

from tenant.base import System
from tenant.clients.odata import Items, as_dict, collect_pages, parse_as, read_json
from tenant.clients.transport import send

_SYSTEM = System.power_platform
_BAP_VERSION = "2020-10-01"
_CAPACITY_VERSION = "2022-03-01-preview"
_ENVIRONMENTS = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"
_EXPAND = "properties.capacity,properties.addons"


class EnvironmentCapacity(BaseModel):
    """One entry of an environment's `properties.capacity[]` (consumption only: the total is tenant-wide)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    capacity_type: str | None = None  # Database | File | Log
    actual_consumption: float | None = None
    rated_consumption: float | None = None
    capacity_unit: str | None = None  # "MB"

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if isinstance(data, dict) and "capacityType" in data:
            return {
                "capacity_type": data.get("capacityType"),
                "actual_consumption": data.get("actualConsumption"),
                "rated_consumption": data.get("ratedConsumption"),
                "capacity_unit": data.get("capacityUnit"),
            }
        return data


class Environment(BaseModel):
    """A Power Platform environment, flattened from the BAP resource."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str  # the environment id
    display_name: str | None = None
    sku: str | None = None  # Production | Sandbox | Trial | Default
    is_default: bool | None = None
    database_type: str | None = None  # CommonDataService when a Dataverse database exists
    instance_url: str | None = None  # linkedEnvironmentMetadata.instanceUrl: absent = no Dataverse database
    instance_state: str | None = None
    capacity: Items[EnvironmentCapacity] = ()

    @property
    def has_dataverse(self) -> bool:
        """A Dataverse database is linked: an instance URL is there (the schema's only clear signal)."""
        return bool(self.instance_url)

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if not (isinstance(data, dict) and isinstance(data.get("properties"), dict)):
            return data
        props = data["properties"]
        linked = as_dict(props.get("linkedEnvironmentMetadata"))
        return {
            "name": data.get("name"),
            "display_name": props.get("displayName"),
            "sku": props.get("environmentSku"),
            "is_default": props.get("isDefault"),
            "database_type": props.get("databaseType"),
            "instance_url": linked.get("instanceUrl") or linked.get("instanceApiUrl"),
            "instance_state": linked.get("instanceState"),
            "capacity": props.get("capacity"),
        }


class TenantCapacity(BaseModel):
    """One entry of `tenantCapacities[]` (Power Platform API licensing/tenantCapacity)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    capacity_type: str | None = None  # Database | File | Log | …
    unit: str | None = None  # "MB"
    total: float | None = None
    max: float | None = None
    actual: float | None = None
    rated: float | None = None
    status: str | None = None  # Available | Overage | …

    @property
    def available(self) -> float | None:
        """Total minus actual consumption (the "≥ 1 GB" rule reads this; UNVERIFIED interpretation)."""
        return None if self.total is None or self.actual is None else self.total - self.actual

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if isinstance(data, dict) and "capacityType" in data:
            consumption = as_dict(data.get("consumption"))
            return {
                "capacity_type": data.get("capacityType"),
                "unit": data.get("capacityUnits"),
                "total": data.get("totalCapacity"),
                "max": data.get("maxCapacity"),
                "actual": consumption.get("actual"),
                "rated": consumption.get("rated"),
                "status": data.get("status"),
            }
        return data


class PowerPlatformClient:
    """Reads environments (BAP) and, given a second client for api.powerplatform.com, the tenant's capacity."""

    def __init__(
        self, http: httpx.AsyncClient, *, environment_id: str = "", capacity_http: httpx.AsyncClient | None = None
    ) -> None:
        self._http = http
        self._capacity_http = capacity_http
        self.environment_id = environment_id  # the connector's environment (settings), "" when not configured

    async def list_environments(self, max_pages: int = 2) -> list[Environment]:
        """Every environment the admin can see, with capacity consumption."""
        params: dict[str, str | int] = {"api-version": _BAP_VERSION, "$expand": _EXPAND}
        items = await collect_pages(
            self._http, _SYSTEM, _ENVIRONMENTS, params=params, next_key="nextLink", max_pages=max_pages
        )
        return [parse_as(Environment, item, _SYSTEM) for item in items]

    async def get_environment(self, environment_id: str) -> Environment:
        """One environment by id; a 404 raises LiveCheckFailed with status 404."""
        params = {"api-version": _BAP_VERSION, "$expand": _EXPAND}
        path = f"{_ENVIRONMENTS}/{quote(environment_id, safe='')}"
        resp = await send(self._http, _SYSTEM, "GET", path, params=params)
        return parse_as(Environment, read_json(resp, _SYSTEM), _SYSTEM)

    @property
    def reads_capacity(self) -> bool:
        """A client for the tenant-capacity API was given."""
        return self._capacity_http is not None

    async def tenant_capacity(self) -> list[TenantCapacity]:
        """The tenant's capacity per type (empty without a capacity client)."""
        if self._capacity_http is None:
            return []
        resp = await send(
            self._capacity_http,
            _SYSTEM,
            "GET",
            "/licensing/tenantCapacity",
            params={"api-version": _CAPACITY_VERSION},
        )
        body = read_json(resp, _SYSTEM)
        entries = body.get("tenantCapacities") if isinstance(body, dict) else None
        return [parse_as(TenantCapacity, item, _SYSTEM) for item in _list(entries)]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
