"""Microsoft Graph licence details (external-apis.md §4.4): which service plans a user is licensed for.

Delegated only (least privilege `LicenseAssignment.Read.All`); `/me/licenseDetails` reads the signed-in admin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, model_validator

from tenant.base import System
from tenant.clients.odata import Items, collect_pages, parse_as

_SYSTEM = System.graph


class ServicePlan(BaseModel):
    """One service plan of a licence."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str | None = None  # servicePlanId
    name: str  # servicePlanName, e.g. FLOW_O365_P3
    provisioning_status: str | None = None  # Success | Disabled | PendingActivation | …
    applies_to: str | None = None  # User | Company

    @property
    def enabled(self) -> bool:
        """Not switched off by the admin (Graph reports a disabled plan as `Disabled`)."""
        return (self.provisioning_status or "").casefold() != "disabled"

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if isinstance(data, dict) and "servicePlanName" in data:
            return {
                "id": data.get("servicePlanId"),
                "name": data.get("servicePlanName"),
                "provisioning_status": data.get("provisioningStatus"),
                "applies_to": data.get("appliesTo"),
            }
        return data


class LicenseDetail(BaseModel):
    """One licence (SKU) assigned to the user, with its service plans."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sku_id: str | None = None
    sku_part_number: str | None = None  # e.g. ENTERPRISEPACK
    service_plans: Items[ServicePlan] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if isinstance(data, dict) and "servicePlans" in data:
            return {
                "sku_id": data.get("skuId"),
                "sku_part_number": data.get("skuPartNumber"),
                "service_plans": data.get("servicePlans"),
            }
        return data


class GraphClient:
    """Reads licence details from Microsoft Graph (the client carries a Graph-audience delegated token)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def license_details(self, user_id: str | None = None) -> list[LicenseDetail]:
        """The licences of `user_id` (the signed-in user when None)."""
        path = "/v1.0/me/licenseDetails" if not user_id else f"/v1.0/users/{quote(user_id, safe='')}/licenseDetails"
        items = await collect_pages(self._http, _SYSTEM, path, max_pages=2)
        return [parse_as(LicenseDetail, item, _SYSTEM) for item in items]

    async def service_plan_names(self, user_id: str | None = None, *, enabled_only: bool = True) -> list[str]:
        """Names of the user's service plans, sorted, without duplicates."""
        plans = [p for lic in await self.license_details(user_id) for p in lic.service_plans]
        return sorted({p.name for p in plans if p.enabled or not enabled_only})
