"""Dataverse Web API v9.2: identity and roles, currencies, users, solution flows and their connections, records,
custom-field metadata and environment variables. The client's base URL ends in /api/data/v9.2.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from tenant.base import LiveCheckFailed, System
from tenant.clients.odata import (
    Items,
    as_dict,
    collect_pages,
    odata_datetime,
    odata_string,
    parse_as,
    read_json,
)
from tenant.clients.transport import send

_SYSTEM = System.dataverse
_ODATA = {"OData-MaxVersion": "4.0", "OData-Version": "4.0", "Accept": "application/json"}
_ENTITY = re.compile(r"[a-z][a-z0-9_]{0,63}")


class _Row(BaseModel):
    # extra="allow": callers may $select extra columns (e.g. a custom country field) and read them from model_extra
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class WhoAmI(_Row):
    user_id: str = Field(alias="UserId")
    business_unit_id: str | None = Field(default=None, alias="BusinessUnitId")
    organization_id: str | None = Field(default=None, alias="OrganizationId")


class Currency(_Row):
    id: str | None = Field(default=None, alias="transactioncurrencyid")
    iso_code: str | None = Field(default=None, alias="isocurrencycode")
    name: str | None = Field(default=None, alias="currencyname")
    exchange_rate: Decimal | None = Field(default=None, alias="exchangerate")
    statecode: int | None = None  # 0 active, 1 inactive


class SystemUser(_Row):
    id: str = Field(alias="systemuserid")
    full_name: str | None = Field(default=None, alias="fullname")
    email: str | None = Field(default=None, alias="internalemailaddress")


class Workflow(_Row):
    """A cloud flow row (category 5); clientdata is reduced to connection reference and trigger names."""

    id: str = Field(alias="workflowid")
    name: str | None = None
    statecode: int | None = None  # 0 Draft (off), 1 Activated (on), 2 Suspended
    statuscode: int | None = None
    is_managed: bool | None = Field(default=None, alias="ismanaged")
    modified_on: datetime | None = Field(default=None, alias="modifiedon")
    owner_id: str | None = Field(default=None, alias="_ownerid_value")
    connection_reference_names: Items[str] = ()
    trigger_names: Items[str] = ()
    clientdata_readable: bool = True


class ConnectionReference(_Row):
    logical_name: str = Field(alias="connectionreferencelogicalname")
    display_name: str | None = Field(default=None, alias="connectionreferencedisplayname")
    connector_id: str | None = Field(default=None, alias="connectorid")
    connection_id: str | None = Field(default=None, alias="connectionid")  # empty: no connection bound
    statecode: int | None = None


class FlowRunRecord(_Row):
    """A `flowrun` row (elastic table, preview); column names beyond name/status/error* are UNVERIFIED."""

    name: str
    status: str | None = None  # Success | Failed | Cancelled
    start_time: datetime | None = Field(default=None, alias="starttime")
    end_time: datetime | None = Field(default=None, alias="endtime")
    error_code: str | None = Field(default=None, alias="errorcode")
    error_message: str | None = Field(default=None, alias="errormessage")
    workflow_id: str | None = Field(default=None, validation_alias=AliasChoices("workflowid", "_workflow_value"))
    workflow_name: str | None = Field(default=None, alias="workflowname")

    @field_validator("error_message", mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        """errormessage is a JSON string such as {"code":"ActionFailed","message":…}: keep the message."""
        try:
            parsed = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            return value
        return parsed.get("message", value) if isinstance(parsed, dict) else value


class Account(_Row):
    id: str = Field(alias="accountid")
    name: str | None = None
    country: str | None = Field(default=None, alias="address1_country")  # free text: must hold ISO alpha-2
    postal_code: str | None = Field(default=None, alias="address1_postalcode")


class Opportunity(_Row):
    id: str = Field(alias="opportunityid")
    name: str | None = None
    estimated_value: Decimal | None = Field(default=None, alias="estimatedvalue")
    estimated_close_date: date | None = Field(default=None, alias="estimatedclosedate")
    currency_id: str | None = Field(default=None, alias="_transactioncurrencyid_value")
    account_id: str | None = Field(default=None, alias="_parentaccountid_value")
    statecode: int | None = None


class AttributeInfo(_Row):
    logical_name: str
    schema_name: str | None = None
    attribute_type: str | None = None
    labels: Items[str] = ()  # every localized display label (the environment may be Italian)


class DataverseClient:
    """Reads the CRM side of the connector through the Dataverse Web API."""

    def __init__(self, http: httpx.AsyncClient, *, page_size: int = 100, max_pages: int = 3) -> None:
        self._http = http
        self._page_size = page_size
        self._max_pages = max_pages

    async def who_am_i(self) -> WhoAmI:
        """The calling user (or application user)."""
        return parse_as(WhoAmI, await self._get("WhoAmI"), _SYSTEM)

    async def user_role_names(self, user_id: str) -> list[str]:
        """Names of the roles assigned directly to the user (team roles are not included)."""
        expand = "systemuserroles_association($select=name,roleid)"
        row = await self._get(f"systemusers({_guid(user_id)})", {"$select": "fullname", "$expand": expand})
        roles = row.get("systemuserroles_association") if isinstance(row, dict) else None
        return [r["name"] for r in roles or [] if isinstance(r, dict) and isinstance(r.get("name"), str)]

    async def base_currency(self) -> Currency:
        """The organization's base currency."""
        params = {
            "$select": "name,_basecurrencyid_value",
            "$expand": "basecurrencyid($select=isocurrencycode,currencyname)",
        }
        rows = await self._rows("organizations", params)
        currency = rows[0].get("basecurrencyid") if rows else None
        if not isinstance(currency, dict):
            raise LiveCheckFailed(_SYSTEM, "Dataverse returned no base currency for the organization.")
        return parse_as(Currency, {"transactioncurrencyid": rows[0].get("_basecurrencyid_value"), **currency}, _SYSTEM)

    async def transaction_currencies(self) -> list[Currency]:
        """Every currency set up in the environment (active and inactive)."""
        select = "transactioncurrencyid,isocurrencycode,currencyname,exchangerate,statecode"
        return [parse_as(Currency, r, _SYSTEM) for r in await self._rows("transactioncurrencies", {"$select": select})]

    async def enabled_users(self, top: int = 50) -> list[SystemUser]:
        """Enabled, interactive (read-write) users; the accessmode filter is UNVERIFIED in detail."""
        params = {
            "$filter": "isdisabled eq false and accessmode eq 0",
            "$select": "systemuserid,fullname,internalemailaddress",
        }
        return [parse_as(SystemUser, r, _SYSTEM) for r in await self._rows("systemusers", params, limit=top)]

    async def cloud_flows(self, name_contains: str | None = None) -> list[Workflow]:
        """Solution cloud flows (category 5), with the connection references their clientdata names."""
        query = "category eq 5" + (f" and contains(name,'{odata_string(name_contains)}')" if name_contains else "")
        select = "workflowid,name,statecode,statuscode,clientdata,ismanaged,modifiedon,_ownerid_value"
        rows = await self._rows("workflows", {"$filter": query, "$select": select})
        return [parse_as(Workflow, _workflow_row(r), _SYSTEM) for r in rows]

    async def connection_references(self) -> list[ConnectionReference]:
        """Connection references and the connection each is bound to."""
        select = "connectionreferencelogicalname,connectionreferencedisplayname,connectorid,connectionid,statecode"
        rows = await self._rows("connectionreferences", {"$select": select})
        return [parse_as(ConnectionReference, r, _SYSTEM) for r in rows]

    async def flow_runs(self, since: datetime, status: str = "Failed", top: int = 50) -> list[FlowRunRecord]:
        """Recent runs with `status`. `starttime` is UNVERIFIED: if the filter on it is refused (400), filter here."""
        query = f"status eq '{odata_string(status)}'"
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        try:
            rows = await self._rows("flowruns", {"$filter": f"{query} and starttime ge {odata_datetime(since)}"}, top)
        except LiveCheckFailed as exc:
            if exc.status != 400:
                raise
            rows = await self._rows("flowruns", {"$filter": query})
        runs = [parse_as(FlowRunRecord, r, _SYSTEM) for r in rows]
        return [r for r in runs if r.start_time is None or r.start_time >= since][:top]

    async def run_history(self, since: datetime, max_rows: int = 25_000) -> tuple[list[FlowRunRecord], bool]:
        """Every run since `since`, any status, newest first: start time and flow only, 5,000 rows a page.

        At most `max_rows` (one call per 5,000); the flag says the cap cut the history short. If the filter on the
        (UNVERIFIED) `starttime` column is refused, the newest rows are read unfiltered and filtered here."""
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        params = {"$select": "name,status,starttime,workflowid,workflowname", "$orderby": "starttime desc"}
        headers = {**_ODATA, "Prefer": "odata.maxpagesize=5000"}
        pages = -(-max_rows // 5000) + 1  # one more page than the cap needs, to know whether it cut anything

        async def read(query: dict[str, str]) -> list[dict[str, Any]]:
            return await collect_pages(
                self._http, _SYSTEM, "flowruns", params={**query}, headers=headers, max_pages=pages, limit=max_rows + 1
            )

        try:
            rows = await read({**params, "$filter": f"starttime ge {odata_datetime(since)}"})
        except LiveCheckFailed as exc:
            if exc.status != 400:
                raise
            rows = await read(params)
        runs = [parse_as(FlowRunRecord, r, _SYSTEM) for r in rows[:max_rows]]
        return [r for r in runs if r.start_time is not None and r.start_time >= since], len(rows) > max_rows

    async def get_account(self, account_id: str, extra_fields: tuple[str, ...] = ()) -> Account:
        """An account's name, country and postal code, plus `extra_fields` (in `model_extra`)."""
        select = ",".join(("accountid", "name", "address1_country", "address1_postalcode", *extra_fields))
        return parse_as(Account, await self._get(f"accounts({_guid(account_id)})", {"$select": select}), _SYSTEM)

    async def get_opportunity(self, opportunity_id: str, extra_fields: tuple[str, ...] = ()) -> Opportunity:
        """An opportunity's value, close date and currency, plus `extra_fields` such as the connector's custom ones."""
        base = ("opportunityid", "name", "estimatedvalue", "estimatedclosedate", "_transactioncurrencyid_value")
        select = ",".join((*base, "_parentaccountid_value", "statecode", *extra_fields))
        row = await self._get(f"opportunities({_guid(opportunity_id)})", {"$select": select})
        return parse_as(Opportunity, row, _SYSTEM)

    async def find_attributes(self, entity: str, display_name_contains: str) -> list[AttributeInfo]:
        """Custom attributes of `entity` whose display label (any language) contains the text, case-insensitively."""
        if not _ENTITY.fullmatch(entity):
            raise LiveCheckFailed(_SYSTEM, "The entity name is not a Dataverse logical name.")
        params = {"$select": "LogicalName,SchemaName,AttributeType,DisplayName", "$filter": "IsCustomAttribute eq true"}
        rows = await self._rows(f"EntityDefinitions(LogicalName='{entity}')/Attributes", params)
        needle = display_name_contains.casefold()
        found = [_attribute(r) for r in rows]
        return [a for a in found if any(needle in label.casefold() for label in a.labels)]

    async def environment_variables(self) -> dict[str, str]:
        """Environment variables by display name (schema name when it has none): current value, else the default."""
        params = {
            "$select": "schemaname,displayname,defaultvalue",
            "$expand": "environmentvariabledefinition_environmentvariablevalue($select=value)",
        }
        result: dict[str, str] = {}
        for row in await self._rows("environmentvariabledefinitions", params):
            values = [v.get("value") for v in row.get("environmentvariabledefinition_environmentvariablevalue") or []]
            value = next((v for v in values if isinstance(v, str)), row.get("defaultvalue"))
            key = row.get("displayname") or row.get("schemaname")
            if isinstance(key, str) and isinstance(value, str):
                result[key] = value
        return result

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        resp = await send(self._http, _SYSTEM, "GET", path, params=params, headers=_ODATA)
        return read_json(resp, _SYSTEM)

    async def _rows(self, path: str, params: dict[str, str], limit: int | None = None) -> list[dict[str, Any]]:
        headers = {**_ODATA, "Prefer": f"odata.maxpagesize={self._page_size}"}
        query: dict[str, str | int] = {**params}
        return await collect_pages(
            self._http, _SYSTEM, path, params=query, headers=headers, max_pages=self._max_pages, limit=limit
        )


def _guid(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip().strip("{}")))
    except ValueError as exc:
        raise LiveCheckFailed(_SYSTEM, "The id given is not a Dataverse GUID.") from exc


