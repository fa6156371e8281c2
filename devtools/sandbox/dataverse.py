"""Sandbox Dataverse Web API v9.2 (§5), Power Platform admin (§4.1–4.2) and Graph licence (§4.4) routes.

A test and demo tool, not a product feature. Rows carry the columns the clients `$select`; `$select` projects them
and a column that does not exist answers 400 `0x80060888`, as Dataverse does.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from devtools.sandbox.salesforce import SalesforceRoutes
from devtools.sandbox.tenant import _PREFER_PAGE, TenantRoutes, _iso

_CONTEXT = "$metadata#"


def _select(row: dict[str, Any], request: web.Request, entity: str) -> dict[str, Any] | web.Response:
    wanted = [c.strip() for c in request.query.get("$select", "").split(",") if c.strip()]
    if not wanted:
        return row
    missing = [c for c in wanted if c not in row]
    if missing:
        message = f"Could not find a property named '{missing[0]}' on type 'Microsoft.Dynamics.CRM.{entity}'."
        return TenantRoutes._error("dataverse", 400, "0x80060888", message)
    return {k: v for k, v in row.items() if k in wanted or k.startswith("@") or isinstance(v, dict | list)}


class SimulatedTenant(TenantRoutes, SalesforceRoutes):
    """All routes of the simulated tenant (Partner Center, flows, Dataverse, BAP, capacity, Graph, Salesforce)."""

    def _rows(self, entity_set: str) -> list[dict[str, Any]]:
        t = self.tenant
        if entity_set == "organizations":
            cur = t.currencies[t.base_currency_id]
            base = {
                "transactioncurrencyid": t.base_currency_id,
                "isocurrencycode": cur.iso_code,
                "currencyname": cur.name,
            }
            return [
                {
                    "organizationid": t.organization_id,
                    "name": t.organization_name,
                    "_basecurrencyid_value": t.base_currency_id,
                    "basecurrencyid": base,
                }
            ]
        if entity_set == "transactioncurrencies":
            return [
                {
                    "transactioncurrencyid": cid,
                    "isocurrencycode": c.iso_code,
                    "currencyname": c.name,
                    "exchangerate": c.exchange_rate,
                    "statecode": c.statecode,
                }
                for cid, c in t.currencies.items()
            ]
        if entity_set == "systemusers":
            return [
                {
                    "systemuserid": uid,
                    "fullname": u.full_name,
                    "internalemailaddress": u.email,
                    "isdisabled": u.disabled,
                    "accessmode": u.access_mode,
                }
                for uid, u in t.users.items()
            ]
        if entity_set == "workflows":
            return [self._workflow(fid) for fid in t.flows]
        if entity_set == "connectionreferences":
            return [
                {
                    "connectionreferencelogicalname": name,
                    "connectionreferencedisplayname": r.display_name,
                    "connectorid": f"/providers/Microsoft.PowerApps/apis/{r.api_name}",
                    "connectionid": r.connection_id or None,
                    "statecode": r.statecode,
                }
                for name, r in t.connection_references.items()
            ]
        if entity_set == "flowruns":
            return self._flow_runs()
        return [
            {
                "schemaname": v.schema_name,
                "displayname": v.display_name,
                "defaultvalue": v.default,
                "environmentvariabledefinition_environmentvariablevalue": []
                if v.value is None
                else [{"value": v.value}],
            }
            for v in t.environment_variables
        ]

    def _workflow(self, flow_id: str) -> dict[str, Any]:
        flow = self.tenant.flows[flow_id]
        state = self.flow_states[flow_id]
        refs = {}
        for logical in flow.connection_references:
            ref = self.tenant.connection_references.get(logical)
            api = ref.api_name if ref else logical
            refs[api] = {
                "api": {"name": api},
                "connection": {"connectionReferenceLogicalName": logical},
                "runtimeSource": "embedded",
            }
        clientdata = {
            "properties": {"connectionReferences": refs, "definition": {"triggers": flow.triggers, "actions": {}}},
            "schemaVersion": "1.0.0.0",
        }
        statecode = {"Started": 1, "Stopped": 0, "Suspended": 2}[state]
        return {
            "workflowid": flow_id,
            "name": flow.display_name,
            "category": 5,
            "statecode": statecode,
            "statuscode": {1: 2, 0: 1, 2: 3}[statecode],
            "clientdata": json.dumps(clientdata),
            "ismanaged": flow.is_managed,
            "modifiedon": "2025-02-01T09:00:00Z",
            "_ownerid_value": self.tenant.caller_id,
        }

    def _flow_runs(self) -> list[dict[str, Any]]:
        rows = []
        for fid, flow in self.tenant.flows.items():
            for run in flow.failed_runs:
                start = run.start_time()
                error = {"code": run.error_code, "message": run.error_message or run.error_code}
                rows.append(
                    {
                        "flowrunid": str(uuid.uuid5(uuid.NAMESPACE_OID, run.name)),
                        "name": run.name,
                        "status": run.status,
                        "starttime": _iso(start),
                        "endtime": _iso(start + timedelta(seconds=run.duration_s)),
                        "errorcode": run.error_code,
                        "errormessage": json.dumps(error) if run.error_code else None,
                        "workflowid": fid,
                        "workflowname": flow.display_name,
                    }
                )
            rows.extend(_succeeded_runs(fid, flow.display_name, flow.runs_per_day, flow.run_days))
        return sorted(rows, key=lambda r: str(r["starttime"]), reverse=True)

    def _page_size(self, request: web.Request) -> int:
        found = _PREFER_PAGE.search(request.headers.get("Prefer", ""))
        return min(5000, int(found.group(1))) if found else 5000

    async def who_am_i(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        t = self.tenant
        return web.json_response(
            {
                "@odata.context": f"{request.url.origin()}{_CONTEXT}Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": t.business_unit_id,
                "UserId": t.caller_id,
                "OrganizationId": t.organization_id,
            }
        )

    async def system_user(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        user = self.tenant.users.get(params["id"])
        if user is None:
            return self._error("dataverse", 404, "0x80040217", f"systemuser With Id = {params['id']} Does Not Exist")
        roles = [{"name": name, "roleid": str(uuid.uuid5(uuid.NAMESPACE_OID, name))} for name in user.roles]
        row = {"systemuserid": params["id"], "fullname": user.full_name, "systemuserroles_association": roles}
        selected = _select(row, request, "systemuser")
        return selected if isinstance(selected, web.Response) else web.json_response(selected)

    async def entity_set(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        kept = self._filtered("dataverse", request, self._rows(params["set"]))
        if isinstance(kept, web.Response):
            return kept
        rows = []
        for row in kept:
            selected = _select(row, request, params["set"].removesuffix("s"))
            if isinstance(selected, web.Response):
                return selected
            rows.append(selected)
        context = {"@odata.context": f"{request.url.origin()}{_CONTEXT}{params['set']}"}
        return self._page(request, rows, self._page_size(request), "@odata.nextLink", context)

    async def record(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        table = self.tenant.accounts if params["set"] == "accounts" else self.tenant.opportunities
        entity = params["set"].removesuffix("s").removesuffix("ie") + ("y" if params["set"] == "opportunities" else "")
        data = table.get(params["id"].lower())
        if data is None:
            return self._error("dataverse", 404, "0x80040217", f"{entity} With Id = {params['id']} Does Not Exist")
        selected = _select({f"{entity}id": params["id"].lower(), **data}, request, entity)
        return selected if isinstance(selected, web.Response) else web.json_response(selected)

    async def attributes(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        rows = []
        for attr in self.tenant.custom_attributes.get(params["entity"], ()):
            labels = [
                {"Label": text, "LanguageCode": 1040 if lang == "it" else 1033} for lang, text in attr.labels.items()
            ]
            rows.append(
                {
                    "LogicalName": attr.logical_name,
                    "SchemaName": attr.schema_name,
                    "AttributeType": attr.attribute_type,
                    "IsCustomAttribute": True,
                    "DisplayName": {"LocalizedLabels": labels, "UserLocalizedLabel": labels[0] if labels else None},
                }
            )
        kept = self._filtered("dataverse", request, rows)
        if isinstance(kept, web.Response):
            return kept
        return self._page(request, kept, self._page_size(request), "@odata.nextLink", {})

    # ---- Power Platform admin (BAP, §4.1) ------------------------------------------------------------------

    async def environments(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        return web.json_response({"value": [self._environment(request)]})

    async def environment(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if params["id"].casefold() != self.tenant.environment_id.casefold():
            message = f"The environment '{params['id']}' could not be found in the tenant."
            return self._error("bap", 404, "EnvironmentNotFound", message)
        return web.json_response(self._environment(request))

    async def tenant_capacity(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        """Power Platform API licensing/tenantCapacity (§4.2): the tenant's Database capacity."""
        cap = self.tenant.capacity
        available = cap.database_total_mb - cap.database_used_mb
        database = {
            "capacityType": "Database",
            "capacityUnits": "MB",
            "totalCapacity": cap.database_total_mb,
            "maxCapacity": cap.database_total_mb,
            "consumption": {"actual": cap.database_used_mb, "rated": cap.database_used_mb},
            "status": "Available" if available > 0 else "Overage",
        }
        return web.json_response(
            {
                "licenseModelType": "StorageDriven",
                "capacitySummary": {"status": database["status"]},
                "tenantCapacities": [database],
            }
        )

    # ---- Microsoft Graph licence details (§4.4) ------------------------------------------------------------

    async def license_details(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if "id" in params and params["id"] != self.tenant.caller_id:
            return self._error("graph", 404, "Request_ResourceNotFound", f"Resource '{params['id']}' does not exist.")
        rows = [
            {
                "id": f"license-{n}",
                "skuId": str(uuid.uuid5(uuid.NAMESPACE_OID, lic.sku_part_number)),
                "skuPartNumber": lic.sku_part_number,
                "servicePlans": [
                    {
                        "servicePlanId": str(uuid.uuid5(uuid.NAMESPACE_OID, plan)),
                        "servicePlanName": plan,
                        "provisioningStatus": "Disabled" if plan in lic.disabled_plans else "Success",
                        "appliesTo": "User",
                    }
                    for plan in (*lic.service_plans, *lic.disabled_plans)
                ],
            }
            for n, lic in enumerate(self.tenant.licenses)
        ]
        context = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('me')/licenseDetails"}
        return self._page(request, rows, 100, "@odata.nextLink", context)

    def _environment(self, request: web.Request) -> dict[str, Any]:
        t = self.tenant
        cap = t.capacity
        props: dict[str, Any] = {
            "displayName": t.environment_name,
            "environmentSku": "Production",
            "isDefault": False,
            "capacity": [
                {
                    "capacityType": "Database",
                    "actualConsumption": cap.database_used_mb,
                    "ratedConsumption": cap.database_used_mb,
                    "capacityUnit": "MB",
                    "sandboxTotalCapacity": cap.database_total_mb,
                }
            ],
        }
        if t.has_dataverse:
            props["databaseType"] = "CommonDataService"
            props["linkedEnvironmentMetadata"] = {
                "instanceUrl": f"{request.url.origin()}/dataverse/",
                "instanceApiUrl": f"{request.url.origin()}/dataverse",
                "instanceState": "Ready",
            }
        else:
            props["databaseType"] = "None"
        return {"name": t.environment_id, "location": "europe", "properties": props}


def _succeeded_runs(flow_id: str, name: str, per_day: int, days: int) -> list[dict[str, Any]]:
    """`per_day` successful runs on each of the last `days` days, evenly spread, newest a minute ago."""
    now, step = datetime.now(UTC) - timedelta(minutes=1), timedelta(days=1) / max(per_day, 1)
    return [
        {
            "name": f"{flow_id[-4:]}-ok-{n}",
            "status": "Succeeded",
            "starttime": _iso(now - n * step),
            "workflowid": flow_id,
            "workflowname": name,
        }
        for n in range(per_day * days)
    ]
