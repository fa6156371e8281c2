"""Power Automate flow management API (api.flow.microsoft.com): flows, failed runs, resubmit, on/off, trigger URL.

Microsoft calls this API unsupported; routes and shapes follow the PnP CLI (external-apis.md §3.1). Anything that
does not parse raises LiveCheckFailed, so a check can fall back to the Dataverse route (dataverse.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, model_validator

from tenant.base import LiveCheckFailed, System
from tenant.clients.odata import Items, as_dict, collect_pages, odata_datetime, parse_as, read_json
from tenant.clients.transport import send

_SYSTEM = System.power_automate
_API_VERSION = "2016-11-01"


def _properties(data: Any) -> dict[str, Any] | None:
    """The ARM resource `{"name", "properties": {…}}` as one mapping, or None when `data` is not that shape."""
    if isinstance(data, dict) and isinstance(data.get("properties"), dict):
        return {**data["properties"], "name": data.get("name")}
    return None


class FlowConnection(BaseModel):
    """One entry of a flow's `connectionReferences`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str
    connection_name: str | None = None  # the connection id bound to it; empty means nothing bound
    api_id: str | None = None  # e.g. /providers/Microsoft.PowerApps/apis/shared_commondataserviceforapps
    display_name: str | None = None
    logical_name: str | None = None  # connectionReferenceLogicalName, solution flows only


class Flow(BaseModel):
    """A cloud flow, flattened from the ARM-style resource."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str  # the flow id (GUID)
    display_name: str | None = None
    state: str | None = None  # Started | Stopped | Suspended
    suspension_reason: str | None = None
    trigger_names: Items[str] = ()  # keys of definition.triggers; the HTTP trigger is "manual"
    connection_references: Items[FlowConnection] = ()
    is_managed: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        props = _properties(data)
        if props is None:
            return data
        triggers = as_dict(as_dict(props.get("definition")).get("triggers"))
        refs = as_dict(props.get("connectionReferences"))
        return {
            "name": props.get("name"),
            "display_name": props.get("displayName"),
            "state": props.get("state"),
            "suspension_reason": props.get("flowSuspensionReason"),
            "trigger_names": list(triggers),
            "connection_references": [_connection(key, ref) for key, ref in refs.items() if isinstance(ref, dict)],
            "is_managed": props.get("isManaged"),
        }


def _connection(key: str, ref: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": key,
        "connection_name": ref.get("connectionName"),
        "api_id": ref.get("id") or as_dict(ref.get("api")).get("id"),
        "display_name": ref.get("displayName"),
        "logical_name": ref.get("connectionReferenceLogicalName"),
    }


class FlowRun(BaseModel):
    """One run of a flow; the error shape is UNVERIFIED, so both `error.code` and `code` are read."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str  # the run id
    status: str | None = None  # Succeeded | Running | Failed | Cancelled
    start_time: datetime | None = None
    end_time: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    trigger_name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        props = _properties(data)
        if props is None:
            return data
        error = as_dict(props.get("error"))
        trigger = as_dict(props.get("trigger"))
        return {
            "name": props.get("name"),
            "status": props.get("status"),
            "start_time": props.get("startTime"),
            "end_time": props.get("endTime"),
            "error_code": error.get("code") or props.get("code"),
            "error_message": error.get("message"),
            "trigger_name": trigger.get("name"),
        }


class FlowClient:
    """Reads and operates the connector's flows in one environment (the client carries a Flow-audience token)."""

    def __init__(self, http: httpx.AsyncClient, environment_id: str) -> None:
        self._http = http
        self._prefix = f"/providers/Microsoft.ProcessSimple/environments/{quote(environment_id, safe='')}/flows"

    async def list_flows(self, max_pages: int = 3) -> list[Flow]:
        """The user's flows, solution-aware flows included (the connector's flows live in a solution)."""
        params: dict[str, str | int] = {"api-version": _API_VERSION, "include": "includeSolutionCloudFlows"}
        items = await collect_pages(
            self._http, _SYSTEM, self._prefix, params=params, next_key="nextLink", max_pages=max_pages
        )
        return [parse_as(Flow, item, _SYSTEM) for item in items]

    async def get_flow(self, flow_id: str) -> Flow:
        """One flow with its definition (trigger names) and connection references."""
        resp = await self._call("GET", self._flow(flow_id))
        return parse_as(Flow, read_json(resp, _SYSTEM), _SYSTEM)

    async def failed_runs(self, flow_id: str, since: datetime | None = None, top: int = 50) -> list[FlowRun]:
        """Failed runs of a flow, newest first as the service returns them, at most `top`."""
        query = "status eq 'Failed'"
        if since is not None:
            query += f" and startTime ge {odata_datetime(since)}"
        # no $top: the PnP CLI never sends it, so its support is unknown; `limit` caps the result instead
        params: dict[str, str | int] = {"api-version": _API_VERSION, "$filter": query}
        items = await collect_pages(
            self._http, _SYSTEM, f"{self._flow(flow_id)}/runs", params=params, next_key="nextLink", limit=top
        )
        return [parse_as(FlowRun, item, _SYSTEM) for item in items]

    async def resubmit(self, flow_id: str, run_id: str, trigger: str = "manual") -> None:
        """Resubmit a run (no Dataverse equivalent). Never retried: it starts a run."""
        trigger_path = f"triggers/{quote(trigger, safe='')}/histories/{quote(run_id, safe='')}/resubmit"
        await self._call("POST", f"{self._flow(flow_id)}/{trigger_path}")

    async def start(self, flow_id: str) -> None:
        """Turn a flow on."""
        await self._call("POST", f"{self._flow(flow_id)}/start")

    async def stop(self, flow_id: str) -> None:
        """Turn a flow off."""
        await self._call("POST", f"{self._flow(flow_id)}/stop")

    async def callback_url(self, flow_id: str, trigger: str = "manual") -> str:
        """The HTTP trigger's URL (route UNVERIFIED). It carries a signature: compare it, never log or show it."""
        resp = await self._call("POST", f"{self._flow(flow_id)}/triggers/{quote(trigger, safe='')}/listCallbackUrl")
        body = read_json(resp, _SYSTEM)
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise LiveCheckFailed(_SYSTEM, "Power Automate returned no callback URL for the trigger.")
        return value

    def _flow(self, flow_id: str) -> str:
        return f"{self._prefix}/{quote(flow_id, safe='')}"

    async def _call(self, method: str, path: str) -> httpx.Response:
        return await send(self._http, _SYSTEM, method, path, params={"api-version": _API_VERSION})
