"""``python -m bot work``: the worker process that ``python -m bot serve`` starts (bot/slack/work.py).

It reads jobs from stdin, does them with its own engine (store, Web API clients, outbox consumer), and
writes a status line to stdout every second: its counters for /metrics, the answers it holds, its tasks.
At the end of its input it finishes its work, hands undelivered answers back to the outbox's stream, writes
a last status line and exits. SIGTERM and SIGINT (a process group stopped at once, Ctrl-C) do not stop it
early: jobs the serving process acked may still be in the pipe, and the serving process closes the pipe
when it stops (or the pipe closes when it dies), which is the one signal to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Sequence

from bot.config import ConfigError
from bot.slack.app import Engine
from bot.slack.logs import configure_logging, install_redaction
from bot.slack.settings import Settings, SettingsError
from bot.slack.work import STATUS_EVERY, read_jobs, stdin_reader

log = logging.getLogger("bot.work")


def main(argv: Sequence[str] = ()) -> int:
    install_redaction()
    if list(argv):
        sys.stderr.write(
            "usage: python -m bot work   (started by python -m bot serve; settings from the environment)\n"
        )
        return 2
    try:
        settings = Settings.from_env()
    except (SettingsError, ConfigError) as problem:
        sys.stderr.write(f"jwtcheck work: {problem}\n")
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        return asyncio.run(work(settings))
    except ValueError as problem:  # a malformed REDIS_URL: the message never quotes it
        sys.stderr.write(f"jwtcheck work: {problem}\n")
        return 2


async def work(settings: Settings) -> int:
    engine = Engine(settings)
    await engine.check_auth()  # its identity: the thread reader skips the bot's own messages
    await engine.start(deliver=True)
    jobs = engine.inline_work()
    engine.deps.work = jobs
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, log.info, "worker: a stop signal; finishing when the serving process closes")
    reporting = loop.create_task(_report(engine), name="worker-report")
    await read_jobs(await stdin_reader(), jobs)
    log.info("worker: no more work; finishing the work under way")
    await engine.stop()
    reporting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reporting
    _status(engine)
    return 0


async def _report(engine: Engine) -> None:
    while True:
        _status(engine)
        await asyncio.sleep(STATUS_EVERY)


def _status(engine: Engine) -> None:
    deps = engine.deps
    line = {"metrics": deps.metrics.samples(), "held": deps.outbox.held, "tasks": deps.tasks.in_flight}
    with contextlib.suppress(OSError, ValueError):  # the serving process is gone: nobody to tell
        sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
        sys.stdout.flush()
