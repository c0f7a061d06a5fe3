"""A real bot on an ephemeral port, against the fake Slack Web API and a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.slack.app import Runtime
from bot.slack.ingress import make_runner
from bot.slack.logs import install_redaction
from bot.slack.settings import Settings
from tests.support import slack_requests
from tests.support.slack_api import BOT_TOKEN, MockSlack
from tests.support.tokens import NOW


@dataclass
class Reply:
    status: int
    text: str


@dataclass
class Bot:
    runtime: Runtime
    slack: MockSlack
    url: str
    session: aiohttp.ClientSession
    runner: web.AppRunner
    responses: list[Reply] = field(default_factory=list)

    async def post(self, body: str, content_type: str, **signing: Any) -> Reply:
        headers = slack_requests.signed(body, content_type, **signing)
        async with self.session.post(f"{self.url}/slack/events", data=body.encode(), headers=headers) as response:
            reply = Reply(response.status, await response.text())
        self.responses.append(reply)
        return reply

    async def command(self, text: str, *, response: str = "r1", **extra: Any) -> Reply:
        body = slack_requests.command(text, self.slack.response_url(response), **extra)
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(self, inner: dict[str, Any], event_id: str, **signing: Any) -> Reply:
        return await self.post(slack_requests.event(inner, event_id), "application/json", **signing)

    async def click(self, action_id: str, value: str, *, response: str = "click", **extra: Any) -> Reply:
        body = slack_requests.block_action(action_id, value, response_url=self.slack.response_url(response), **extra)
        return await self.post(body, "application/x-www-form-urlencoded")

    async def settle(self) -> None:
        await self.runtime.idle()

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(f"{self.url}{path}") as response:
            return response.status, await response.text()


def settings_for(slack: MockSlack, redis_url: str | None, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "signing_secret": slack_requests.SIGNING_SECRET,
        "app_token": None,
        "port": 0,
        "redis_url": redis_url,
        "slack_api_url": slack.api_url,
        "services": None,
        "log_format": "text",
        "log_level": "DEBUG",
    }
    values.update(changes)
    return Settings(**values)


@pytest.fixture
async def slack() -> AsyncIterator[MockSlack]:
    mock = await MockSlack().start()
    yield mock
    await mock.stop()


BotFactory = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def make_bot(slack: MockSlack, redis_url: str, redis_raw: Any) -> AsyncIterator[BotFactory]:
    """Start bots sharing the fake Slack and (by default) the test Redis: two of them are two replicas."""
    install_redaction()
    started: list[Bot] = []
    session = aiohttp.ClientSession()

    async def start(**changes: Any) -> Bot:
        settings = settings_for(slack, changes.pop("redis_url", redis_url), **changes)
        runtime = Runtime(settings)
        runtime.deps.chat.clock = lambda: NOW  # the instant the test tokens are made for
        assert await runtime.check_auth()
        runner = make_runner(runtime.web_app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        bot = Bot(runtime, slack, f"http://127.0.0.1:{port}", session, runner)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        await bot.runner.cleanup()
    await session.close()


@pytest.fixture
async def bot(make_bot: BotFactory) -> Bot:
    return await make_bot()
