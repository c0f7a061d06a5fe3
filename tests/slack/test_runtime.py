"""The running bot keeps its hot path light: one HTTP session for the Web API, work loaded at start."""

from __future__ import annotations

from aiohttp import web

from bot.slack.app import Runtime
from tests.slack.conftest import Bot, settings_for
from tests.support.slack_api import MockSlack
from tests.support.tokens import make_token


async def test_every_web_api_call_goes_through_one_http_session(bot: Bot, slack: MockSlack) -> None:
    session = bot.runtime.client.session
    assert session is not None and not session.closed
    await bot.command(make_token())
    await bot.command(make_token())
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 4
    assert bot.runtime.client.session is session


async def test_the_http_session_is_closed_when_the_bot_stops(slack: MockSlack) -> None:
    runtime = Runtime(settings_for(slack, None))
    runner = web.AppRunner(runtime.web_app, access_log=None)
    await runner.setup()
    session = runtime.client.session
    assert session is not None
    await runner.cleanup()
    assert session.closed and runtime.client.session is None
