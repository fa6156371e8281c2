"""The knowledge loader: the real data loads whole, and every kind of bad data stops it with a message that names
the file and the entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from knowledge.loader import DATA_DIR, SAFE_LOADER, KnowledgeError, load_kb

IDS = (
    "pre-trial pre-crm-role pre-pc-role pre-crm-fields pre-power-automate pre-d365-for-salesforce "
    "pre-marketplace-leads pre-availability "
    "cfg-workflow-trigger-not-found cfg-signin-error cfg-activate-pc-to-crm cfg-add-connections cfg-flows-wont-turn-on "
    "run-flow-failures run-not-synced run-bidirectional run-disconnected run-access-denied run-country-code "
    "run-solution-id run-pc-not-synced-to-crm run-flows-off-after-upgrade run-get-help"
).split()
BEYOND_PAGE = {"pre-marketplace-leads", "pre-availability", "run-flows-off-after-upgrade", "run-get-help"}


def test_the_knowledge_base_has_the_nineteen_entries_and_four_beyond_the_page_in_both_languages() -> None:
    kb = load_kb()

    # areas in order, the source page's entries in its order, then each area's beyond-page entries
    assert [e.id for e in kb.entries] == IDS
    assert {e.id for e in kb.entries if e.beyond_page} == BEYOND_PAGE
    for entry in kb.entries:
        for lang in ("en", "it"):
            content = entry.content(lang)
            assert content.title and content.lead, (entry.id, lang)
            assert len(content.phrasings) >= 5, (entry.id, lang)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A writable copy of the real data directory."""
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    return copy


def _edit(data: Path, entry_id: str, **changes: object) -> Path:
    path = data / "entries" / f"{entry_id}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw.update(changes)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"area": "billing"}, "area"),
        ({"order": 0}, "order"),
        ({"fingerprints": ["solution id (is required"]}, "bad fingerprint"),
        ({"generic_fingerprints": ["action '[^']+ failed["]}, "bad fingerprint"),
        ({"order": 1}, "order 1 already used by"),
    ],
    ids=["unknown-area", "order-below-one", "bad-fingerprint", "bad-generic-fingerprint", "duplicate-order"],
)
def test_a_bad_entry_stops_loading_naming_file_and_entry(data: Path, changes: dict[str, object], says: str) -> None:
    _edit(data, "run-solution-id", **changes)

    with pytest.raises(KnowledgeError) as raised:
        load_kb(data)

    assert "run-solution-id.yaml" in str(raised.value)
    assert "(entry run-solution-id)" in str(raised.value) or "already used by run-solution-id" in str(raised.value)
    assert says in str(raised.value)


def test_a_missing_answer_names_the_field(data: Path) -> None:
    path = data / "entries" / "pre-trial.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    del raw["it"]["lead"]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    with pytest.raises(KnowledgeError, match=r"pre-trial\.yaml \(entry pre-trial\): it\.lead"):
        load_kb(data)


def test_a_file_named_after_another_entry_is_refused(data: Path) -> None:
    (data / "entries" / "run-solution-id.yaml").rename(data / "entries" / "run-solution.yaml")

    with pytest.raises(KnowledgeError, match=r"run-solution\.yaml \(entry run-solution-id\): file name"):
        load_kb(data)


def test_unreadable_yaml_and_an_empty_directory_are_named(data: Path) -> None:
    (data / "entries" / "pre-trial.yaml").write_text("id: pre-trial\nen: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"pre-trial\.yaml: cannot read YAML"):
        load_kb(data)

    for path in (data / "entries").iterdir():
        path.unlink()
    with pytest.raises(KnowledgeError, match="no entry files"):
        load_kb(data)


def test_a_bad_lexicon_names_its_file(data: Path) -> None:
    (data / "lexicon.yaml").write_text("stopwords: 3\n", encoding="utf-8")

    with pytest.raises(KnowledgeError, match=r"lexicon\.yaml: "):
        load_kb(data)


def test_the_data_is_read_with_libyaml_and_reads_as_the_pure_python_safe_loader_reads_it() -> None:
    assert yaml.__with_libyaml__ and SAFE_LOADER is yaml.CSafeLoader  # start-up: the pure-Python one took 0.4 s
    files = sorted(DATA_DIR.rglob("*.yaml"))
    assert len(files) >= 25
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=SAFE_LOADER) == yaml.safe_load(text), path.name  # noqa: S506 (a safe loader)
