"""Salesforce REST API (external-apis.md §6): SOQL queries, sObject describe, org limits, currencies, permissions.

The client's HTTP base URL is the org's instance URL (https://<MyDomain>.my.salesforce.com); every call goes to
`/services/data/<api_version>/…`. Errors are a JSON array `[{"message","errorCode","fields"}]`; the shared transport
maps them (403 REQUEST_LIMIT_EXCEEDED is LiveCheckUnavailable, 401 INVALID_SESSION_ID is LiveCheckFailed).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from tenant.base import LiveCheckFailed, System
from tenant.clients.odata import Items, as_dict, parse_as, read_json
from tenant.clients.transport import send

log = logging.getLogger(__name__)

_SYSTEM = System.salesforce
_SOBJECT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_VERSION = re.compile(r"v\d{2,3}\.\d")


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class SObjectField(_Row):
    name: str
    label: str | None = None
    type: str | None = None
    custom: bool = False


class SObjectDescribe(_Row):
    name: str
    label: str | None = None
    fields: Items[SObjectField] = ()

    def field(self, name: str) -> SObjectField | None:
        """The field with API name `name` (case-insensitive), if the object has it."""
        return next((f for f in self.fields if f.name.casefold() == name.casefold()), None)


class ApiLimits(_Row):
    """`/limits` → DailyApiRequests (a rolling 24-hour allocation that depends on edition and licences)."""

    daily_max: int
    daily_remaining: int

    @property
    def remaining_ratio(self) -> float:
        return self.daily_remaining / self.daily_max if self.daily_max > 0 else 0.0


class CurrencyType(_Row):
    iso_code: str = Field(alias="IsoCode")
    is_active: bool = Field(default=True, alias="IsActive")
    is_corporate: bool = Field(default=False, alias="IsCorporate")
    conversion_rate: float | None = Field(default=None, alias="ConversionRate")


class SalesforceUser(_Row):
    id: str = Field(alias="Id")
    username: str | None = Field(default=None, alias="Username")
    name: str | None = Field(default=None, alias="Name")
    is_active: bool = Field(default=True, alias="IsActive")


class SalesforceClient:
    """Reads the Salesforce side of the connector through the REST API."""

    def __init__(self, http: httpx.AsyncClient, api_version: str = "v59.0") -> None:
        if not _VERSION.fullmatch(api_version):
            raise ValueError(f"not a Salesforce API version: {api_version!r}")
        self._http = http
        self._base = f"/services/data/{api_version}"

    async def query(self, soql: str, max_pages: int = 3) -> list[dict[str, Any]]:
        """SOQL records, following `nextRecordsUrl` while `done` is false, for at most `max_pages` batches."""
        records: list[dict[str, Any]] = []
        url: str | None = f"{self._base}/query"
        params: dict[str, str] | None = {"q": soql}
        for _ in range(max(1, max_pages)):
            if url is None:
                break
            body = await self._get(url, params)
            params = None
            if not isinstance(body, dict) or not isinstance(body.get("records", []), list):
                raise LiveCheckFailed(_SYSTEM, "Salesforce returned query results in an unexpected shape.")
            records.extend(r for r in body.get("records", []) if isinstance(r, dict))
            nxt = body.get("nextRecordsUrl")
            url = nxt if body.get("done") is False and isinstance(nxt, str) and nxt else None
            if url is not None and httpx.URL(url).is_absolute_url and httpx.URL(url).host != self._http.base_url.host:
                # the Authorization header must never follow a link to another host
                raise LiveCheckFailed(_SYSTEM, "Salesforce returned a next-page link to another host.")
        else:
            if url is not None:
                log.info("salesforce: stopped paging a query after %d batches", max_pages)
        return records

    async def describe(self, sobject: str) -> SObjectDescribe:
        """The object's fields (name, label, type, custom)."""
        body = await self._get(f"{self._base}/sobjects/{_sobject(sobject)}/describe")
        return parse_as(SObjectDescribe, body, _SYSTEM)

    async def find_fields(self, sobject: str, label_contains: str, *, custom_only: bool = True) -> list[SObjectField]:
        """Fields of `sobject` whose label contains the text, case-insensitively (the connector's package fields
        have UNVERIFIED API names and may carry a namespace prefix, so they are found by label)."""
        needle = label_contains.casefold()
        found = (await self.describe(sobject)).fields
        return [f for f in found if (f.custom or not custom_only) and needle in (f.label or "").casefold()]

    async def limits(self) -> ApiLimits:
        """The org's DailyApiRequests allocation (needs "View Setup and Configuration")."""
        daily = as_dict(as_dict(await self._get(f"{self._base}/limits")).get("DailyApiRequests"))
        return parse_as(ApiLimits, {"daily_max": daily.get("Max"), "daily_remaining": daily.get("Remaining")}, _SYSTEM)

    async def currencies(self) -> list[CurrencyType]:
        """The org's currencies; [] in a single-currency org, where the CurrencyType object does not exist."""
        try:
            rows = await self.query("SELECT IsoCode, IsActive, IsCorporate, ConversionRate FROM CurrencyType")
        except LiveCheckFailed as exc:
            # "sObject type 'CurrencyType' is not supported" answers 400 INVALID_TYPE: the org is single-currency
            if exc.status == 400 and "(INVALID_TYPE)" in str(exc):
                return []
            raise
        return [parse_as(CurrencyType, r, _SYSTEM) for r in rows]

    async def current_user_id(self) -> str:
        """The signed-in user's id from the OpenID Connect userinfo endpoint on the instance (`user_id`)."""
        body = as_dict(await self._get("/services/oauth2/userinfo"))
        user_id = body.get("user_id")
        if not isinstance(user_id, str) or not _ID.fullmatch(user_id):
            raise LiveCheckFailed(_SYSTEM, "Salesforce userinfo returned no user id.")
        return user_id

    async def user_can_customize(self, user_id: str) -> bool:
        """True when the user's profile or one of their permission sets grants Customize Application.

        `PermissionsCustomizeApplication` follows the documented `Permissions<Name>` pattern; the exact name is
        UNVERIFIED (external-apis.md §6.4).
        """
        uid = _user_id(user_id)
        rows = await self.query(
            f"SELECT Id, Profile.Name, Profile.PermissionsCustomizeApplication FROM User WHERE Id = '{uid}'"
        )
        if not rows:
            raise LiveCheckFailed(_SYSTEM, "The Salesforce user was not found.", status=404)
        if as_dict(rows[0].get("Profile")).get("PermissionsCustomizeApplication") is True:
            return True
        soql = (
            "SELECT PermissionSet.Name FROM PermissionSetAssignment "
            f"WHERE AssigneeId = '{uid}' AND PermissionSet.PermissionsCustomizeApplication = true"
        )
        return bool(await self.query(soql, max_pages=1))

    async def active_users(self, limit: int = 50) -> list[SalesforceUser]:
        """Active standard (licensed, interactive) users."""
        limit = max(1, min(int(limit), 2000))
        where = "WHERE IsActive = true AND UserType = 'Standard'"
        soql = f"SELECT Id, Username, Name, IsActive FROM User {where} LIMIT {limit}"
        return [parse_as(SalesforceUser, r, _SYSTEM) for r in await self.query(soql)][:limit]

    async def _get(self, url: str, params: dict[str, str] | None = None) -> Any:
        return read_json(await send(self._http, _SYSTEM, "GET", url, params=params), _SYSTEM)


def _sobject(name: str) -> str:
    if not _SOBJECT.fullmatch(name):
        raise LiveCheckFailed(_SYSTEM, "The object name is not a Salesforce API name.")
    return name


def _user_id(value: str) -> str:
    value = value.strip()
    if not _ID.fullmatch(value):
        raise LiveCheckFailed(_SYSTEM, "The id given is not a Salesforce id.")
    return value
