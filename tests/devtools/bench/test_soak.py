"""`cosell-bot bench --soak N`: a tiny soak runs through the real assistant and reports sane figures (never timed)."""

from __future__ import annotations

import json

import pytest

from bot.cli import main


def test_a_tiny_soak_prints_its_figures_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--soak", "40", "--json"]) == 0

    soak = json.loads(capsys.readouterr().out)["soak"]
    assert soak["conversations"] == 40 and soak["turns"] == 40 * soak["turns_each"] == 120
    assert soak["concurrency"] == 16 and soak["window_turns"] == 40
    assert soak["in_flight_max"] == 16  # the workers interleave (the purge's timer can fire between their turns)
    assert soak["turns_per_s"] > 0 and soak["first_turns_per_s"] > 0 and soak["last_turns_per_s"] > 0
    assert soak["last_vs_first"] == pytest.approx(soak["last_turns_per_s"] / soak["first_turns_per_s"], rel=0.01)
    assert 0 < soak["turns_kept"] <= 120 and soak["db_bytes"] > 0
    assert soak["bytes_per_turn_kept"] == round(soak["db_bytes"] / soak["turns_kept"])
    assert 0 < soak["live_bytes"] <= soak["db_bytes"]
    assert soak["live_bytes_per_turn_kept"] == round(soak["live_bytes"] / soak["turns_kept"])
    assert 0 < soak["rss_start_mib"] <= soak["rss_end_mib"] * 2


def test_the_soak_table_names_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--soak", "20"]) == 0

    out = capsys.readouterr().out
    for words in ("20 conversations × 3 turns at 16 concurrent", "first 20 turns", "last 20 turns", "database",
                  "bytes per turn kept", "of the pages in use", "RSS", "purges"):  # fmt: skip
        assert words in out
