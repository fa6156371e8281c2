"""Settings: .env.example loads, Azure names work, secrets stay hidden, invalid values are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_error

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_env_example_lists_every_setting(make_settings) -> None:
    loaded = Settings(_env_file=EXAMPLE)
    assert loaded.port == 3978 and loaded.database_path == Path("var/cosell-bot.db")
    listed = {line.split("=")[0] for line in EXAMPLE.read_text().splitlines() if line and not line.startswith("#")}
    expected = {"MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId"}
    azure = {"applicationinsights_connection_string": "APPLICATIONINSIGHTS_CONNECTION_STRING"}  # Azure's own name
    expected |= set(azure.values())
    expected |= {f"COSELL_{name.upper()}" for name in Settings.model_fields if not name.startswith("app_")} - {
        f"COSELL_{name.upper()}" for name in azure
    }
    assert listed == expected


def test_azure_names_and_secret_hiding(make_settings, monkeypatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("MicrosoftAppPassword", "p@ssw0rd-value")
    settings = Settings(_env_file=None)
    assert settings.auth_enabled and settings.bind_host == "0.0.0.0"
    assert "p@ssw0rd-value" not in repr(settings) and "p@ssw0rd-value" not in str(settings.model_dump())
    assert settings.bot_auth_config().APP_PASSWORD == "p@ssw0rd-value"


def test_local_defaults_bind_loopback(make_settings) -> None:
    settings = make_settings()
    assert not settings.auth_enabled and settings.bind_host == "127.0.0.1"


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"port": "eighty"}, "COSELL_PORT"),
        ({"default_locale": "de"}, "COSELL_DEFAULT_LOCALE"),
        ({"match_answer_at": 1.5}, "COSELL_MATCH_ANSWER_AT"),
    ],
)
def test_invalid_setting_is_named(make_settings, overrides, name) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(**overrides)
    assert name in describe_error(info.value)


def test_single_tenant_needs_tenant(make_settings) -> None:
    with pytest.raises(ValidationError, match="MicrosoftAppTenantId"):
        make_settings(app_id="x", app_type="SingleTenant")


@pytest.mark.parametrize("value", ["portal.contoso.com", "https://portal.contoso.com/app", "ftp://x"])
def test_a_trusted_origin_must_be_an_origin(make_settings, value) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(trusted_origins=f"http://localhost:3000,{value}")
    assert "COSELL_TRUSTED_ORIGINS" in describe_error(info.value)


PA_URL = "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SIGkey0123456789"
WEBHOOK_SECRET = "whsec-0123456789abcdef"


def test_the_support_webhook_is_off_by_default_and_when_empty(make_settings) -> None:
    assert make_settings().support_webhook_url is None
    empty = make_settings(support_webhook_url=" ", support_webhook_secret="")
    assert empty.support_webhook_url is None and empty.support_webhook_secret is None


@pytest.mark.parametrize(
    "url", [PA_URL, "http://127.0.0.1:7071/api/hook", "http://localhost:8080/hook", "http://[::1]:9/x"]
)
def test_a_support_webhook_url_is_https_or_loopback(make_settings, url) -> None:
    settings = make_settings(support_webhook_url=url, support_webhook_secret=WEBHOOK_SECRET)
    assert settings.support_webhook_url == url
    assert settings.support_webhook_secret is not None
    assert settings.support_webhook_secret.get_secret_value() == WEBHOOK_SECRET


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x?sig=SIGkey0123456789", "must use https"),
        ("ftp://hooks.example.com/x?sig=SIGkey0123456789", "must use https"),
        ("hooks.example.com/x?sig=SIGkey0123456789", "absolute URL"),
        ("https://hooks.example.com/x?sig=SIGkey0123456789#frag", "absolute URL"),
        ("https://hooks.example.com/a b?sig=SIGkey0123456789", "absolute URL"),
    ],
)
def test_a_bad_support_webhook_url_is_named_never_shown(make_settings, url, message) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(support_webhook_url=url, support_webhook_secret=WEBHOOK_SECRET)
    described = describe_error(info.value)
    assert "COSELL_SUPPORT_WEBHOOK_URL" in described and message in described
    assert "SIGkey0123456789" not in described and "SIGkey0123456789" not in str(info.value)


def test_the_support_webhook_needs_a_long_enough_secret(make_settings) -> None:
    with pytest.raises(ValidationError) as missing:
        make_settings(support_webhook_url=PA_URL)
    assert "COSELL_SUPPORT_WEBHOOK_SECRET is required" in describe_error(missing.value)
    with pytest.raises(ValidationError) as short:
        make_settings(support_webhook_url=PA_URL, support_webhook_secret="short-secret")
    described = describe_error(short.value)
    assert "COSELL_SUPPORT_WEBHOOK_SECRET" in described and "at least 16 characters" in described
    assert "short-secret" not in described and "short-secret" not in str(short.value)


def test_the_support_webhook_url_and_secret_stay_out_of_repr(make_settings, monkeypatch) -> None:
    monkeypatch.setenv("COSELL_SUPPORT_WEBHOOK_URL", PA_URL)
    monkeypatch.setenv("COSELL_SUPPORT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    settings = Settings(_env_file=None)
    assert settings.support_webhook_url == PA_URL
    assert "SIGkey0123456789" not in repr(settings) and WEBHOOK_SECRET not in repr(settings)
    assert WEBHOOK_SECRET not in str(settings.model_dump())
