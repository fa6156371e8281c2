"""Sandbox Salesforce REST API (external-apis.md §6): SOQL over the few objects the client queries, describe,
limits and userinfo. A test and demo tool, not a product feature; errors use Salesforce's JSON-array shape.

Paging: query results larger than the tenant's `batch_size` answer `done: false` and a `nextRecordsUrl` relative to
the instance root (`/services/data/v59.0/query/01gSBX…`), as Salesforce does.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from aiohttp import web

from bot.sandbox.scenario import SandboxSalesforce

_VERSION = "v59.0"
_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)
_QUOTED = re.compile(r"'([^']*)'")


def sf_error(status: int, code: str, message: str) -> web.Response:
    """An error in Salesforce's shape: `[{"message", "errorCode", "fields"}]`."""
    return web.json_response([{"message": message, "errorCode": code, "fields": []}], status=status)


class SalesforceRoutes:
    """Mixin of the simulated tenant: `self.tenant.salesforce` holds the org, `self.sf_cursors` open query batches."""

    tenant: Any
    sf_cursors: dict[str, list[dict[str, Any]]]

    def _sf(self) -> SandboxSalesforce | web.Response:
        org = self.tenant.salesforce
        return org if org is not None else sf_error(404, "NOT_FOUND", "Sandbox: no Salesforce org in this scenario.")

    def _sf_batch(self, org: SandboxSalesforce, rows: list[dict[str, Any]]) -> web.Response:
        size = max(1, org.batch_size)
        body: dict[str, Any] = {"totalSize": len(rows), "done": len(rows) <= size, "records": rows[:size]}
        if len(rows) > size:
            cursor = f"01gSBX{uuid.uuid4().hex[:12]}"
            self.sf_cursors[cursor] = rows[size:]
            body["nextRecordsUrl"] = f"/services/data/{_VERSION}/query/{cursor}"
        return web.json_response(body)

    async def sf_query(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        org = self._sf()
        if isinstance(org, web.Response):
            return org
        soql = request.query.get("q", "")
        found = _FROM.search(soql)
        if not found:
            return sf_error(400, "MALFORMED_QUERY", "Sandbox: the query has no FROM clause.")
        sobject = found.group(1)
        where = soql[found.end() :]
        quoted = _QUOTED.findall(where)
        if sobject == "CurrencyType":
            if not org.multi_currency:
                return sf_error(400, "INVALID_TYPE", "sObject type 'CurrencyType' is not supported.")
            rows = [
                {
                    "attributes": {"type": "CurrencyType"},
                    "IsoCode": c.iso_code,
                    "IsActive": c.is_active,
                    "IsCorporate": c.is_corporate,
                    "ConversionRate": c.conversion_rate,
                }
                for c in org.currencies
            ]
        elif sobject == "User":
            users = [(uid, u) for uid, u in org.users.items() if not quoted or uid in quoted or "Standard" in quoted]
            if "IsActive = true" in where:
                users = [(uid, u) for uid, u in users if u.is_active]
            rows = [
                {
                    "attributes": {"type": "User"},
                    "Id": uid,
                    "Username": u.username,
                    "Name": u.name,
                    "IsActive": u.is_active,
                    "Profile": {"Name": u.profile, "PermissionsCustomizeApplication": u.profile_customize},
                }
                for uid, u in users
            ]
        elif sobject == "PermissionSetAssignment":
            user = org.users.get(quoted[0]) if quoted else None
            sets = user.permission_sets if user else {}
            only_customize = "PermissionsCustomizeApplication = true" in where
            rows = [
                {"attributes": {"type": "PermissionSetAssignment"}, "PermissionSet": {"Name": name}}
                for name, customize in sets.items()
                if customize or not only_customize
            ]
        else:
            return sf_error(400, "INVALID_TYPE", f"Sandbox: the object {sobject} is not served.")
        return self._sf_batch(org, rows)

    async def sf_query_more(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        org = self._sf()
        if isinstance(org, web.Response):
            return org
        rows = self.sf_cursors.pop(params["cursor"], None)
        if rows is None:
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._sf_batch(org, rows)

    async def sf_describe(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        org = self._sf()
        if isinstance(org, web.Response):
            return org
        if params["sobject"] != "Opportunity":
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        standard = [
            {"name": "Id", "label": "Opportunity ID", "type": "id", "custom": False},
            {"name": "Name", "label": "Name", "type": "string", "custom": False},
            {"name": "Amount", "label": "Amount", "type": "currency", "custom": False},
            {"name": "CloseDate", "label": "Close Date", "type": "date", "custom": False},
            {"name": "StageName", "label": "Stage", "type": "picklist", "custom": False},
        ]
        if org.multi_currency:
            standard.append(
                {"name": "CurrencyIsoCode", "label": "Opportunity Currency", "type": "picklist", "custom": False}
            )
        custom = [{"name": f.name, "label": f.label, "type": f.type, "custom": True} for f in org.opportunity_fields]
        return web.json_response({"name": "Opportunity", "label": "Opportunity", "fields": [*standard, *custom]})

    async def sf_limits(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        org = self._sf()
        if isinstance(org, web.Response):
            return org
        daily = {"Max": org.api_max, "Remaining": org.api_remaining}
        return web.json_response({"DailyApiRequests": daily, "DataStorageMB": {"Max": 5, "Remaining": 4}})

    async def sf_userinfo(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        org = self._sf()
        if isinstance(org, web.Response):
            return org
        return web.json_response(
            {
                "sub": f"https://login.salesforce.com/id/{org.org_id}/{org.user_id}",
                "user_id": org.user_id,
                "organization_id": org.org_id,
            }
        )
