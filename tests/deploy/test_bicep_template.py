"""deploy/azure/main.bicep against the settings the app really reads (bot/settings.py), and the shape of what it
deploys. No Bicep compiler runs here (its CLI is a .NET binary from GitHub, not on PyPI, npm or Debian): the template
is read with the line reader of tests/deploy/readers.py, which refuses app settings written in any other shape."""

from __future__ import annotations

import json
import os
import re

import pytest
from pydantic import AliasChoices, SecretStr

from bot.settings import Settings
from tests.deploy.readers import BICEP, PARAMETERS, REPO, read_bicep, read_dockerfile

TEMPLATE = read_bicep(BICEP.read_text(encoding="utf-8"))
BY_NAME = {setting.name: setting for setting in TEMPLATE.settings}

# App Service's own settings: neither is a field of Settings
PLATFORM = {"WEBSITES_PORT", "WEBSITES_ENABLE_APP_SERVICE_STORAGE"}
# secret whatever Settings says: the PostgreSQL URL carries the password
SECRET_BY_NATURE = {"COSELL_DATABASE_URL"}
# what the app needs in production: Bot Framework auth on, the shared database
PRODUCTION = {
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "MicrosoftAppType",
    "MicrosoftAppTenantId",
    "COSELL_DATABASE_URL",
}
KEY_VAULT_REFERENCE = re.compile(r"^'@Microsoft\.KeyVault\(SecretUri=\$\{[\w.]+\}(secrets/[\w-]+)?\)'$")


