"""`cosell-bot purge [--dry-run]` and `cosell-bot forget --user ID [--dry-run]`: the rows per table printed, the
database changed only without `--dry-run`, and the exit codes (0 done, 1 the database failed, 2 bad input)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from assistant.ports import StateChange
from bot.cli import main
from stores.sql.state import SqlStateStore
from stores.sql.transcripts import SqlTranscriptStore
from stores.sqlite.database import SqliteDatabase


def _activity(conversation: str, user: str, timestamp: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channelId": "msteams",
        "conversation": {"id": conversation},
        "from": {"id": user},
        "recipient": {"id": "bot"},
        "timestamp": timestamp,
        "text": "hello",
    }


async def _seed(path: Path) -> None:
    db = SqliteDatabase(path)
    try:
        await SqlStateStore(db).write({"msteams/users/u-old": StateChange("{}", None)})
        async with db.transaction() as conn:  # last written in 2020: older than any retention
            await conn.execute("UPDATE state SET updated_at = '2020-01-01T00:00:00+00:00'")
        await SqlStateStore(db).write({"msteams/users/u-new": StateChange("{}", None)})
        await SqlTranscriptStore(db).log_serialized(
            [
                (_activity("c-old", "u-old", "2020-01-01T00:00:00.000Z"), "in"),
                (_activity("c-new", "u-new", "2099-01-01T00:00:00.000Z"), "in"),
            ]
        )
    finally:
        db.close()


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    db = SqliteDatabase(path)
    try:
        return db.sync_query(sql)
    finally:
        db.close()


def _counts(out: str) -> dict[str, int]:
    return {table: int(n) for table, n in re.findall(r"^  (\w+)\s+(\d+)$", out, re.MULTILINE)}


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("COSELL_DATABASE_URL", "COSELL_RETENTION_DAYS", "COSELL_CASE_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "bot.db"
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(path))
    asyncio.run(_seed(path))
    return path


def test_purge_dry_run_then_purge(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("purge --dry-run: would delete")
    counts = _counts(out)
    assert (counts["state"], counts["transcript"], counts["cases"], counts["total"]) == (1, 1, 0, 2)
    assert len(_rows(db_path, "SELECT key FROM state")) == 2  # nothing deleted

    assert main(["purge"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("purge: deleted") and _counts(out)["total"] == 2
    assert _rows(db_path, "SELECT key FROM state") == [("msteams/users/u-new",)]
    assert _rows(db_path, "SELECT conversation_id FROM transcript") == [("c-new",)]

    assert main(["purge"]) == 0
    out = capsys.readouterr().out
    assert _counts(out)["total"] == 0 and "nothing is older than the retention" in out


def test_purge_compact_rewrites_a_file_of_an_earlier_build_without_its_free_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COSELL_DATABASE_URL", raising=False)
    path = tmp_path / "old.db"
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(path))
    with sqlite3.connect(path) as raw:  # an earlier build's file: auto_vacuum NONE, 2 MiB of rows since deleted
        raw.execute("CREATE TABLE state (key TEXT PRIMARY KEY, etag TEXT, data TEXT, updated_at TEXT)")
        raw.executemany("INSERT INTO state VALUES (?, 'e', ?, '2099-01-01T00:00:00Z')",
                        [(f"k{i}", "x" * 2000) for i in range(1000)])  # fmt: skip
        raw.execute("DELETE FROM state WHERE key != 'k1'")
    raw.close()
    before = path.stat().st_size

    assert main(["purge", "--compact", "--dry-run"]) == 2  # one changes the file, the other nothing
    assert "choose one" in capsys.readouterr().err and path.stat().st_size == before

    assert main(["purge", "--compact"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^compact: the SQLite file went from [\d.]+ MiB to [\d.]+ MiB$", out, re.MULTILINE)
    assert path.stat().st_size < before / 4
    assert _rows(path, "PRAGMA auto_vacuum") == [(2,)]  # from now on each purge gives its free pages back
    assert _rows(path, "SELECT key FROM state") == [("k1",)]


def test_forget_dry_run_then_forget(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forget", "--user", "u-new", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("forget --dry-run: would erase")
    counts = _counts(out)
    assert (counts["state"], counts["transcript"], counts["total"]) == (1, 1, 2)
    assert len(_rows(db_path, "SELECT key FROM state")) == 2

    assert main(["forget", "--user", "u-new"]) == 0
    assert _counts(capsys.readouterr().out)["total"] == 2
    assert _rows(db_path, "SELECT key FROM state") == [("msteams/users/u-old",)]
    assert _rows(db_path, "SELECT user_id FROM transcript") == [("u-old",)]

    assert main(["forget", "--user", "u-new"]) == 0
    assert "nothing is stored for this user" in capsys.readouterr().out


def test_bad_input_is_exit_2(
    db_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["forget", "--user", "  "]) == 2
    assert "--user needs a user id" in capsys.readouterr().err
    with pytest.raises(SystemExit) as missing:
        main(["forget"])
    assert missing.value.code == 2
    capsys.readouterr()

    monkeypatch.setenv("COSELL_CASE_RETENTION_DAYS", "10")  # shorter than the conversations' 30 days
    with pytest.raises(SystemExit) as invalid:
        main(["purge"])
    assert invalid.value.code == 2
    assert "COSELL_CASE_RETENTION_DAYS must be at least COSELL_RETENTION_DAYS" in capsys.readouterr().err
    assert len(_rows(db_path, "SELECT key FROM state")) == 2


def test_a_database_that_cannot_open_is_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COSELL_DATABASE_URL", raising=False)
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(tmp_path))  # a folder, not a file
    assert main(["purge"]) == 1
    assert "cosell-bot purge: the database failed" in capsys.readouterr().err
    assert main(["forget", "--user", "u1"]) == 1
    assert "cosell-bot forget: the database failed" in capsys.readouterr().err