def _workflow_row(row: dict[str, Any]) -> dict[str, Any]:
    """clientdata is JSON encoded as a string; an unreadable one degrades to empty names, not an error."""
    out = {k: v for k, v in row.items() if k != "clientdata"}
    try:
        data = json.loads(row.get("clientdata") or "{}")
    except (TypeError, ValueError):
        return {**out, "clientdata_readable": False}
    props = as_dict(data.get("properties", data)) if isinstance(data, dict) else {}
    refs = as_dict(props.get("connectionReferences")).values()
    names = [as_dict(as_dict(ref).get("connection")).get("connectionReferenceLogicalName") for ref in refs]
    triggers = as_dict(as_dict(props.get("definition")).get("triggers"))
    return {
        **out,
        "connection_reference_names": [n for n in names if isinstance(n, str)],
        "trigger_names": list(triggers),
        "clientdata_readable": bool(props),
    }


def _attribute(row: dict[str, Any]) -> AttributeInfo:
    display = as_dict(row.get("DisplayName"))
    localized = [*(display.get("LocalizedLabels") or []), display.get("UserLocalizedLabel")]
    labels = list(dict.fromkeys(lbl["Label"] for lbl in localized if isinstance(lbl, dict) and lbl.get("Label")))
    info = {
        "logical_name": row.get("LogicalName"),
        "schema_name": row.get("SchemaName"),
        "attribute_type": row.get("AttributeType"),
        "labels": labels,
    }
    return parse_as(AttributeInfo, info, _SYSTEM)
