"""Sandbox scenarios: the simulated tenant's data and the faults it injects, loaded from YAML.

A test and demo tool, not a product feature. `devtools/sandbox/scenarios/healthy.yaml` holds the full simulated tenant
under `tenant:`; every other file says `base: healthy` and lists `overrides:` (deep-merged into the tenant: mappings
merge, anything else replaces, `null` deletes the key), `faults:` (appended) and optionally `latency_s:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

SystemKey = Literal[
    "partner_center_referrals", "partner_center_webhooks", "power_automate", "dataverse", "bap", "graph", "salesforce"
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SandboxRun(_Model):
    """A failed run of a simulated flow; its start time is `minutes_ago` before the request."""

    name: str
    status: str = "Failed"
    minutes_ago: float = 60
    duration_s: float = 5
    error_code: str | None = None
    error_message: str | None = None
    trigger: str = "manual"

    def start_time(self) -> datetime:
        return datetime.now(UTC) - timedelta(minutes=self.minutes_ago)


class SandboxFlow(_Model):
    display_name: str
    state: Literal["Started", "Stopped", "Suspended"] = "Started"
    suspension_reason: str | None = None
    triggers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    connection_references: tuple[str, ...] = ()  # logical names of Tenant.connection_references
    callback_url: str | None = None  # only flows with an HTTP ("manual", kind Http) trigger
    children: tuple[str, ...] = ()  # flow ids that must be Started before this one can start
    is_managed: bool = True
    failed_runs: tuple[SandboxRun, ...] = ()
    runs_per_day: int = 0  # successful runs on each of the last `run_days` days (run history, API forecast)
    run_days: int = 7


class SandboxConnectionReference(_Model):
    display_name: str
    api_name: str  # e.g. shared_commondataserviceforapps
    connection_id: str = ""  # empty: no connection bound
    statecode: int = 0


class SandboxWebhook(_Model):
    subscriber_id: str
    url: str
    events: tuple[str, ...] = ()


class SandboxUser(_Model):
    full_name: str
    email: str
    roles: tuple[str, ...] = ()
    disabled: bool = False
    access_mode: int = 0


class SandboxCurrency(_Model):
    iso_code: str
    name: str
    exchange_rate: float = 1.0
    statecode: int = 0


class SandboxAttribute(_Model):
    logical_name: str
    schema_name: str
    attribute_type: str = "String"
    labels: dict[str, str] = Field(default_factory=dict)  # language code -> label


class SandboxVariable(_Model):
    schema_name: str
    display_name: str | None = None
    default: str | None = None
    value: str | None = None


class SandboxCapacity(_Model):
    database_total_mb: float
    database_used_mb: float


class SandboxLicense(_Model):
    """A licence assigned to the signed-in user (Graph licenseDetails): SKU part number and service plan names."""

    sku_part_number: str
    service_plans: tuple[str, ...] = ()
    disabled_plans: tuple[str, ...] = ()  # plans the admin switched off (provisioningStatus Disabled)


class SandboxSfUser(_Model):
    username: str
    name: str
    is_active: bool = True
    profile: str = "Standard User"
    profile_customize: bool = False  # Profile.PermissionsCustomizeApplication
    permission_sets: dict[str, bool] = Field(default_factory=dict)  # name -> grants Customize Application


class SandboxSfCurrency(_Model):
    iso_code: str
    is_active: bool = True
    is_corporate: bool = False
    conversion_rate: float = 1.0


class SandboxSfField(_Model):
    name: str
    label: str
    type: str = "string"


class SandboxSalesforce(_Model):
    """A Salesforce org (REST API): the signed-in user, users, currencies, Opportunity custom fields, API limits."""

    org_id: str
    user_id: str  # the signed-in user (userinfo)
    users: dict[str, SandboxSfUser] = Field(default_factory=dict)
    multi_currency: bool = True  # False: CurrencyType and Opportunity.CurrencyIsoCode do not exist
    currencies: tuple[SandboxSfCurrency, ...] = ()
    opportunity_fields: tuple[SandboxSfField, ...] = ()  # the connector package's custom fields
    api_max: int = 15000
    api_remaining: int = 14200
    batch_size: int = 2000  # SOQL records per batch (lower it to exercise nextRecordsUrl paging)


class Tenant(_Model):
    """Everything the simulated tenant holds, across Partner Center, Power Automate, Dataverse and BAP."""

    environment_id: str
    environment_name: str
    has_dataverse: bool = True
    organization_id: str
    organization_name: str
    business_unit_id: str
    caller_id: str  # the signed-in user (WhoAmI)
    base_currency_id: str
    capacity: SandboxCapacity
    licenses: tuple[SandboxLicense, ...] = ()  # the signed-in user's licences (Graph)
    flows: dict[str, SandboxFlow] = Field(default_factory=dict)
    connection_references: dict[str, SandboxConnectionReference] = Field(default_factory=dict)
    webhook: SandboxWebhook | None = None
    referrals: dict[str, dict[str, Any]] = Field(default_factory=dict)  # id -> Partner Center JSON (camelCase)
    users: dict[str, SandboxUser] = Field(default_factory=dict)
    currencies: dict[str, SandboxCurrency] = Field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = Field(default_factory=dict)  # id -> Dataverse row columns
    opportunities: dict[str, dict[str, Any]] = Field(default_factory=dict)
    custom_attributes: dict[str, tuple[SandboxAttribute, ...]] = Field(default_factory=dict)  # entity -> columns
    environment_variables: tuple[SandboxVariable, ...] = ()
    salesforce: SandboxSalesforce | None = None


class Fault(_Model):
    """Every request to `systems` (all when empty) is answered with `status` and an error body of that system."""

    systems: tuple[SystemKey, ...] = ()
    status: int
    code: str | None = None
    message: str
    retry_after: float | None = None
    body: dict[str, Any] | None = None  # a literal body instead of the system's {"error": {...}} shape


class Scenario(_Model):
    """A simulated tenant plus the faults and latency it serves with."""

    name: str
    description: str
    tenant: Tenant
    faults: tuple[Fault, ...] = ()
    latency_s: float = Field(default=0.0, ge=0)
    # what a user of this tenant would ask about its fault (in the chat, `ask`), and the record the fault is on
    # (`trace` and `diagnose` inputs: referral_id or opportunity_id); the same-verdict test asks all three
    question: str = ""
    inputs: dict[str, str] = Field(default_factory=dict)

    def fault_for(self, system: SystemKey) -> Fault | None:
        """The first fault that applies to `system`."""
        return next((f for f in self.faults if not f.systems or system in f.systems), None)


class UnknownScenario(LookupError):
    """No scenario file has this name."""


def scenario_names(directory: Path = SCENARIO_DIR) -> list[str]:
    """Names of the scenario files, sorted."""
    return sorted(p.stem for p in directory.glob("*.yaml"))


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `changes` applied: mappings merge, other values replace, None deletes the key."""
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _raw(name: str, directory: Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if name in seen:
        raise ValueError(f"sandbox scenario {name!r} has a base cycle: {' -> '.join((*seen, name))}")
    path = directory / f"{name}.yaml"
    if not path.is_file():
        raise UnknownScenario(name)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"sandbox scenario {name!r} is not a mapping")
    base_name = data.pop("base", None)
    overrides = data.pop("overrides", None) or {}
    faults = list(data.pop("faults", None) or [])
    resolved: dict[str, Any] = {"faults": []}
    if base_name is not None:
        resolved = _raw(str(base_name), directory, (*seen, name))
        resolved.pop("description", None)
    resolved["tenant"] = deep_merge(resolved.get("tenant") or {}, data.pop("tenant", None) or {})
    resolved["tenant"] = deep_merge(resolved["tenant"], overrides)
    resolved["faults"] = [*resolved.get("faults", []), *faults]
    resolved.update(data)
    return resolved


def load_scenario(name: str, *, directory: Path = SCENARIO_DIR, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario by name; `overrides` (e.g. `{"latency_s": 0.05}`) are deep-merged last, for tests.

    Raises:
        UnknownScenario: no `<name>.yaml` in `directory`.
    """
    raw = deep_merge(_raw(name, directory), overrides or {})
    raw["name"] = name
    return Scenario.model_validate(raw)
