"""Partner Center: the Referrals API (api.partner.microsoft.com) and the Webhooks API (api.partnercenter.microsoft.com).

Also owns the OData helpers the other live clients share: JSON reading, model validation, capped paging.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel, to_pascal

from tenant.base import LiveCheckFailed, System
from tenant.clients.odata import Items, collect_pages, odata_string, parse_as, read_json
from tenant.clients.transport import send

log = logging.getLogger(__name__)

REQUIRED_EVENTS = ("referral-created", "referral-updated", "related-referral-created", "related-referral-updated")
_REFERRALS = "/v1.0/engagements/referrals"
_REGISTRATION = "/webhooks/v1/registration"


class _Camel(BaseModel):
    # extra="allow": the referral schema moves (FY26 solution areas, new consent flags); keep what we don't model
    model_config = ConfigDict(frozen=True, extra="allow", alias_generator=to_camel, populate_by_name=True)


class Address(_Camel):
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166 alpha-2 per the 2023 doc
    region: str | None = None


class Person(_Camel):
    """A customer contact or a partner/Microsoft seller on the referral team."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone_number: str | None = None


class CustomerProfile(_Camel):
    name: str | None = None
    address: Address | None = None
    size: str | None = None
    team: Items[Person] = ()


class Consent(_Camel):
    consent_to_to_share_info_with_others: bool | None = None  # the doubled "To" is the documented spelling
    consent_to_contact: bool | None = None
    consent_to_share_referral_with_microsoft_sellers: bool | None = None  # false = private, true = MS sellers help
    consent_to_microsoft_to_contact_specific_partners: bool | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "consentToMicrosoftToContactSpecificPartners", "ConsentToMicrosoftToContactSpecificPartners"
        ),
    )


class Solution(_Camel):
    id: str | None = None
    name: str | None = None
    type: str | None = None
    solution_type: str | None = None
    publisher_name: str | None = None


class Requirements(_Camel):
    industries: Items[dict[str, Any]] = ()
    products: Items[dict[str, Any]] = ()
    services: Items[dict[str, Any]] = ()
    solutions: Items[Solution] = ()


class Details(_Camel):
    notes: str | None = None
    deal_value: Decimal | None = None
    currency: str | None = None  # ISO 4217
    closing_date_time: datetime | None = None
    requirements: Requirements | None = None


class Referral(_Camel):
    """One referral (§1.3). Status/substatus stay strings so a new value never breaks a check."""

    id: str
    engagement_id: str | None = None
    external_reference_id: str | None = None  # the CRM id the connector writes back
    organization_id: str | None = None
    organization_name: str | None = None
    e_tag: str | None = None
    created_date_time: datetime | None = None
    updated_date_time: datetime | None = None
    expiration_date_time: datetime | None = None
    accepted_date_time: datetime | None = None
    status: str | None = None  # None | New | Active | Closed
    substatus: str | None = None  # Pending | Received | Accepted | Won | Lost | Declined | Expired
    status_reason: str | None = None
    type: str | None = None  # Independent | Shared
    qualification: str | None = None
    direction: str | None = None  # Incoming | Outgoing
    customer_profile: CustomerProfile | None = None
    consent: Consent | None = None
    details: Details | None = None
    team: Items[Person] = ()
    invite_context: dict[str, Any] | None = None  # invitedBy.organizationId tells a co-sell opportunity from a lead
    target: Items[dict[str, Any]] = ()  # {"type": "SolutionProfile" | "BusinessProfileLocation", "id"}
    links: dict[str, Any] | None = None  # relatedReferrals / self: {"uri", "method"}


class _Webhook(BaseModel):
    # the Swagger spells these in PascalCase; accept camelCase too in case the service normalises them
    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        populate_by_name=True,
        alias_generator=AliasGenerator(
            validation_alias=lambda name: AliasChoices(to_pascal(name), to_camel(name)), serialization_alias=to_pascal
        ),
    )


class WebhookRegistration(_Webhook):
    """This tenant's single webhook registration."""

    subscriber_id: str | None = None
    webhook_url: str | None = None
    webhook_events: Items[str] = ()
    signature_token_to_ms_signature_header: bool | None = None

    @property
    def missing_events(self) -> tuple[str, ...]:
        """Which of the connector's four events are not registered."""
        return tuple(event for event in REQUIRED_EVENTS if event not in self.webhook_events)


