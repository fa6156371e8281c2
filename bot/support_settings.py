"""The escalation settings: where cases go (the Teams support channel, the handoff event) and how support staff open
a case's bundle (`GET /cases/{ref}`: a signed, expiring link) and the usage report (`GET /admin/report`). `Settings`
inherits them; they are validated here.

Environment names: `COSELL_SUPPORT_TEAMS_CHANNEL_ID`, `COSELL_SUPPORT_TEAMS_SERVICE_URL`,
`COSELL_SUPPORT_TEAMS_TENANT_ID`, `COSELL_SUPPORT_HANDOFF_EVENT`, `COSELL_PUBLIC_URL`, `COSELL_CASE_LINK_SECRET`,
`COSELL_CASE_LINK_DAYS`, `COSELL_SUPPORT_WEBHOOK_URL`, `COSELL_SUPPORT_WEBHOOK_SECRET`, and for staff bearer tokens on
`/cases/{ref}`: `COSELL_SUPPORT_GROUP_ID`, `COSELL_SUPPORT_TOKEN_AUDIENCE`, `COSELL_SUPPORT_TOKEN_TENANT_ID`,
`COSELL_SUPPORT_OPENID_URL`; for the usage report (`GET /admin/report`): `COSELL_ADMIN_REPORT_TOKEN` (or the support
group's bearer tokens).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from bot.loopback import is_loopback_host
from support.signing import MIN_SECRET_CHARS


def _https_or_loopback(value: str, name: str) -> str:
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname or "")):
        return value.rstrip("/")
    raise ValueError(f"{name} must be an https URL (http only for 127.0.0.1 / localhost)")


class SupportSettings(BaseSettings):
    """Where escalated cases go; every target is optional (cases are stored and listed by the CLI regardless)."""

    support_teams_channel_id: str = Field(
        "", description="Teams channel id of the support team (19:…@thread.tacv2); the bot must be installed there"
    )
    support_teams_service_url: str = Field(
        "", description="Bot Connector URL of that team, e.g. https://smba.trafficmanager.net/emea/"
    )
    support_teams_tenant_id: str = Field("", description="Entra tenant id of the support team")
    support_handoff_event: bool = Field(
        False, description="Also send the Bot Framework handoff.initiate event, for an agent hub behind the channel"
    )
    public_url: str = Field("", description="This assistant's public base URL, for links to case bundles")
    case_link_secret: SecretStr = Field(
        SecretStr(""), description="Signs the expiring links to case bundles (32+ characters); empty = no links"
    )
    case_link_days: int = Field(7, ge=1, le=90, description="Days a case bundle link stays valid")
    support_group_id: str = Field(
        "", description="Entra group (object id) whose members may open /cases/{ref} with a bearer token"
    )
    support_token_audience: str = Field("", description="Audience of those tokens; empty = the bot's app id")
    support_token_tenant_id: str = Field("", description="Tenant issuing those tokens; empty = the support team's")
    support_openid_url: str = Field(
        "", description="OpenID metadata of that tenant; empty = login.microsoftonline.com's v2.0 document"
    )
    admin_report_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token of GET /admin/report (32+ characters); empty = support group tokens only, or off",
    )
    # the signed webhook each case and its bundle are posted to (support/webhook.py). The URL is no SecretStr but is
    # kept out of repr: a Power Automate trigger URL carries its key in the query (`sig=`).
    support_webhook_url: str | None = Field(
        None, repr=False, description="Where cases are posted (https; http only on loopback); empty = no webhook"
    )
    support_webhook_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key of the X-Cosell-Signature header (at least 16 characters)"
    )

    @field_validator("support_webhook_url", "support_webhook_secret", mode="before")
    @classmethod
    def _unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value  # empty = not configured

    @field_validator("support_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return None if value is None else _webhook_url(value.strip())

    @field_validator("support_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(
                f"must be at least {MIN_SECRET_CHARS} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("support_teams_service_url")
    @classmethod
    def _service_url(cls, value: str) -> str:
        return _https_or_loopback(value, "COSELL_SUPPORT_TEAMS_SERVICE_URL")

    @field_validator("support_openid_url")
    @classmethod
    def _openid_url(cls, value: str) -> str:
        return _https_or_loopback(value, "COSELL_SUPPORT_OPENID_URL")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return _https_or_loopback(value, "COSELL_PUBLIC_URL")

    @model_validator(mode="after")
    def _support(self) -> SupportSettings:
        teams = (self.support_teams_channel_id, self.support_teams_service_url, self.support_teams_tenant_id)
        if any(teams) and not all(teams):
            raise ValueError(
                "the Teams support channel needs all three of COSELL_SUPPORT_TEAMS_CHANNEL_ID, "
                "COSELL_SUPPORT_TEAMS_SERVICE_URL and COSELL_SUPPORT_TEAMS_TENANT_ID"
            )
        if self.support_webhook_url and self.support_webhook_secret is None:
            raise ValueError(
                "COSELL_SUPPORT_WEBHOOK_SECRET is required when COSELL_SUPPORT_WEBHOOK_URL is set: every request is "
                "signed with it (X-Cosell-Signature)"
            )
        secret = self.case_link_secret.get_secret_value()
        if secret and len(secret) < 32:
            raise ValueError("COSELL_CASE_LINK_SECRET must be at least 32 characters")
        token = self.admin_report_token.get_secret_value()
        if token and len(token) < 32:
            raise ValueError("COSELL_ADMIN_REPORT_TOKEN must be at least 32 characters")
        return self

    @property
    def support_teams(self) -> bool:
        """Cases are posted to a Teams support channel."""
        return bool(self.support_teams_channel_id)


def _webhook_url(text: str) -> str:
    """An absolute https URL (http only to a loopback host); the message never quotes it (it may hold a key)."""
    parts = urlsplit(text)
    if not parts.netloc or not parts.hostname or any(c.isspace() for c in text) or parts.fragment:
        raise ValueError(
            "must be an absolute URL such as https://host/path (the value is not shown: it may hold a key)"
        )
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname)):
        return text
    raise ValueError("must use https (http only for 127.0.0.1 or localhost)")
