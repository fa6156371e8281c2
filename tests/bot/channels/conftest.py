"""Shared by the Web Chat and Direct Line tests: the app in local mode (embedded Direct Line) over HTTP."""

from __future__ import annotations

import pytest

from bot.app import create_app


@pytest.fixture
def local_settings(make_settings):
    return make_settings(directline_secret="")  # explicit: a DirectLineSecret in the environment must not leak in


@pytest.fixture
async def client(aiohttp_client, local_settings, knowledge):
    return await aiohttp_client(create_app(local_settings, knowledge=knowledge))