class ValidationDelivery(_Camel):
    response_code: str | None = None
    response_message: str | None = None
    system_error: str | None = None
    date_time_utc: datetime | None = None


class ValidationResult(_Camel):
    """Delivery status of a test event."""

    status: str | None = None
    callback_url: str | None = None
    results: Items[ValidationDelivery] = ()


class PartnerCenterClient:
    """Reads referrals and the webhook registration; each API gets its own ready client (different hosts)."""

    def __init__(
        self,
        referrals_http: httpx.AsyncClient,
        webhooks_http: httpx.AsyncClient,
    ) -> None:
        self._referrals = referrals_http
        self._webhooks = webhooks_http

    async def list_referrals(self, filter: str | None = None, top: int = 50, max_pages: int = 3) -> list[Referral]:
        """Referrals matching an OData `$filter`; `top` is the page size (≤100 in the 2019 doc)."""
        params: dict[str, str | int] = {"$top": top}
        if filter:
            params["$filter"] = filter
        items = await collect_pages(
            self._referrals, System.partner_center, _REFERRALS, params=params, max_pages=max_pages
        )
        return [parse_as(Referral, item, System.partner_center) for item in items]

    async def get_referral(self, referral_id: str) -> Referral:
        """One referral by id."""
        resp = await self._get(self._referrals, f"{_REFERRALS}/{quote(referral_id, safe='')}")
        return parse_as(Referral, read_json(resp, System.partner_center), System.partner_center)

    async def related_referrals(self, engagement_id: str) -> list[Referral]:
        """Both sides (partner and Microsoft) of one co-sell engagement."""
        return await self.list_referrals(filter=f"engagementId eq '{odata_string(engagement_id)}'")

    async def probe_referrals_access(self) -> bool:
        """False when the user lacks the Referrals admin role or the token is not valid (401/403)."""
        try:
            await self._get(self._referrals, _REFERRALS, params={"$top": 1})
        except LiveCheckFailed as exc:
            if exc.status in (401, 403):
                return False
            raise
        return True

    async def get_webhook_registration(self) -> WebhookRegistration | None:
        """The tenant's registration, or None when nothing is registered (404 or an empty body)."""
        try:
            resp = await self._get(self._webhooks, _REGISTRATION)
        except LiveCheckFailed as exc:
            if exc.status == 404:
                return None
            raise
        if not resp.content.strip():
            return None
        registration = parse_as(WebhookRegistration, read_json(resp, System.partner_center), System.partner_center)
        return None if registration.webhook_url is None and not registration.webhook_events else registration

    async def put_webhook_registration(self, url: str, events: tuple[str, ...] | list[str]) -> WebhookRegistration:
        """Replace the registration (one URL per tenant). Not retried: it changes state."""
        body = {"WebhookUrl": url, "WebhookEvents": list(events)}
        resp = await self._send(self._webhooks, "PUT", _REGISTRATION, json=body)
        return parse_as(WebhookRegistration, read_json(resp, System.partner_center), System.partner_center)

    async def send_validation_event(self) -> str:
        """Ask Partner Center to send a test event (needs `test-created`; 2 per minute); returns its correlation id."""
        resp = await self._send(self._webhooks, "POST", f"{_REGISTRATION}/validationEvents")
        body = read_json(resp, System.partner_center)
        correlation_id = body.get("correlationId") if isinstance(body, dict) else None
        if not isinstance(correlation_id, str) or not correlation_id:
            raise LiveCheckFailed(
                System.partner_center, "Partner Center returned no correlation id for the test event."
            )
        return correlation_id

    async def get_validation_event(self, correlation_id: str) -> ValidationResult:
        """Delivery status of a test event."""
        resp = await self._get(self._webhooks, f"{_REGISTRATION}/validationEvents/{quote(correlation_id, safe='')}")
        return parse_as(ValidationResult, read_json(resp, System.partner_center), System.partner_center)

    async def _get(self, http: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
        return await send(http, System.partner_center, "GET", path, **kwargs)

    async def _send(self, http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await send(http, System.partner_center, method, path, max_retries=0, **kwargs)
