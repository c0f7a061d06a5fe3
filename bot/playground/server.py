"""``python -m bot playground [--port N]``: the whole bot in a browser, without a Slack workspace.

One aiohttp server on 127.0.0.1 holds the real bot (``bot.slack.app.Runtime``: the same listeners,
renderers, cache and knowledge; the memory store unless ``REDIS_URL`` is set), a Slack emulator that
the bot reaches as its ``SLACK_API_URL`` and that delivers to the bot's own ``/slack/events`` with
Slack's signatures, and the page. The bot token and the signing secret are made up for each run.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.config import CONFIG_ENV, ConfigError, ServicesConfig, load_services
from bot.playground.delivery import ACK_TIMEOUT, Delivery
from bot.playground.emulator import Emulator
from bot.playground.page import Page
from bot.playground.workspace import Workspace
from bot.slack.app import EVENTS_PATH, Runtime
from bot.slack.logs import configure_logging, install_redaction
from bot.slack.settings import Settings

log = logging.getLogger("bot.playground")
DEFAULT_PORT = 3000
HOST = "127.0.0.1"


@dataclass
class Playground:
    """One running playground; ``start`` it, ``stop`` it once."""

    url: str
    runtime: Runtime
    workspace: Workspace
    emulator: Emulator
    delivery: Delivery
    runner: web.AppRunner

    @classmethod
    async def start(
        cls,
        port: int = 0,
        *,
        redis_url: str | None = None,
        services: ServicesConfig | None = None,
        ack_timeout: float = ACK_TIMEOUT,
    ) -> Playground:
        listener = _listen(port)
        try:
            return await cls._start(listener, redis_url, services, ack_timeout)
        except BaseException:
            listener.close()
            raise

    @classmethod
    async def _start(
        cls, listener: socket.socket, redis_url: str | None, services: ServicesConfig | None, ack_timeout: float
    ) -> Playground:
        port = int(listener.getsockname()[1])
        url = f"http://{HOST}:{port}"
        token, secret = f"xoxb-playground-{secrets.token_hex(8)}", secrets.token_hex(32)
        settings = Settings(
            bot_token=token,
            signing_secret=secret,
            app_token=None,
            port=port,
            redis_url=redis_url,
            slack_api_url=f"{url}/api/",
            services=services,
            log_format="text",
            log_level="INFO",
        )
        runtime = Runtime(settings)
        workspace = Workspace()
        emulator = Emulator(workspace, token, url)
        delivery = Delivery(emulator, secret, url + EVENTS_PATH, ack_timeout=ack_timeout)
        app = runtime.web_app
        app.add_routes(emulator.routes())
        Page(workspace, delivery, runtime.deps.knowledge, port).install(app)

        async def close_delivery(_: web.Application) -> None:
            await delivery.close()

        app.on_shutdown.insert(0, close_delivery)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, listener).start()
        playground = cls(url, runtime, workspace, emulator, delivery, runner)
        if not await runtime.check_auth():
            await playground.stop()
            raise RuntimeError("the bot could not authenticate with the playground's Slack emulator")
        return playground

    async def settle(self) -> None:
        """Wait until every delivery is acknowledged and the bot has finished the work they started."""
        while self.delivery.in_flight or self.runtime.deps.tasks.in_flight or self.runtime.deps.outbox.held:
            await self.delivery.idle()
            await self.runtime.idle()

    async def stop(self) -> None:
        await self.settle()
        await self.runner.cleanup()


def _listen(port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(128)
        listener.setblocking(False)
    except BaseException:
        listener.close()
        raise
    return listener


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot playground",
        description="The jwtcheck bot in a browser: a Slack-like page, no Slack needed.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"TCP port on {HOST} (default: $PORT, else {DEFAULT_PORT}; 0 picks a free one)",
    )
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as stop:
        return int(stop.code or 0)
    install_redaction()
    port = args.port
    if port is None:
        text = os.environ.get("PORT", "").strip() or str(DEFAULT_PORT)
        port = int(text) if text.isdigit() else -1
    if not 0 <= port < 65536:
        sys.stderr.write("jwtcheck playground: the port must be a number from 0 to 65535\n")
        return 2
    configure_logging((os.environ.get("LOG_FORMAT") or "text").lower(), (os.environ.get("LOG_LEVEL") or "INFO").upper())
    try:
        config = os.environ.get(CONFIG_ENV, "").strip()
        services = load_services(Path(config)) if config else None
        return asyncio.run(_serve(port, os.environ.get("REDIS_URL", "").strip() or None, services))
    except ConfigError as problem:
        sys.stderr.write(f"jwtcheck playground: {problem}\n")
    except OSError as problem:
        if problem.errno != errno.EADDRINUSE:
            raise
        sys.stderr.write(f"jwtcheck playground: port {port} is in use; try --port {port + 1 if port else 0}\n")
    except ValueError as problem:  # a malformed REDIS_URL
        sys.stderr.write(f"jwtcheck playground: {problem}\n")
    except KeyboardInterrupt:
        return 0
    return 2


async def _serve(port: int, redis_url: str | None, services: ServicesConfig | None) -> int:
    playground = await Playground.start(port, redis_url=redis_url, services=services)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"jwtcheck playground: open {playground.url} in a browser (Ctrl-C stops it)", flush=True)
    await stop.wait()
    await playground.stop()
    return 0
