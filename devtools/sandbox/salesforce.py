"""Sandbox Salesforce REST API (external-apis.md §6): SOQL over the few objects the client queries, describe,
limits and userinfo, and the OAuth token endpoint. A test and demo tool, not a product feature; REST errors use
Salesforce's JSON-array shape, token errors the OAuth `{"error", "error_description"}` shape (HTTP 400).

Paging: query results larger than the tenant's `batch_size` answer `done: false` and a `nextRecordsUrl` relative to
the instance root (`/services/data/v59.0/query/01gSBX…`), as Salesforce does.

Token endpoint (`POST /salesforce/services/oauth2/token`, §6.1): `client_credentials` with the demo consumer key and
secret below; `urn:ietf:params:oauth:grant-type:jwt-bearer` with an RS256 assertion signed by the private key matching
the public key the app was created with (`iss` = the demo consumer key, `sub` = the username of an active user of the
org, `aud` = https://login.salesforce.com, https://test.salesforce.com or the sandbox's own origin, `exp` in the
future and at most 3 minutes ahead). The token it issues is a random string; the REST routes accept any bearer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from typing import Any

import jwt
from aiohttp import web

from devtools.sandbox.scenario import SandboxSalesforce

# Demo connected-app credentials: only the sandbox accepts them (tests and `--demo`), never a real org.
SANDBOX_SF_CLIENT_ID = "sandbox-demo-consumer-key"
SANDBOX_SF_CLIENT_SECRET = "sandbox-demo-consumer-secret"
_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
_MAX_ASSERTION_S = 180 + 10  # Salesforce: `exp` within 3 minutes (plus a little clock skew)
_VERSION = "v59.0"
_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)
_QUOTED = re.compile(r"'([^']*)'")


def sf_error(status: int, code: str, message: str) -> web.Response:
    """An error in Salesforce's shape: `[{"message", "errorCode", "fields"}]`."""
    return web.json_response([{"message": message, "errorCode": code, "fields": []}], status=status)


def oauth_error(error: str, description: str) -> web.Response:
    """A token endpoint refusal in OAuth's shape: HTTP 400 `{"error", "error_description"}`."""
    return web.json_response({"error": error, "error_description": description}, status=400)


class SalesforceRoutes:
    """Mixin of the simulated tenant: `self.tenant.salesforce` holds the org, `self.sf_cursors` open query batches,
    `self.sf_jwt_public_key` the PEM public key JWT bearer assertions must verify with (None: that grant is refused).
    """

    tenant: Any
    sf_cursors: dict[str, list[dict[str, Any]]]
    sf_jwt_public_key: str | None = None

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

    async def sf_token(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        """OAuth token endpoint: client credentials or JWT bearer (see the module docstring)."""
        org = self._sf()
        if isinstance(org, web.Response):
            return org
        form = await request.post()
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if form.get("client_id") != SANDBOX_SF_CLIENT_ID:
                return oauth_error("invalid_client_id", "client identifier invalid")
            if form.get("client_secret") != SANDBOX_SF_CLIENT_SECRET:
                return oauth_error("invalid_client", "invalid client credentials")
        elif grant == _JWT_BEARER:
            refused = self._sf_check_assertion(org, str(form.get("assertion") or ""), str(request.url.origin()))
            if refused is not None:
                return refused
        else:
            return oauth_error("unsupported_grant_type", "grant type not supported")
        issued_at = str(int(time.time() * 1000))
        identity = f"https://login.salesforce.com/id/{org.org_id}/{org.user_id}"
        mac = hmac.new(SANDBOX_SF_CLIENT_SECRET.encode(), (identity + issued_at).encode(), hashlib.sha256)
        body = {
            "access_token": f"{org.org_id[:15]}!SBX{uuid.uuid4().hex}",
            "instance_url": f"{request.url.origin()}/salesforce",
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(mac.digest()).decode(),
            "scope": "api",
        }
        return web.json_response(body)

    def _sf_check_assertion(self, org: SandboxSalesforce, assertion: str, origin: str) -> web.Response | None:
        """None when the JWT bearer assertion is valid, else the refusal Salesforce would give."""
        if not self.sf_jwt_public_key:
            return oauth_error("invalid_grant", "Sandbox: no certificate is configured for the JWT bearer flow")
        try:
            claims = jwt.decode(
                assertion,
                self.sf_jwt_public_key,
                algorithms=["RS256"],
                audience=[*_AUDIENCES, origin],
                issuer=SANDBOX_SF_CLIENT_ID,
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.InvalidIssuerError:
            return oauth_error("invalid_client_id", "client identifier invalid")
        except jwt.InvalidAudienceError:
            return oauth_error("invalid_grant", "audience is invalid")
        except jwt.ExpiredSignatureError:
            return oauth_error("invalid_grant", "expired authorization code")
        except jwt.InvalidTokenError:
            return oauth_error("invalid_grant", "invalid assertion")
        if not isinstance(claims["exp"], int | float) or claims["exp"] > time.time() + _MAX_ASSERTION_S:
            return oauth_error("invalid_grant", "invalid assertion")
        if not any(u.username == claims["sub"] and u.is_active for u in org.users.values()):
            return oauth_error("invalid_grant", "user hasn't approved this consumer")
        return None
