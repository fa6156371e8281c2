"""The simulated tenant behind the sandbox routes: documented response shapes, OData filters and paging.

A test and demo tool, not a product feature. Only what the live-check clients call is served; shapes follow
external-apis.md §1–§5 (Partner Center camelCase, Webhooks PascalCase, ARM-style flows, Dataverse rows).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from devtools.sandbox.scenario import SandboxFlow, SandboxWebhook, SystemKey, Tenant

_API_VERSION = "2016-11-01"
_EVENTS = (
    "referral-created",
    "referral-updated",
    "related-referral-created",
    "related-referral-updated",
    "test-created",
)
_CLAUSE = re.compile(r"\(?\s*([A-Za-z_][\w/]*)\s+(eq|ne|ge|gt|le|lt)\s+(.+?)\s*\)?")
_CONTAINS = re.compile(r"contains\(\s*([A-Za-z_][\w/]*)\s*,\s*'((?:[^']|'')*)'\s*\)")
_PREFER_PAGE = re.compile(r"odata\.maxpagesize=(\d+)")


class BadFilter(ValueError):
    """A `$filter` the sandbox cannot evaluate."""


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadFilter(f"cannot read the literal {text!r}") from exc


def _field(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def matches(row: dict[str, Any], query: str | None) -> bool:
    """Whether `row` satisfies an OData `$filter` made of `and`-joined comparisons and `contains()`.

    Raises:
        BadFilter: a clause the sandbox does not understand (the route answers 400).
    """
    if not query:
        return True
    for clause in re.split(r"\s+and\s+", query.strip()):
        if found := _CONTAINS.fullmatch(clause.strip()):
            value = _field(row, found.group(1))
            if not isinstance(value, str) or found.group(2).replace("''", "'").casefold() not in value.casefold():
                return False
            continue
        found = _CLAUSE.fullmatch(clause.strip())
        if found is None:
            raise BadFilter(f"the sandbox does not understand the filter clause {clause!r}")
        left, op, right = _field(row, found.group(1)), found.group(2), _literal(found.group(3))
        if op in ("eq", "ne"):
            if (left == right) != (op == "eq"):
                return False
            continue
        try:
            ok = {"ge": left >= right, "gt": left > right, "le": left <= right, "lt": left < right}[op]
        except TypeError:
            ok = False
        if not ok:
            return False
    return True


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TenantRoutes:
    """Live state of one sandbox app: the scenario's tenant plus what PUT/start/stop changed."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.flow_states = {flow_id: flow.state for flow_id, flow in tenant.flows.items()}
        self.webhook: SandboxWebhook | None = tenant.webhook
        self.validation_events: dict[str, str] = {}
        self.sf_cursors: dict[str, list[dict[str, Any]]] = {}  # Salesforce query locators -> remaining records

    # ---- helpers -------------------------------------------------------------------------------------------

    @staticmethod
    def _error(system: SystemKey, status: int, code: str, message: str) -> web.Response:
        from devtools.sandbox.app import error_response  # the shared error shape lives with the dispatcher

        return error_response(system, status, code, message)

    def _page(
        self, request: web.Request, rows: list[dict[str, Any]], size: int, next_key: str, extra: dict[str, Any]
    ) -> web.Response:
        skip = int(request.query.get("$skiptoken", "0") or 0)
        body: dict[str, Any] = {**extra, "value": rows[skip : skip + max(1, size)]}
        if skip + size < len(rows):
            body[next_key] = str(request.url.update_query({"$skiptoken": str(skip + size)}))
        return web.json_response(body)

    def _filtered(
        self, system: SystemKey, request: web.Request, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]] | web.Response:
        try:
            return [row for row in rows if matches(row, request.query.get("$filter"))]
        except BadFilter as exc:
            code = "0x80060888" if system == "dataverse" else "InvalidFilter" if system == "power_automate" else None
            return self._error(system, 400, code or "invalidRequest", f"Sandbox: {exc}.")

    # ---- Partner Center referrals (§1) ---------------------------------------------------------------------

    def _referral(self, request: web.Request, referral_id: str, data: dict[str, Any]) -> dict[str, Any]:
        base = f"{request.url.origin()}/partner-center/v1.0/engagements/referrals"
        engagement = data.get("engagementId")
        links = {"self": {"uri": f"{base}/{referral_id}", "method": "GET"}}
        if engagement:
            links["relatedReferrals"] = {"uri": f"{base}?$filter=engagementId eq '{engagement}'", "method": "GET"}
        return {"id": referral_id, "eTag": f'"{uuid.uuid5(uuid.NAMESPACE_URL, referral_id)}"', "links": links, **data}

    async def list_referrals(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        rows = [self._referral(request, rid, data) for rid, data in self.tenant.referrals.items()]
        kept = self._filtered("partner_center_referrals", request, rows)
        if isinstance(kept, web.Response):
            return kept
        top = min(100, int(request.query.get("$top", "100") or 100))
        return self._page(request, kept, top, "@odata.nextLink", {"@odata.count": len(kept)})

    async def get_referral(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        data = self.tenant.referrals.get(params["id"])
        if data is None:
            return self._error("partner_center_referrals", 404, "itemNotFound", f"Referral {params['id']} not found.")
        return web.json_response(self._referral(request, params["id"], data))

    # ---- Partner Center webhooks (§2) ----------------------------------------------------------------------

    async def get_registration(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if self.webhook is None:
            return self._error("partner_center_webhooks", 404, "itemNotFound", "No webhook registration exists.")
        hook = self.webhook
        return web.json_response(
            {"SubscriberId": hook.subscriber_id, "WebhookUrl": hook.url, "WebhookEvents": list(hook.events)}
        )

    async def put_registration(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        url = body.get("WebhookUrl") if isinstance(body, dict) else None
        events = body.get("WebhookEvents") if isinstance(body, dict) else None
        if not isinstance(url, str) or not isinstance(events, list) or any(e not in _EVENTS for e in events):
            message = "WebhookUrl (string) and WebhookEvents (known event names) are required."
            return self._error("partner_center_webhooks", 400, "invalidRequest", message)
        subscriber = self.webhook.subscriber_id if self.webhook else str(uuid.uuid4())
        self.webhook = SandboxWebhook(subscriber_id=subscriber, url=url, events=tuple(events))
        return await self.get_registration(request, params)

    async def registration_events(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        return web.json_response(list(_EVENTS))

    async def send_validation_event(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if self.webhook is None or "test-created" not in self.webhook.events:
            message = "The test-created event is not registered for this tenant."
            return self._error("partner_center_webhooks", 400, "invalidRequest", message)
        correlation_id = str(uuid.uuid4())
        self.validation_events[correlation_id] = _iso(datetime.now(UTC))
        return web.json_response({"correlationId": correlation_id})

    async def get_validation_event(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        when = self.validation_events.get(params["id"])
        if when is None or self.webhook is None:
            return self._error("partner_center_webhooks", 404, "itemNotFound", "No such validation event.")
        result = {"responseCode": "OK", "responseMessage": "", "systemError": "", "dateTimeUtc": when}
        return web.json_response({"status": "completed", "callbackUrl": self.webhook.url, "results": [result]})

    # ---- Power Automate flow API (§3.1) --------------------------------------------------------------------

    def _flow_checks(self, request: web.Request, params: dict[str, str]) -> web.Response | None:
        if request.query.get("api-version") != _API_VERSION:
            message = "The api-version query parameter (?api-version=2016-11-01) is required for all requests."
            return self._error("power_automate", 400, "MissingApiVersionParameter", message)
        if params.get("env") != self.tenant.environment_id:
            message = f"Access to the environment '{params.get('env')}' is denied."
            return self._error("power_automate", 403, "EnvironmentAccessDenied", message)
        if "id" in params and params["id"] not in self.tenant.flows:
            message = f"Sandbox: the flow '{params['id']}' does not exist or you cannot access it."
            return self._error("power_automate", 404, "FlowNotFound", message)
        return None

    def _flow_json(self, flow_id: str, flow: SandboxFlow, detail: bool) -> dict[str, Any]:
        refs = {}
        for logical in flow.connection_references:
            ref = self.tenant.connection_references.get(logical)
            if ref is not None:
                refs[ref.api_name] = {
                    "connectionName": ref.connection_id,
                    "id": f"/providers/Microsoft.PowerApps/apis/{ref.api_name}",
                    "displayName": ref.display_name,
                    "connectionReferenceLogicalName": logical,
                }
        props: dict[str, Any] = {
            "displayName": flow.display_name,
            "state": self.flow_states[flow_id],
            "isManaged": flow.is_managed,
            "createdTime": "2025-01-15T09:00:00Z",
            "lastModifiedTime": "2025-02-01T09:00:00Z",
            "connectionReferences": refs,
            "definitionSummary": {
                "triggers": [{"type": t.get("type"), "kind": t.get("kind")} for t in flow.triggers.values()]
            },
        }
        if flow.suspension_reason:
            props["flowSuspensionReason"] = flow.suspension_reason
        if detail:
            props["definition"] = {"triggers": flow.triggers, "actions": {}}
        env = self.tenant.environment_id
        resource = f"/providers/Microsoft.ProcessSimple/environments/{env}/flows/{flow_id}"
        return {
            "name": flow_id,
            "id": resource,
            "type": "Microsoft.ProcessSimple/environments/flows",
            "properties": props,
        }

    async def list_flows(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if (refused := self._flow_checks(request, params)) is not None:
            return refused
        # the connector's flows are solution flows: without include=includeSolutionCloudFlows they are not listed
        solution = request.query.get("include") == "includeSolutionCloudFlows"
        rows = [self._flow_json(fid, f, False) for fid, f in self.tenant.flows.items() if solution or not f.is_managed]
        return self._page(request, rows, 50, "nextLink", {})

    async def get_flow(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if (refused := self._flow_checks(request, params)) is not None:
            return refused
        return web.json_response(self._flow_json(params["id"], self.tenant.flows[params["id"]], True))

    async def flow_runs(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if (refused := self._flow_checks(request, params)) is not None:
            return refused
        runs = sorted(self.tenant.flows[params["id"]].failed_runs, key=lambda r: r.minutes_ago)
        rows: list[dict[str, Any]] = []
        for run in runs:
            start = run.start_time()
            props: dict[str, Any] = {
                "status": run.status,
                "startTime": _iso(start),
                "endTime": _iso(start + timedelta(seconds=run.duration_s)),
                "trigger": {"name": run.trigger},
            }
            if run.error_code:
                props["code"] = run.error_code
                props["error"] = {"code": run.error_code, "message": run.error_message or run.error_code}
            rows.append(
                {"name": run.name, "type": "Microsoft.ProcessSimple/environments/flows/runs", "properties": props}
            )
        kept = self._filtered("power_automate", request, [{**r, **r["properties"]} for r in rows])
        if isinstance(kept, web.Response):
            return kept
        names = {r["name"] for r in kept}
        return self._page(request, [r for r in rows if r["name"] in names], 25, "nextLink", {})

    async def start_flow(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if (refused := self._flow_checks(request, params)) is not None:
            return refused
        flow = self.tenant.flows[params["id"]]
        off = [self.tenant.flows[c].display_name for c in flow.children if self.flow_states.get(c) != "Started"]
        if off:
            message = f"Sandbox: turn on the child flows first: {', '.join(off)}."
            return self._error("power_automate", 400, "ChildFlowsNotStarted", message)
        self.flow_states[params["id"]] = "Started"
        return web.Response(status=200)

    async def stop_flow(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if (refused := self._flow_checks(request, params)) is not None:
            return refused
        self.flow_states[params["id"]] = "Stopped"
        return web.Response(status=200)

    async def callback_url(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if (refused := self._flow_checks(request, params)) is not None:
            return refused
        flow = self.tenant.flows[params["id"]]
        if params["trigger"] not in flow.triggers or flow.callback_url is None:
            message = f"The workflow '{params['id']}' trigger '{params['trigger']}' could not be found."
            return self._error("power_automate", 404, "WorkflowTriggerNotFound", message)
        base, _, query = flow.callback_url.partition("?")
        queries = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        return web.json_response({"value": flow.callback_url, "method": "POST", "basePath": base, "queries": queries})

    async def resubmit(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        if (refused := self._flow_checks(request, params)) is not None:
            return refused
        flow = self.tenant.flows[params["id"]]
        if params["trigger"] not in flow.triggers:
            message = f"The workflow '{params['id']}' trigger '{params['trigger']}' could not be found."
            return self._error("power_automate", 404, "WorkflowTriggerNotFound", message)
        if all(run.name != params["run"] for run in flow.failed_runs):
            message = f"The workflow '{params['id']}' run '{params['run']}' could not be found."
            return self._error("power_automate", 404, "WorkflowRunNotFound", message)
        return web.Response(status=202)
