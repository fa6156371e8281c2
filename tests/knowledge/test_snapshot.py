"""knowledge/snapshot.py: the saved knowledge answers exactly as the knowledge built from the data files, is used only
for the sources it was built from, and anything unreadable means building instead."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import snapshot
from knowledge.matcher import Thresholds, match

OWN_SET = Path(__file__).parents[1] / "data" / "eval" / "own.jsonl"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot written the way scripts/bootstrap and the Dockerfile write it: `python -m knowledge.snapshot`."""
    cache = tmp_path_factory.mktemp("cache")
    done = subprocess.run(
        [sys.executable, "-m", "knowledge.snapshot", str(cache)],
        capture_output=True, text=True, check=False, timeout=120, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert Path(done.stdout.strip()) == snapshot.path(cache)
    return cache


def test_the_snapshot_answers_every_question_as_the_built_knowledge(written: Path) -> None:
    loaded, built = snapshot.load(written), snapshot.build()
    assert loaded is not None
    questions = [json.loads(line)["text"] for line in OWN_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions += ["conettore non sincronizza", "subscripton", "I want to talk to a person", "payouts?"]
    assert len(questions) > 100
    th = Thresholds()
    for text in questions:  # typos exercise the lexer's repair cache, rebuilt empty when read
        assert match(loaded.index, text, th, model=loaded.model) == match(built.index, text, th, model=built.model)
        assert loaded.handoff(text) == built.handoff(text), text
        assert loaded.neighbours.recognise(text) == built.neighbours.recognise(text), text
    assert loaded.kb == built.kb


def test_only_the_sources_it_was_built_from_use_it(tmp_path: Path) -> None:
    package = tmp_path / "knowledge"
    shutil.copytree(snapshot.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    data = package / "data"
    first = snapshot.key(package, data)
    assert first == snapshot.key(snapshot.PACKAGE, snapshot.DATA_DIR)  # the same bytes, wherever they are
    entry = next((data / "entries").glob("*.yaml"))
    entry.write_bytes(entry.read_bytes() + b"\n# edited\n")
    assert snapshot.key(package, data) != first
    entry.write_bytes(entry.read_bytes()[: -len(b"\n# edited\n")])
    assert snapshot.key(package, data) == first
    (package / "matcher.py").write_text((package / "matcher.py").read_text(encoding="utf-8") + "\n# x\n", "utf-8")
    assert snapshot.key(package, data) != first


def test_none_or_an_unreadable_snapshot_means_building(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="knowledge.snapshot")
    assert snapshot.load(tmp_path) is None  # none written
    snapshot.path(tmp_path).write_bytes(b"\x80\x05not a pickle")
    assert snapshot.load(tmp_path) is None
    assert "unreadable" in caplog.text


def test_writing_replaces_the_snapshots_of_older_sources(tmp_path: Path) -> None:
    stale = tmp_path / "knowledge-0123456789abcdef0123456789abcdef.pickle"
    stale.write_bytes(b"old")
    target = snapshot.write(tmp_path)
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    assert target.stat().st_mode & 0o777 == 0o644
