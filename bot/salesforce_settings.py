"""Whether the Salesforce sign-in settings make one consistent flow: JWT bearer (a private key, a username, a client
id), client credentials (a client id and secret, the org's My Domain token URL), or neither. `Settings` refuses to
start with the first problem found, named by its environment name and never echoing a value."""

from __future__ import annotations

from typing import Literal, Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.loopback import is_loopback_host


class Settings(Protocol):
    """The Salesforce settings these rules read (`bot.settings.Settings` has them; no import back to it)."""

    @property
    def live_salesforce_client_id(self) -> str: ...

    @property
    def live_salesforce_client_secret(self) -> SecretStr: ...

    @property
    def live_salesforce_username(self) -> str: ...

    @property
    def live_salesforce_private_key(self) -> SecretStr: ...

    @property
    def live_salesforce_private_key_file(self) -> str: ...

    @property
    def live_salesforce_token_url(self) -> str: ...

    @property
    def live_salesforce_auth(self) -> Literal["jwt_bearer", "client_credentials", "token"] | None: ...

    def live_salesforce_private_key_pem(self) -> str: ...


_SF = "COSELL_LIVE_SALESFORCE_"
_SF_LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})


def _salesforce_jwt_problem(settings: Settings) -> str | None:
    """What is missing or wrong for the JWT bearer flow, when a private key is set (None: fine or not chosen)."""
    key, key_file = settings.live_salesforce_private_key.get_secret_value(), settings.live_salesforce_private_key_file
    if key and key_file:
        return f"set {_SF}PRIVATE_KEY or {_SF}PRIVATE_KEY_FILE, not both"
    if not (key or key_file):
        if settings.live_salesforce_username:
            return f"{_SF}USERNAME is only used by the JWT bearer flow: set {_SF}PRIVATE_KEY (or _FILE) too"
        return None
    if not settings.live_salesforce_username:
        return f"{_SF}USERNAME is required with a private key (JWT bearer flow: the user to sign in as)"
    if not settings.live_salesforce_client_id:
        return f"{_SF}CLIENT_ID (the connected app's consumer key) is required with a private key (JWT bearer flow)"
    return _salesforce_token_url_problem(settings) or _private_key_problem(settings)


def _salesforce_client_problem(settings: Settings) -> str | None:
    """What is missing or wrong for the client credentials flow (None: fine, JWT bearer chosen, or no OAuth)."""
    client_id, secret = settings.live_salesforce_client_id, settings.live_salesforce_client_secret.get_secret_value()
    if settings.live_salesforce_auth == "jwt_bearer" or not (client_id or secret):
        return None
    if not client_id:
        return f"{_SF}CLIENT_SECRET needs {_SF}CLIENT_ID (the connected app's consumer key)"
    if not secret:
        return (
            f"{_SF}CLIENT_ID needs {_SF}CLIENT_SECRET (client credentials flow) "
            f"or {_SF}PRIVATE_KEY and {_SF}USERNAME (JWT bearer flow)"
        )
    if urlsplit(settings.live_salesforce_token_url).hostname in _SF_LOGIN_HOSTS:
        return (
            f"{_SF}TOKEN_URL must be the org's My Domain token endpoint for the client credentials flow "
            "(https://<MyDomain>.my.salesforce.com/services/oauth2/token), not login. or test.salesforce.com"
        )
    return _salesforce_token_url_problem(settings)


def _salesforce_token_url_problem(settings: Settings) -> str | None:
    parts = urlsplit(settings.live_salesforce_token_url)
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        return f"{_SF}TOKEN_URL must use https (credentials are sent to it)"
    return None


def _private_key_problem(settings: Settings) -> str | None:
    """Whether the JWT bearer key loads: an unencrypted RSA private key in PEM form (never echoes the key)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    name = f"{_SF}PRIVATE_KEY_FILE" if settings.live_salesforce_private_key_file else f"{_SF}PRIVATE_KEY"
    try:
        pem = settings.live_salesforce_private_key_pem()
    except OSError:
        return f"{name}: the file cannot be read"
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return f"{name} must be an unencrypted RSA private key in PEM form (-----BEGIN PRIVATE KEY-----)"
    if not isinstance(key, RSAPrivateKey):
        return f"{name} must be an RSA private key (the JWT bearer flow signs with RS256)"
    return None


def salesforce_problem(settings: Settings) -> str | None:
    """The first problem of the Salesforce sign-in settings (None: consistent, or Salesforce not configured)."""
    return _salesforce_jwt_problem(settings) or _salesforce_client_problem(settings)