def _env_names() -> dict[str, str]:
    """Every environment name Settings reads (upper-cased: pydantic-settings matches them case-insensitively),
    mapped to its field."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: dict[str, str] = {}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            choices = [choice for choice in alias.choices if isinstance(choice, str)]
        elif isinstance(alias, str):
            choices = [alias]
        else:
            choices = [f"{prefix}{field}"]
        names |= {choice.upper(): field for choice in choices}
    return names


ENV_NAMES = _env_names()


def _secret_fields() -> set[str]:
    """Fields holding a secret: a SecretStr, or kept out of repr (the support webhook URL carries its key)."""
    secret = set()
    for field, info in Settings.model_fields.items():
        annotation = str(info.annotation)
        if info.annotation is SecretStr or "SecretStr" in annotation or info.repr is False:
            secret.add(field)
    return secret


SECRET_FIELDS = _secret_fields()


def _is_secret(name: str) -> bool:
    return name in SECRET_BY_NATURE or ENV_NAMES.get(name.upper()) in SECRET_FIELDS


def test_the_reader_finds_the_settings_and_refuses_other_shapes() -> None:
    assert len(TEMPLATE.settings) >= 20
    assert "plainSettings" in TEMPLATE.union_vars and "secretSettings" in TEMPLATE.union_vars
    every_settings_var = set(re.findall(r"^var (\w+Settings?) = ", TEMPLATE.text, re.MULTILINE))
    assert every_settings_var == set(TEMPLATE.union_vars), "a settings variable is left out of the appsettings union"
    broken = TEMPLATE.text.replace("  COSELL_LOG_LEVEL: 'INFO'\n", "  COSELL_LOG_LEVEL: 'INFO' // a comment\n  ,\n")
    with pytest.raises(AssertionError, match="is not `  NAME: value`"):
        read_bicep(broken)


def test_every_app_setting_is_one_the_app_reads() -> None:
    unknown = [s.name for s in TEMPLATE.settings if s.name.upper() not in ENV_NAMES and s.name not in PLATFORM]
    assert not unknown, f"app settings bot/settings.py does not read: {unknown}"
    assert len({s.name.upper() for s in TEMPLATE.settings}) == len(TEMPLATE.settings), "a setting is set twice"


def test_the_database_url_is_a_secret_field_of_the_settings() -> None:
    """It carries the PostgreSQL password: Settings keeps it a SecretStr (never logged, never in errors)."""
    for name in SECRET_BY_NATURE:
        assert ENV_NAMES.get(name.upper()) in SECRET_FIELDS, f"{name} is read as a plain setting: make it a SecretStr"


def test_every_secret_setting_is_a_key_vault_reference() -> None:
    secrets = [s for s in TEMPLATE.settings if _is_secret(s.name)]
    assert {s.name for s in secrets} >= {"MicrosoftAppPassword", "COSELL_DATABASE_URL", "COSELL_DIRECTLINE_SECRET"}
    plain = [s.name for s in secrets if not KEY_VAULT_REFERENCE.match(s.value)]
    assert not plain, f"secret settings with a plain value instead of a Key Vault reference: {plain}"
    references = [s.name for s in TEMPLATE.settings if "@Microsoft.KeyVault" in s.value]
    assert all(_is_secret(name) for name in references), "a Key Vault reference for a setting that is no secret"


def test_secure_parameters_only_reach_key_vault_secrets() -> None:
    secure = {name for name, param in TEMPLATE.params.items() if param.secure}
    assert {"botAppPassword", "postgresAdminPassword"} <= secure
    for setting in TEMPLATE.settings:
        used = secure & set(re.findall(r"\b\w+\b", setting.value))
        assert not used, f"{setting.name} takes the secure parameter {used} as a plain value"
    secret_values = "\n".join(re.findall(r"value: (.+)", TEMPLATE.text))  # secrets' and optionalSecrets' values
    unused = [name for name in secure if not re.search(rf"\b{name}\b", secret_values)]
    assert not unused, f"secure parameters stored in no Key Vault secret: {unused}"
    # anywhere else a secure parameter appears: its declaration, the server's own admin password, the condition
    # that omits an optional setting; nothing more
    allowed = re.compile(
        r"^(param \w+ string( = '')?|    administratorLoginPassword: postgresAdminPassword|    value: \w+"
        r"|    value: 'postgresql://.+'|  \{ name: '[\w-]+', setting: '\w+', value: \w+ \}"
        r"|var \w+Setting = empty\(\w+\) \? .+)$"
    )
    for line in TEMPLATE.text.splitlines():
        if secure & set(re.findall(r"\b\w+\b", line)) and not line.lstrip().startswith("//"):
            assert allowed.match(line), f"a secure parameter used here: {line.strip()!r}"
    outputs = "\n".join(line for line in TEMPLATE.text.splitlines() if line.startswith("output "))
    assert not any(re.search(rf"\b{name}\b", outputs) for name in secure), "an output shows a secret"


def test_key_vault_references_point_at_secrets_the_template_creates() -> None:
    secret_resources = set(re.findall(r"^resource (\w+) 'Microsoft\.KeyVault/vaults/secrets@", TEMPLATE.text, re.M))
    optional = {
        secret: (setting, param)
        for secret, setting, param in re.findall(
            r"\{ name: '([\w-]+)', setting: '(\w+)', value: (\w+) \}", TEMPLATE.text
        )
    }
    assert len(optional) == 8  # the optional secrets, the usage report's token among them
    for setting in TEMPLATE.settings:
        direct = re.search(r"\$\{(\w+)\.properties\.secretUri\}", setting.value)
        by_name = re.search(r"\$\{keyVault\.properties\.vaultUri\}secrets/([\w-]+)\)", setting.value)
        if direct:
            assert direct.group(1) in secret_resources, setting.name
            assert setting.unless_empty is None, f"{setting.name}: its secret always exists, the setting too"
        elif by_name:
            # created exactly when the setting is set: a reference to a missing secret reaches the app as text
            assert optional.get(by_name.group(1)) == (setting.name, setting.unless_empty), setting.name
    assert "optionalSecrets: if (!empty(secret.value))" in TEMPLATE.text


def test_what_production_needs_is_always_set() -> None:
    always = {s.name for s in TEMPLATE.settings if s.unless_empty is None}
    assert PRODUCTION <= always, f"missing: {PRODUCTION - always}"
    assert BY_NAME["MicrosoftAppId"].value == "botAppId"
    assert TEMPLATE.params["botAppId"].default is None, "the bot's app id has no default: Bot Framework auth is on"
    assert "'postgresql://" in TEMPLATE.text and "?sslmode=require'" in TEMPLATE.text


def _example_value(setting_value: str, parameters: dict[str, object]) -> str | None:
    """A value the setting takes in the example deployment: a literal, or its parameter's example or default."""
    literal = re.fullmatch(r"'([^'$]*)'", setting_value)
    if literal:
        return literal.group(1)
    param = TEMPLATE.params.get(setting_value)
    if param is None:
        return None  # a resource property (a host name, the connection string): known at deployment only
    if param.name in parameters:
        return str(parameters[param.name])
    default = re.fullmatch(r"'([^'$]*)'", param.default or "")
    return default.group(1) if default else None


