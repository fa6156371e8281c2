"""The periodic purge (bot/purge.py) and its place in the app's lifecycle (bot/app.py): it runs every interval, a
failing purge is logged and the next one still runs, its counts are logged at INFO, and `stop` ends it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot import purge
from bot.app import ASSISTANT, create_app
from bot.purge import purge_periodically
from bot.settings import Settings


class FlakyRetention:
    """Fails its first purge, then deletes a little each time."""

    def __init__(self) -> None:
        self.calls = 0

    async def purge(self, *, dry_run: bool = False) -> dict[str, int]:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the database went away")
        return {"state": 2, "transcript": 5}

    async def forget(self, user_id: str, *, dry_run: bool = False) -> dict[str, int]:
        raise AssertionError("not used")


async def _until(condition: Callable[[], Any], tries: int = 500) -> None:
    """Poll `condition` every 10 ms, failing after `tries`."""
    for _ in range(tries):
        if await condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the condition never became true")


async def test_the_purge_runs_every_interval_and_survives_a_failing_one(caplog: pytest.LogCaptureFixture) -> None:
    retention, stop = FlakyRetention(), asyncio.Event()
    caplog.set_level(logging.INFO, logger="bot.purge")
    task = asyncio.create_task(purge_periodically(retention, 0.01, stop, first_after_s=0))

    async def three() -> bool:
        return retention.calls >= 3

    await _until(three)
    stop.set()
    await asyncio.wait_for(task, 1)

    [failed] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "purge failed" in failed.getMessage() and failed.exc_info is not None
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos and all(m.startswith("purge: deleted state=2 transcript=5 (7 rows) in ") for m in infos)


async def test_stop_before_the_first_purge_ends_it_without_purging() -> None:
    retention, stop = FlakyRetention(), asyncio.Event()
    task = asyncio.create_task(purge_periodically(retention, 3600, stop))
    await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert retention.calls == 0


async def test_an_interval_of_0_returns_at_once() -> None:
    retention = FlakyRetention()
    await asyncio.wait_for(purge_periodically(retention, 0, asyncio.Event(), first_after_s=0), 1)
    assert retention.calls == 0


async def _app_with_old_state(make_settings: Callable[..., Settings], knowledge: Any, interval: int) -> Any:
    app = create_app(make_settings(purge_interval_s=interval), knowledge=knowledge)
    database = app[ASSISTANT].database
    async with database.transaction() as conn:
        await conn.execute(
            "INSERT INTO state (key, etag, data, updated_at) VALUES ('test/users/u1', 'e', '{}',"
            " '2020-01-01T00:00:00+00:00')"
        )
    return app


async def test_a_serving_app_purges_in_the_background(
    aiohttp_client: Any, make_settings: Callable[..., Settings], knowledge: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(purge, "FIRST_AFTER_S", 0.01)
    app = await _app_with_old_state(make_settings, knowledge, 3600)
    await aiohttp_client(app)

    async def purged() -> bool:
        return not await app[ASSISTANT].database.query("SELECT key FROM state")

    await _until(purged)


async def test_an_interval_of_0_runs_no_purge(
    aiohttp_client: Any, make_settings: Callable[..., Settings], knowledge: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(purge, "FIRST_AFTER_S", 0.01)
    app = await _app_with_old_state(make_settings, knowledge, 0)
    await aiohttp_client(app)
    await asyncio.sleep(0.2)
    assert await app[ASSISTANT].database.query("SELECT key FROM state") == [("test/users/u1",)]
