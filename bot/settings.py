"""Settings: one pydantic-settings class built once at start-up and passed down (nothing else reads os.environ).

Values are checked where they are declared; the Salesforce sign-in combination by `bot/salesforce_settings.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from bot.loopback import is_loopback_host
from bot.salesforce_settings import salesforce_problem
from bot.support_settings import SupportSettings


@dataclass(frozen=True)
class BotAuthConfig:
    """The UPPER_CASE object `ConfigurationBotFrameworkAuthentication` duck-types on."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


class Settings(SupportSettings):
    """Every setting of the assistant; `.env.example` lists them all.

    Azure's standard names (`MicrosoftAppId`, …) work as well as the `COSELL_` ones.
    """

    model_config = SettingsConfigDict(
        env_prefix="COSELL_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        hide_input_in_errors=True,  # str(ValidationError) would quote the value: a bad key, a URL with its sig=
    )

    app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "COSELL_APP_ID"))
    app_password: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("MicrosoftAppPassword", "COSELL_APP_PASSWORD")
    )
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "COSELL_APP_TYPE")
    )
    app_tenant_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppTenantId", "COSELL_APP_TENANT_ID"))

    host: str | None = Field(None, description="Bind address; default 127.0.0.1 when auth is off, else 0.0.0.0")
    port: int = Field(3978, ge=1, le=65535)
    database_path: Path = Path("var/cosell-bot.db")
    database_url: SecretStr = Field(
        SecretStr(""), description="postgresql://user:password@host:5432/db selects PostgreSQL for every store"
    )
    database_pool_size: int = Field(10, ge=1, le=200)
    database_statement_timeout_ms: int = Field(5000, ge=100, le=600_000)
    retention_days: int = Field(30, ge=1, le=36_500, description="Days conversation state and transcripts are kept")
    case_retention_days: int = Field(
        365, ge=1, le=36_500, description="Days resolved cases (with their rows), the journal and call counts are kept"
    )
    purge_interval_s: int = Field(3600, ge=0, le=7 * 86400, description="Seconds between purges; 0 = no periodic one")
    max_body_bytes: int = Field(256 * 1024, ge=4096, le=16 * 1024 * 1024)
    default_locale: Literal["en", "it"] = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Azure's own name, which App Service sets for an Application Insights resource (bot/telemetry.py)
    applicationinsights_connection_string: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices("APPLICATIONINSIGHTS_CONNECTION_STRING"),
        description="Application Insights connection string: telemetry exported to Azure Monitor; empty = none",
    )
    telemetry_sample_ratio: float = Field(
        1.0, ge=0.0, le=1.0, description="Share of traces recorded and exported (metrics always count everything)"
    )

    match_answer_at: float = Field(0.36, ge=0.0, le=1.0, description="Confidence needed to answer with an entry")
    match_suggest_at: float = Field(0.25, ge=0.0, le=1.0, description="Confidence needed to offer a guess")
    match_margin: float = Field(0.05, ge=0.0, le=1.0, description="Gap under which the top two are ambiguous")

    directline_secret: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices("COSELL_DIRECTLINE_SECRET", "DirectLineSecret"),
        description="Azure Direct Line secret; empty = the embedded Direct Line endpoint serves Web Chat",
    )
    directline_url: str = Field(
        "https://directline.botframework.com/v3/directline",
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="Azure Direct Line base URL (regional endpoints differ)",
    )
    directline_token_lifetime: int = Field(
        1800, ge=60, le=86400, description="Seconds an embedded Direct Line token lives (Web Chat refreshes at 15 min)"
    )
    trusted_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma-separated origins that may embed Web Chat (besides the bot's own); empty = loopback ones"
    )

    # Live checks against the admin's own tenant. A static access token (`live_*_token`) is used as given; else, when
    # an Entra app registration is configured (client id + tenant), msal acquires tokens
    # (tenant/auth/entra.py); else that system's checks are skipped.
    live_partner_center_url: str = "https://api.partner.microsoft.com"
    live_partner_center_webhooks_url: str = "https://api.partnercenter.microsoft.com"
    live_power_automate_url: str = "https://api.flow.microsoft.com"
    live_dataverse_url: str = Field("", description="https://<org>.<region>.dynamics.com/api/data/v9.2")
    live_environment_id: str = Field("", description="Power Platform environment id of the connector solution")
    live_partner_center_token: SecretStr = SecretStr("")
    live_power_automate_token: SecretStr = SecretStr("")
    live_dataverse_token: SecretStr = SecretStr("")
    # Power Platform admin (BAP environments; tenant capacity on the Power Platform API) and Microsoft Graph (licences).
    # An empty Power Platform token falls back to the Power Automate one (an assumption: the audiences differ).
    live_power_platform_url: str = "https://api.bap.microsoft.com"
    live_power_platform_api_url: str = "https://api.powerplatform.com"
    live_power_platform_token: SecretStr = SecretStr("")
    live_graph_url: str = "https://graph.microsoft.com"
    live_graph_token: SecretStr = SecretStr("")
    # Salesforce REST API. Credentials, first match wins (tenant/auth/salesforce.py): a private key + username =
    # OAuth JWT bearer; else client id + secret = OAuth client credentials; else the static access token as given;
    # else the Salesforce checks are skipped. OAuth takes the instance URL from the token response when the URL is
    # empty; the static token needs the URL. An inconsistent combination (e.g. a key without a username) stops start-up.
    live_salesforce_url: str = Field("", description="Salesforce instance URL, e.g. https://yourorg.my.salesforce.com")
    live_salesforce_token: SecretStr = SecretStr("")
    live_salesforce_client_id: str = Field("", description="Consumer key of the org's connected app (OAuth)")
    live_salesforce_client_secret: SecretStr = Field(
        SecretStr(""), description="Consumer secret of the connected app: the client credentials flow"
    )
    live_salesforce_username: str = Field("", description="Salesforce user the JWT bearer flow signs in as")
    live_salesforce_private_key: SecretStr = Field(
        SecretStr(""), description="PEM text of the RSA private key of the connected app's certificate (JWT bearer)"
    )
    live_salesforce_private_key_file: str = Field(
        "", description="Path of a PEM file holding that private key (instead of the PEM text)"
    )
    live_salesforce_token_url: str = Field(
        "https://login.salesforce.com/services/oauth2/token",
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="OAuth token endpoint: login. or test.salesforce.com, or the org's My Domain (client credentials)",
    )
    live_salesforce_audience: str = Field(
        "",
        pattern=r"^(https?://[^/?#\s]+/?)?$",
        description="JWT bearer `aud`; empty = scheme://host of the token URL",
    )
    live_salesforce_token_ttl: int = Field(
        900, ge=60, le=86400, description="Seconds an OAuth access token is reused (at most the org's session timeout)"
    )
    # Entra ID (msal): authority host (sovereign clouds: login.microsoftonline.us, login.chinacloudapi.cn), the app
    # registration, and the key of the encrypted token cache. App-only (client credentials) where the API allows it
    # and a secret is set; delegated device-code sign-in (`cosell-bot login SYSTEM`) otherwise.
    live_authority: str = Field(
        "https://login.microsoftonline.com",
        pattern=r"^https?://[^/?#\s]+/?$",
        description="Entra ID authority host (scheme://host); the tenant id is appended",
    )
    live_tenant_id: str = Field("", description="Entra tenant id (GUID or domain) of the admin's tenant")
    live_client_id: str = Field("", description="Application (client) id of the app registration used for live checks")
    live_client_secret: SecretStr = Field(
        SecretStr(""), description="Client secret: enables app-only tokens for Dataverse and Power Platform"
    )
    live_cache_key: SecretStr = Field(
        SecretStr(""),
        description="Fernet key of the token cache; empty = derived from the client secret (HKDF), or no cache",
    )
    live_partner_center_scope: str = "https://api.partner.microsoft.com/.default"
    live_power_automate_scope: str = "https://service.flow.microsoft.com/.default"
    live_dataverse_scope: str = Field("", description="Empty = https://<org>.crm…dynamics.com/.default from the URL")
    live_power_platform_scope: str = "https://service.powerapps.com//.default"
    live_graph_scope: str = "https://graph.microsoft.com/.default"
    live_check_timeout: float = Field(4.0, gt=0, le=30, description="Seconds one check may take")
    live_sweep_deadline: float = Field(8.0, gt=0, le=60, description="Seconds a whole sweep may take")
    live_cache_ttl: float = Field(300.0, ge=0, le=3600, description="Seconds check results are reused")
    live_daily_budget: int = Field(1000, ge=0, description="API calls per system per day the checks may spend")
    # Remediation (start flows, resubmit runs, re-register the webhook) is confirm-gated and allowed only to these
    # users: Bot Framework user ids or AAD object ids, comma-separated; empty = nobody may remediate.
    admin_allowlist: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma-separated user ids / AAD object ids allowed to remediate; empty = nobody"
    )
    # Trust (assistant/trust.py): who may see live findings and run fixes, and what may reach the bot at all.
    local_fixes: bool = Field(
        False, description="Auth off on loopback: let the local user run fixes (allow-list still applies); demo only"
    )
    allow_remote_without_auth: bool = Field(
        False, description="Lab only: let `serve` listen on a non-loopback address with Bot Framework auth off"
    )
    directline_portal_key: SecretStr = Field(
        SecretStr(""),
        description="Key the embedding portal's server sends (Bearer) with a user id: a token for a verified user",
    )
    directline_embedded: bool | None = Field(
        None, description="Mount the embedded Direct Line; default: with auth off, or when a portal key is set"
    )
    directline_max_conversations: int = Field(
        1000,
        ge=10,
        le=1_000_000,
        description="Open anonymous embedded Direct Line conversations; beyond, new ones wait",
    )
    directline_max_history_bytes: int = Field(
        512 * 1024, ge=16 * 1024, le=64 * 1024 * 1024, description="Activity bytes kept per embedded conversation"
    )
    rate_limit: str = Field(
        "20/minute;200/hour",
        description="Per client: token, refresh and conversation-creation requests (limits' notation); 429 beyond",
    )
    forwarded_hops: int = Field(
        0, ge=0, le=5, description="Proxies in front whose X-Forwarded-For entry names the client (0 = peer address)"
    )
    max_id_chars: int = Field(
        512, ge=64, le=8192, description="Longest id (conversation, user, activity, channel) accepted on any route"
    )

    @field_validator("trusted_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return tuple(_origin(str(part)) for part in value)
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        if url and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be empty (SQLite at COSELL_DATABASE_PATH) or a postgresql:// URL")
        return SecretStr(url)

    @field_validator("applicationinsights_connection_string")
    @classmethod
    def _connection_string(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value().strip()
        keys = {part.split("=", 1)[0].strip().casefold() for part in text.split(";") if "=" in part}
        if text and "instrumentationkey" not in keys:
            raise ValueError("must be an Application Insights connection string (InstrumentationKey=...;...)")
        return SecretStr(text)

    @field_validator("directline_embedded", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value  # empty = auto

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be rate limits such as '20/minute;200/hour'") from None
        return value

    @field_validator("admin_allowlist", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("live_cache_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value():
            from cryptography.fernet import Fernet

            try:
                Fernet(value.get_secret_value().encode())
            except (ValueError, TypeError):
                raise ValueError(
                    "must be a Fernet key: 32 url-safe base64-encoded bytes (Fernet.generate_key())"
                ) from None
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.match_suggest_at > self.match_answer_at:
            raise ValueError("match_suggest_at must not exceed match_answer_at")
        if self.case_retention_days < self.retention_days:
            raise ValueError("COSELL_CASE_RETENTION_DAYS must be at least COSELL_RETENTION_DAYS")
        if self.app_type == "SingleTenant" and self.app_id and not self.app_tenant_id:
            raise ValueError("MicrosoftAppTenantId is required when MicrosoftAppType is SingleTenant")
        problem = salesforce_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def auth_enabled(self) -> bool:
        """Bot Framework auth is on exactly when an app id is configured."""
        return bool(self.app_id)

    @property
    def bind_host(self) -> str:
        """The address `serve` binds to."""
        if self.host:
            return self.host
        return "0.0.0.0" if self.auth_enabled else "127.0.0.1"

    @property
    def loopback_only(self) -> bool:
        """`serve` listens on a loopback address only."""
        return is_loopback_host(self.bind_host)

    @property
    def embedded_directline(self) -> bool:
        """Mount the embedded Direct Line: never with Azure's; else as set, else with auth off or a portal key
        (with auth on and no way to verify web users, only when explicitly enabled)."""
        if self.azure_directline:
            return False
        if self.directline_embedded is not None:
            return self.directline_embedded
        return not self.auth_enabled or bool(self.directline_portal_key.get_secret_value())

    def bind_problem(self) -> str | None:
        """Why `serve` must refuse to start with these settings (None: fine)."""
        if self.auth_enabled or self.loopback_only or self.allow_remote_without_auth:
            return None
        return (
            f"refusing to listen on {self.bind_host} with Bot Framework auth off: anyone who can reach it could use "
            "the bot. Set MicrosoftAppId (and its password) to turn auth on, bind 127.0.0.1, or, for a lab only, "
            "set COSELL_ALLOW_REMOTE_WITHOUT_AUTH=true (or pass --allow-remote-without-auth)"
        )

    @property
    def azure_directline(self) -> bool:
        """Web Chat goes through Azure's Direct Line (a secret is set) rather than the embedded endpoint."""
        return bool(self.directline_secret.get_secret_value())

    @property
    def live_salesforce_auth(self) -> Literal["jwt_bearer", "client_credentials", "token"] | None:
        """How the Salesforce checks sign in: OAuth JWT bearer, OAuth client credentials, a static token, or not."""
        if self.live_salesforce_username and (
            self.live_salesforce_private_key.get_secret_value() or self.live_salesforce_private_key_file
        ):
            return "jwt_bearer"
        if self.live_salesforce_client_id and self.live_salesforce_client_secret.get_secret_value():
            return "client_credentials"
        return "token" if self.live_salesforce_token.get_secret_value() else None

    def live_salesforce_private_key_pem(self) -> str:
        """The PEM text of the JWT bearer private key: the setting, or the file it names ('' when neither is set).

        A key pasted on one line with literal `\\n` escapes (as some secret stores hold it) gets its line breaks back.

        Raises:
            OSError: the file cannot be read.
        """
        text = self.live_salesforce_private_key.get_secret_value()
        if not text and self.live_salesforce_private_key_file:
            text = Path(self.live_salesforce_private_key_file).expanduser().read_text(encoding="utf-8")
        if "\n" not in text and "\\n" in text:
            text = text.replace("\\n", "\n")
        return text.strip()

    def bot_auth_config(self) -> BotAuthConfig:
        """Configuration object for botbuilder's `ConfigurationBotFrameworkAuthentication`."""
        return BotAuthConfig(
            APP_ID=self.app_id,
            APP_PASSWORD=self.app_password.get_secret_value(),
            APP_TYPE=self.app_type,
            APP_TENANTID=self.app_tenant_id,
        )


def _origin(value: str) -> str:
    """`https://Portal.Example.com/` → `https://portal.example.com`; anything but scheme://host[:port] is refused."""
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or parts.fragment:
        raise ValueError("each entry must be an origin: scheme://host[:port], no path")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def describe_error(exc: ValidationError) -> str:
    """A start-up message naming each invalid setting by its environment name, without echoing values."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "settings"
        name = loc if loc[:1].isupper() or loc == "settings" else f"COSELL_{loc.upper()}"
        lines.append(f"invalid setting {name}: {err['msg']}")
    return "\n".join(lines)
