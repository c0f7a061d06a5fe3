"""A real playground on an ephemeral port (memory store), and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from bot.playground.server import Playground
from bot.slack.logs import install_redaction

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "playground-test-secret-" + "0123456789abcdef" * 4


def token(**claims: Any) -> str:
    """A token minted for the real clock (the playground's bot judges as of now)."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": "https://login.acme.test/",
        "aud": "orders-api",
        "sub": "u1",
        "iat": now - 60,
        "exp": now + 840,
    }
    for name, value in claims.items():
        if value is None:
            base.pop(name, None)
        elif name in {"iat", "nbf", "exp"} and isinstance(value, int):
            base[name] = now + value  # seconds from now
        else:
            base[name] = value
    return jwt.encode(base, SECRET, algorithm="HS256")


def skewed_token() -> str:
    """Issued by a clock 70 s ahead."""
    return token(iat=70, nbf=70, exp=3670)


def signature_of(raw: str) -> str:
    return raw.rsplit(".", 1)[1]


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def segment(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{segment(header)}.{segment(payload)}.c2lnbmF0dXJl"


@pytest.fixture
async def playground() -> AsyncIterator[Playground]:
    install_redaction()
    running = await Playground.start(0, redis_url=None, ack_timeout=30.0)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


# --- the browser ----------------------------------------------------------------------------------


def _no_browser(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: see .ci/run)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Tab:
    page: Any  # playwright.async_api.Page
    url: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        _no_browser(f"no Chromium at {CHROMIUM}: `apt-get install chromium` to run the browser tests")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _no_browser("the playwright package is not installed: pip install -e '.[dev]'")
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def tab(browser: Any, playground: Playground) -> AsyncIterator[Tab]:
    from playwright.async_api import expect

    expect.set_options(timeout=20_000)  # an upper bound for slow machines, not a timing assertion
    context = await browser.new_context(viewport={"width": 1500, "height": 1000})
    page = await context.new_page()
    opened = Tab(page, playground.url)

    def on_console(message: Any) -> None:
        if message.type == "error":
            opened.errors.append(f"console: {message.text}")

    async def on_dialog(dialog: Any) -> None:
        opened.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: opened.errors.append(f"pageerror: {error}"))
    page.on("dialog", on_dialog)
    await page.goto(playground.url)
    await expect(page.locator("#presence.online")).to_have_count(1)  # the WebSocket is up
    try:
        yield opened
    finally:
        await context.close()
