"""Web Chat in a real browser: the page at `/` with the pinned `botframework-webchat` bundle, talking to the bot's
embedded Direct Line, in the system Chromium driven by Playwright (no browser is downloaded).

Covers the welcome, an English and an Italian question, the feedback buttons (Adaptive Card buttons), a clarifying
question, `?locale=it-IT`, and the `/embed.js` snippet on another origin (CORS as Chromium enforces it).
A screenshot of each page is saved under the test's tmp_path; its path is printed and recorded as a property.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app import create_app
from bot.channels import webchat

pytest.importorskip("playwright")
from playwright.async_api import BrowserContext, Locator, Page, async_playwright, expect  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPLY_TIMEOUT = 15_000  # ms; Web Chat itself gives up on a send after 20 s
SEND_FAILED = re.compile(r"send failed", re.IGNORECASE)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)"
    ),
    pytest.mark.skipif(
        not webchat.BUNDLE.is_file(), reason="needs webchat/node_modules (scripts/bootstrap runs npm ci)"
    ),
]


@pytest.fixture
async def bot_url(aiohttp_server: Callable[..., Any], make_settings: Callable[..., Any], knowledge: Any) -> str:
    app = create_app(make_settings(directline_secret=""), knowledge=knowledge)
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path / "profile",  # a fresh user-data dir per test
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 900, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()


class Chat:
    """One Web Chat on a page: type, click card buttons, wait for the bot."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        self.sockets: list[str] = []  # the Direct Line stream's URLs (query left out: it holds the stream token)
        page.on("websocket", lambda ws: self.sockets.append(ws.url.split("?")[0]))
        self.bot = page.locator(".webchat__bubble:not(.webchat__bubble--from-user) .webchat__bubble__content")

    async def bot_says(self, text: str | re.Pattern[str]) -> Locator:
        """Wait for the newest bot message to contain `text`."""
        newest = self.bot.last
        await expect(newest).to_contain_text(text, timeout=REPLY_TIMEOUT)
        return newest

    async def say(self, text: str) -> None:
        before = await self.bot.count()
        box = self.page.locator("[data-id='webchat-sendbox-input']")
        await box.fill(text)
        await box.press("Enter")
        await self._answered(before)

    async def click(self, title: str | re.Pattern[str]) -> None:
        """Click a button of the newest bot message's Adaptive Card (an Action.Submit)."""
        before = await self.bot.count()
        await self.bot.last.locator("button.ac-pushButton").filter(has_text=title).first.click()
        await self._answered(before)

    async def _answered(self, before: int) -> None:
        await expect(self.bot).not_to_have_count(before, timeout=REPLY_TIMEOUT)
        assert await self.page.get_by_text(SEND_FAILED).count() == 0, "Web Chat shows 'send failed'"

    async def finish(self, path: Path, record_property: Callable[[str, Any], None]) -> None:
        await self.page.screenshot(path=str(path), full_page=True)
        record_property("screenshot", str(path))
        print(f"screenshot: {path}")
        assert await self.page.get_by_text(SEND_FAILED).count() == 0, "Web Chat shows 'send failed'"
        assert self.errors == []


async def test_conversation_in_the_browser(browser: BrowserContext, bot_url: str, tmp_path: Path, record_property):
    chat = Chat(await browser.new_page())
    try:
        await chat.page.goto(f"{bot_url}/?locale=en-US")
        await chat.bot_says("Hi! I help you troubleshoot")

        await chat.say("Solution ID is required")
        await chat.bot_says("co-sell ready solution")
        await chat.click("Yes, it helped")
        await chat.bot_says("glad it helped")

        await chat.say("crm id")  # two entries fit: a clarifying question
        await chat.bot_says("which of these you mean")
        await chat.click(re.compile(r"^(?!None of these).+"))  # the first candidate
        if (
            "which one do you use"
            in await (await chat.bot_says(re.compile(r"Did this help\?|which one do you use"))).inner_text()
        ):
            await chat.click("Dynamics 365")  # its steps name flows after the CRM: asked once, with buttons
            await chat.bot_says("Did this help?")

        await chat.say("quanto costa il connettore a pagamento?")
        await chat.bot_says("AppSource")
        await chat.click("Sì, utile")
        await chat.bot_says("Ottimo, mi fa piacere")
        assert len(chat.sockets) == 1 and chat.sockets[0].endswith("/stream")  # Web Chat's default: the WebSocket
    finally:
        await chat.finish(tmp_path / "webchat.png", record_property)


async def test_locale_parameter_gives_an_italian_welcome(
    browser: BrowserContext, bot_url: str, tmp_path: Path, record_property
):
    chat = Chat(await browser.new_page())
    try:
        await chat.page.goto(f"{bot_url}/?locale=it-IT")
        await chat.bot_says("Ciao! Ti aiuto")
    finally:
        await chat.finish(tmp_path / "webchat-it.png", record_property)


async def test_embed_snippet_on_another_origin(
    browser: BrowserContext, bot_url: str, aiohttp_server: Callable[..., Any], tmp_path: Path, record_property
):
    portal = web.Application()
    snippet = (
        '<!doctype html><title>Partner portal</title><link rel="icon" href="data:,">'
        '<div id="cosell-assistant" style="height:600px"></div>'
        f'<script src="{bot_url}/embed.js" data-target="cosell-assistant" data-locale="en-US" async></script>'
    )

    async def home(request: web.Request) -> web.Response:
        return web.Response(text=snippet, content_type="text/html")

    portal.router.add_get("/", home)
    server = await aiohttp_server(portal, host="127.0.0.1")
    chat = Chat(await browser.new_page())
    try:
        # "localhost" vs "127.0.0.1": a different origin, so every Direct Line call is a CORS request
        await chat.page.goto(f"http://localhost:{server.port}/")
        await chat.bot_says("Hi! I help you troubleshoot")
        await chat.say("WorkflowTriggerNotFound")
        await chat.bot_says("Did this help?")
    finally:
        await chat.finish(tmp_path / "webchat-embed.png", record_property)
