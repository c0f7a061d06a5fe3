"""``python -m bot serve``: the bot in HTTP mode (aiohttp on $PORT) or Socket Mode (SLACK_APP_TOKEN).

SIGTERM stops taking requests (refused with 503 before any ack), finishes the diagnoses under way, lets the
outbox finish its calls under way and hands what it still holds back to the stream for the other replicas,
then exits: within 2 × DRAIN_SECONDS (bot/slack/app.py), inside deploy/k8s's 30 s grace period.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from bot.config import ConfigError
from bot.slack.app import Runtime
from bot.slack.ingress import make_runner
from bot.slack.logs import configure_logging, install_redaction
from bot.slack.settings import Settings, SettingsError

log = logging.getLogger("bot.serve")


def main(argv: Sequence[str] = ()) -> int:
    install_redaction()
    if list(argv):
        sys.stderr.write("usage: python -m bot serve   (settings come from the environment; see README)\n")
        return 2
    try:
        settings = Settings.from_env()
    except (SettingsError, ConfigError) as problem:
        sys.stderr.write(f"jwtcheck serve: {problem}\n")
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 0


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    try:
        runtime = Runtime(settings)
    except ValueError as problem:  # a malformed REDIS_URL: the message never quotes it
        sys.stderr.write(f"jwtcheck serve: {problem}\n")
        return 2
    if not await runtime.check_auth():
        sys.stderr.write("jwtcheck serve: Slack rejected SLACK_BOT_TOKEN (auth.test failed)\n")
        await runtime.deps.store.close()
        return 2
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = make_runner(runtime.web_app)  # slow-loris deadline on request headers, no access log
    await runner.setup()
    site = web.TCPSite(runner, host="0.0.0.0", port=settings.port)  # noqa: S104 - a server for Slack and probes
    await site.start()
    mode = "Socket Mode" if settings.socket_mode else f"HTTP, POST /slack/events on port {settings.port}"
    log.info("jwtcheck bot serving (%s); health on :%d/healthz", mode, settings.port)
    await stop.wait()
    log.info("stopping: refusing new requests, finishing the work under way")
    runtime.draining = True  # from here a request is refused before any ack (503), so none is acked and dropped
    await runner.cleanup()
    return 0
