"""The live checks' data (knowledge/data/checks): the real files load whole and ship with the package, and every
kind of bad data stops loading with a message that names the file and the check."""

from __future__ import annotations

import fnmatch
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.check_specs import load_checks
from knowledge.loader import DATA_DIR, KnowledgeError
from knowledge.models import Area

ROOT = Path(__file__).parents[2]


def test_the_real_checks_load_in_sweep_order_with_their_words_in_both_languages() -> None:
    checks = load_checks()

    assert [spec.area for spec in checks.checks] == sorted((s.area for s in checks.checks), key=list(Area).index)
    assert len(checks.checks) == 18 and checks.get("crm-roles").area is Area.prerequisites
    for spec in checks.checks:
        assert spec.title.en != spec.title.it, spec.id
        assert spec.messages, spec.id
    assert checks.lookup("referral-sync")("use-code").it == " (usare {code})"  # its own words, then the shared ones
    with pytest.raises(KeyError):
        checks.lookup("referral-sync")("no-such-words")


def test_the_data_files_ship_in_the_package() -> None:
    """Every file under knowledge/data matches a [tool.setuptools.package-data] pattern, so an installed wheel has
    the entries and the checks, not only what a checkout has."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    globs = patterns["package-data"]["knowledge"]
    files = [p.relative_to(DATA_DIR.parent).as_posix() for p in DATA_DIR.rglob("*") if p.is_file()]
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) and f.count("/") == g.count("/") for g in globs)] == []
    assert any(f.startswith("data/checks/") for f in files) and any(f.startswith("data/entries/") for f in files)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A writable copy of the real data directory."""
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    return copy


def _edit_check(data: Path, file: str, check_id: str, /, **changes: Any) -> None:
    path = data / "checks" / f"{file}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    block = next(c for c in raw["checks"] if c["id"] == check_id)
    block.update(changes)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"entries": ["pre-crm-fields", "pre-no-such-entry"]}, r"unknown entries \['pre-no-such-entry'\]"),
        ({"needs": ["salesforce"]}, r"needs \['salesforce'\] are not among systems \['dataverse'\]"),
        ({"systems": []}, "systems: Tuple should have at least 1 item"),
        ({"estimated_calls": 0}, "estimated_calls: Input should be greater than or equal to 1"),
        ({"title": {"en": "CRM currency"}}, "title.it: Field required"),
        ({"messages": {"Bad Key": {"en": "a", "it": "b"}}}, "message keys must be lower-case words"),
        (
            {"messages": {"currencies": {"en": "Base {base}, {active} active.", "it": "Valuta di base {base}."}}},
            r"messages.currencies: Value error, the languages name different parameters: en \['active', 'base'\], "
            r"it \['base'\]",
        ),
        ({"messages": {"no-client": {"en": "a", "it": "b"}}}, r"messages \['no-client'\] are shared ones"),
        ({"area": "maintenance"}, "area: the file gives it"),
        ({"owner": "me"}, "owner: Extra inputs are not permitted"),
    ],
    ids=[
        "unknown-entry",
        "needs-not-called",
        "no-system",
        "no-calls",
        "title-without-italian",
        "bad-message-key",
        "placeholders-differ",
        "shadows-shared",
        "area-in-block",
        "unknown-field",
    ],
)
def test_a_bad_check_stops_loading_naming_file_and_check(data: Path, changes: dict[str, Any], says: str) -> None:
    _edit_check(data, "prerequisites", "crm-currency", **changes)

    with pytest.raises(KnowledgeError, match=r"^prerequisites\.yaml \(check crm-currency\): .*" + says):
        load_checks(data)


def test_a_check_declared_twice_is_refused(data: Path) -> None:
    _edit_check(data, "maintenance", "failed-runs", id="crm-currency")

    with pytest.raises(KnowledgeError, match=r"maintenance\.yaml \(check crm-currency\): id already declared in "):
        load_checks(data)


def test_malformed_files_are_named(data: Path) -> None:
    checks = data / "checks"
    (checks / "maintenance.yaml").write_text("area: maintenance\nchecks: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^maintenance\.yaml: cannot read YAML"):
        load_checks(data)

    (checks / "maintenance.yaml").write_text("area: configuration\nchecks: [{id: x}]\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^maintenance\.yaml: area configuration in a file that must be named"):
        load_checks(data)

    (checks / "maintenance.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^maintenance\.yaml: expected a mapping with area and checks"):
        load_checks(data)

    (checks / "maintenance.yaml").unlink()
    (checks / "billing.yaml").write_text("area: billing\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"files named after no area: \['billing\.yaml'\]"):
        load_checks(data)


def test_bad_shared_messages_and_no_checks_at_all_are_named(data: Path) -> None:
    checks = data / "checks"
    shared = checks / "messages.yaml"
    shared.write_text('messages:\n  no-client: {en: "No client for {system}.", it: "Nessun client."}\n', "utf-8")
    with pytest.raises(KnowledgeError, match=r"^messages\.yaml: messages\.no-client: .*different parameters"):
        load_checks(data)

    shared.write_text("messages: {}\n", encoding="utf-8")
    for area in Area:
        (checks / f"{area.value}.yaml").unlink()
    with pytest.raises(KnowledgeError, match="no checks"):
        load_checks(data)
