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
    expected |= {f"COSELL_{name.upper()}" for name in Settings.model_fields if not name.startswith("app_")}
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