def test_the_plain_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings is built from the environment the template gives the app (example values where they are
    parameters): an invalid value would stop the container at start-up."""
    parameters = {k: v["value"] for k, v in json.loads(PARAMETERS.read_text())["parameters"].items()}
    for key in list(os.environ):
        if key.upper() in ENV_NAMES:
            monkeypatch.delenv(key)
    given = {}
    for setting in TEMPLATE.settings:
        value = _example_value(setting.value, parameters)
        if value is not None and not _is_secret(setting.name) and setting.name.upper() in ENV_NAMES:
            monkeypatch.setenv(setting.name, value)
            given[setting.name] = value
    monkeypatch.setenv("MicrosoftAppTenantId", "11111111-1111-1111-1111-111111111111")  # tenant(): at deployment
    assert "COSELL_FORWARDED_HOPS" in given and "MicrosoftAppType" in given
    settings = Settings(_env_file=None)
    assert settings.auth_enabled and settings.forwarded_hops == 1
    assert str(settings.database_path).startswith("/home/"), "App Service keeps /home, nothing else"


def test_allowed_parameter_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in TEMPLATE.settings:
        param = TEMPLATE.params.get(setting.value)
        for value in param.allowed if param else []:
            monkeypatch.setenv(setting.name, value)
            monkeypatch.setenv("MicrosoftAppTenantId", "11111111-1111-1111-1111-111111111111")
            Settings(_env_file=None)
            monkeypatch.delenv(setting.name)


def test_the_parameters_example_matches_the_template() -> None:
    example = json.loads(PARAMETERS.read_text(encoding="utf-8"))
    assert example["$schema"].endswith("/deploymentParameters.json#")
    given = set(example["parameters"])
    assert given <= set(TEMPLATE.params), f"undeclared parameters: {given - set(TEMPLATE.params)}"
    required = {name for name, p in TEMPLATE.params.items() if p.default is None and not p.secure}
    assert required <= given, f"required parameters missing from the example: {required - given}"
    secure_given = {name for name in given if TEMPLATE.params[name].secure}
    assert not secure_given, f"secrets belong on the command line or in a Key Vault reference: {secure_given}"
    for name, entry in example["parameters"].items():
        allowed = TEMPLATE.params[name].allowed
        assert not allowed or entry["value"] in allowed, name


def test_app_service_runs_the_image_on_two_or_more_instances_without_affinity() -> None:
    text = TEMPLATE.text
    assert "kind: 'linux'" in text and "reserved: true" in text
    assert "linuxFxVersion: 'DOCKER|${containerImage}'" in text
    assert re.search(r"capacity: instanceCount\n", text)
    assert int(TEMPLATE.params["instanceCount"].default or 0) >= 2
    assert "targetResourceUri: plan.id" in text and "if (maxInstanceCount > instanceCount)" in text
    assert "clientAffinityEnabled: false" in text and "httpsOnly: true" in text
    path = re.search(r"healthCheckPath: '([^']+)'", text)
    assert path and path.group(1) in {"/readyz", "/healthz"}
    assert f'add_get("{path.group(1)}"' in (REPO / "bot" / "health.py").read_text()
    _, stages = read_dockerfile()
    env = stages[-1].env()
    port = re.search(r"var containerPort = '(\d+)'", text)
    exposed = [ins.args for ins in stages[-1].all("EXPOSE")]
    assert port and BY_NAME["WEBSITES_PORT"].value == "containerPort"
    assert exposed == [port.group(1)] == [env["COSELL_PORT"]], "WEBSITES_PORT, EXPOSE and COSELL_PORT differ"


def test_key_vault_identity_and_telemetry() -> None:
    text = TEMPLATE.text
    assert "type: 'SystemAssigned'" in text and "keyVaultReferenceIdentity: 'SystemAssigned'" in text
    assert "enableRbacAuthorization: true" in text
    assert "var keyVaultSecretsUserRole = '4633458b-17de-408a-b874-0445c86b69e6'" in text  # Key Vault Secrets User
    assert "principalId: webApp.identity.principalId" in text
    settings_resource = text[text.index("resource appSettings ") :]
    assert re.search(r"dependsOn: \[\n    secretsUser\n", settings_resource), "settings before the identity may read"
    # telemetry (bot/telemetry.py): the connection string is a secret setting, kept in Key Vault like the others
    assert BY_NAME["APPLICATIONINSIGHTS_CONNECTION_STRING"].value == (
        "'@Microsoft.KeyVault(SecretUri=${appInsightsConnectionSecret.properties.secretUri})'"
    )
    assert "value: appInsights.properties.ConnectionString" in text
    assert "WorkspaceResourceId: logs.id" in text


def test_bot_teams_channel_and_postgres() -> None:
    text = TEMPLATE.text
    assert "'Microsoft.BotService/botServices@" in text
    assert "endpoint: 'https://${webApp.properties.defaultHostName}/api/messages'" in text
    assert "msaAppId: botAppId" in text and "msaAppType: botAppType" in text
    assert re.search(r"channelName: 'MsTeamsChannel'\n    properties: \{\n      isEnabled: true", text)
    assert "'Microsoft.DBforPostgreSQL/flexibleServers@" in text
    assert "'Microsoft.DBforPostgreSQL/flexibleServers/databases@" in text
    assert "startIpAddress: '0.0.0.0'\n    endIpAddress: '0.0.0.0'" in text  # Azure services
    outputs = dict(re.findall(r"^output (\w+) string = (.+)$", text, re.MULTILINE))
    assert outputs["appUrl"] == "'https://${webApp.properties.defaultHostName}'"
    assert outputs["botEndpoint"] == "'https://${webApp.properties.defaultHostName}/api/messages'"
