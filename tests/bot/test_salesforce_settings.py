"""Salesforce sign-in settings: which flow the settings choose, and inconsistent combinations stop start-up naming the
setting, never its value (bot/salesforce_settings.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import describe_error

SF_TOKEN_URL = "https://acme.my.salesforce.com/services/oauth2/token"


def _pem(kind: str = "rsa") -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    raw = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return raw.decode()


JWT = {"live_salesforce_client_id": "3MVG9key", "live_salesforce_username": "admin@acme.example"}
CC = {
    "live_salesforce_client_id": "3MVG9key",
    "live_salesforce_client_secret": "s3cret",
    "live_salesforce_token_url": SF_TOKEN_URL,
}


@pytest.mark.parametrize(
    ("overrides", "flow"),
    [
        ({}, None),
        ({"live_salesforce_token": "static"}, "token"),
        (CC, "client_credentials"),
        (CC | {"live_salesforce_token": "static"}, "client_credentials"),  # OAuth before the static token
        (JWT | {"live_salesforce_private_key": "PEM"}, "jwt_bearer"),
        (JWT | CC | {"live_salesforce_private_key": "PEM"}, "jwt_bearer"),  # the key wins over the secret
        (JWT | {"live_salesforce_private_key": "ESCAPED"}, "jwt_bearer"),  # one line with literal \n
        (JWT | {"live_salesforce_private_key_file": "FILE"}, "jwt_bearer"),
        (
            CC | {"live_salesforce_token_url": "http://127.0.0.1:8080/salesforce/services/oauth2/token"},
            "client_credentials",
        ),
    ],
)
def test_salesforce_flow_selection(make_settings, tmp_path, overrides, flow) -> None:
    pem = _pem()
    values = dict(overrides)
    if values.get("live_salesforce_private_key") == "PEM":
        values["live_salesforce_private_key"] = pem
    if values.get("live_salesforce_private_key") == "ESCAPED":
        values["live_salesforce_private_key"] = pem.strip().replace("\n", "\\n")
    if values.get("live_salesforce_private_key_file") == "FILE":
        (tmp_path / "sf.pem").write_text(pem)
        values["live_salesforce_private_key_file"] = str(tmp_path / "sf.pem")
    settings = make_settings(**values)
    assert settings.live_salesforce_auth == flow
    if flow == "jwt_bearer":
        assert settings.live_salesforce_private_key_pem() == pem.strip()
        assert pem.splitlines()[1] not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"live_salesforce_private_key": "PEM"}, "COSELL_LIVE_SALESFORCE_USERNAME"),
        (
            {"live_salesforce_private_key": "PEM", "live_salesforce_username": "a@b.c"},
            "COSELL_LIVE_SALESFORCE_CLIENT_ID",
        ),
        ({"live_salesforce_client_id": "3MVG9key"}, "COSELL_LIVE_SALESFORCE_CLIENT_SECRET"),
        ({"live_salesforce_client_secret": "s3cret"}, "COSELL_LIVE_SALESFORCE_CLIENT_ID"),
        ({"live_salesforce_username": "a@b.c"}, "COSELL_LIVE_SALESFORCE_PRIVATE_KEY"),
        (CC | {"live_salesforce_token_url": "https://login.salesforce.com/services/oauth2/token"}, "_TOKEN_URL"),
        (CC | {"live_salesforce_token_url": "http://acme.my.salesforce.com/services/oauth2/token"}, "_TOKEN_URL"),
        (
            JWT | {"live_salesforce_private_key": "PEM", "live_salesforce_private_key_file": "x.pem"},
            "_PRIVATE_KEY_FILE",
        ),
        (JWT | {"live_salesforce_private_key": "not a key s3cret"}, "COSELL_LIVE_SALESFORCE_PRIVATE_KEY"),
        (JWT | {"live_salesforce_private_key": "EC"}, "COSELL_LIVE_SALESFORCE_PRIVATE_KEY must be an RSA"),
        (JWT | {"live_salesforce_private_key_file": "/nonexistent/sf.pem"}, "COSELL_LIVE_SALESFORCE_PRIVATE_KEY_FILE"),
        ({"live_salesforce_token_ttl": 10}, "COSELL_LIVE_SALESFORCE_TOKEN_TTL"),
        ({"live_salesforce_audience": "https://login.salesforce.com/path"}, "COSELL_LIVE_SALESFORCE_AUDIENCE"),
    ],
)
def test_inconsistent_salesforce_settings_are_named(make_settings, overrides, name) -> None:
    values = dict(overrides)
    if values.get("live_salesforce_private_key") in ("PEM", "EC"):
        values["live_salesforce_private_key"] = _pem("rsa" if values["live_salesforce_private_key"] == "PEM" else "ec")
    with pytest.raises(ValidationError) as info:
        make_settings(**values)
    described = describe_error(info.value)
    assert name in described
    assert "s3cret" not in described  # values are never echoed
    key = str(values.get("live_salesforce_private_key", ""))
    assert not key.startswith("-----") or key.splitlines()[1] not in described
