"""The loader requires a label of at most 40 characters per language, distinct among the entries of a language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.loader import DATA_DIR, KnowledgeError, load_kb


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(DATA_DIR, tmp_path / "data")
    return tmp_path / "data"


def _relabel(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert f'label: "{old}"' in text
    path.write_text(text.replace(f'label: "{old}"', new), encoding="utf-8")


def test_a_label_used_twice_in_a_language_is_refused(tmp_path) -> None:
    data = _copy(tmp_path)
    _relabel(data / "entries" / "run-solution-id.yaml", "ID soluzione obbligatorio", 'label: "codice paese MANCANTE"')
    with pytest.raises(KnowledgeError, match="run-solution-id.*label.*run-country-code"):
        load_kb(data)


@pytest.mark.parametrize("replacement", ["", 'label: "' + "x" * 41 + '"'], ids=["missing", "too-long"])
def test_a_missing_or_long_label_is_refused(tmp_path, replacement) -> None:
    data = _copy(tmp_path)
    _relabel(data / "entries" / "run-country-code.yaml", "Country code missing", replacement)
    with pytest.raises(KnowledgeError, match=r"run-country-code.*en\.label"):
        load_kb(data)
