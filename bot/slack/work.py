"""The work after the ack, handed over by the listeners: done in this process, or in a worker process.

A listener acks and calls ``deps.work.submit(kind, **args)`` with JSON-able arguments. What each kind
does is a job (``bot/slack/listeners/__init__.py`` lists them), run with the deps and Web API client of
the process that does the work:

- :class:`InlineWork` runs it in this process's tracked tasks (tests, the playground, one-process setups);
- :class:`ProcessWork` writes it, one JSON line, to a worker process (``python -m bot work``) that has its
  own event loop, store, clients and outbox consumer. The diagnosis and the drawing of cards (milliseconds
  of CPU per answer) then never run on the event loop that acks, so an ack does not wait behind them.

The line holds the payload as Slack sent it, token included: it crosses a pipe between two processes of
one container and is never stored or logged. If the worker is not running, the work is done inline,
so nothing acked is dropped; a worker that exits unexpectedly is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

Job = Callable[..., Coroutine[Any, Any, None]]
"""A job: ``job(deps, client, **args)``, the work of one kind."""
LINE_LIMIT = 8 * 1024 * 1024  # a JSON line of work: Slack's biggest payload (1 MiB) escaped, with room
WORKER_READY_SECONDS = 30.0
STATUS_EVERY = 1.0  # how often the worker reports its counters and what it holds


class Work(Protocol):
    def submit(self, kind: str, **args: Any) -> None:
        """Hand the work over; returns at once."""
        ...


class InlineWork:
    """Each job in a tracked task of this process."""

    def __init__(self, spawn: Callable[[Coroutine[Any, Any, None], str], object], jobs: Mapping[str, Job]) -> None:
        self._spawn = spawn
        self._jobs = jobs
        self.deps: Any = None
        self.client: Any = None

    def bind(self, deps: Any, client: Any) -> None:
        self.deps, self.client = deps, client

    def submit(self, kind: str, **args: Any) -> None:
        self._spawn(self._jobs[kind](self.deps, self.client, **args), kind)


class ProcessWork:
    """Jobs written to a worker process's stdin; its status lines read from its stdout."""

    def __init__(self, inline: InlineWork, command: list[str] | None = None, env: Mapping[str, str] | None = None):
        self._inline = inline
        self._command = command or [sys.executable, "-m", "bot", "work"]
        self._env = dict(env) if env is not None else dict(os.environ)
        self._process: asyncio.subprocess.Process | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._watcher: asyncio.Task[None] | None = None
        self.status: dict[str, Any] = {}  # the worker's last report: counters, answers held, tasks

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None and self._ready.is_set()

    async def start(self) -> None:
        await self._spawn()
        self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="worker-watch")
        try:
            await asyncio.wait_for(self._ready.wait(), WORKER_READY_SECONDS)
        except TimeoutError:
            log.error("the worker process did not start within %.0f s: working inline", WORKER_READY_SECONDS)

    def submit(self, kind: str, **args: Any) -> None:
        process = self._process
        if not self.running or process is None or process.stdin is None or process.stdin.is_closing():
            self._inline.submit(kind, **args)
            return
        # JSON's ASCII escapes carry any string, a lone surrogate (valid JSON: "\\ud800") included
        line = json.dumps({"k": kind, "a": args}, separators=(",", ":"))
        process.stdin.write(line.encode("ascii") + b"\n")

    async def stop(self, timeout: float) -> int | None:
        """Close the worker's input (it finishes its work, hands the rest to the outbox, and exits); wait up
        to ``timeout``, then kill it. Returns its exit status."""
        self._stopping = True
        process = self._process
        if process is None:
            return None
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        try:
            code = await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            log.error("the worker did not stop within %.0f s: killing it", timeout)
            process.kill()
            code = await process.wait()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        return code

    async def _spawn(self) -> None:
        self._ready.clear()
        self._process = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=self._env,
            limit=LINE_LIMIT,
        )

    async def _watch(self) -> None:
        """Read the worker's status lines; start it again if it exits while the bot is not stopping."""
        while True:
            process = self._process
            assert process is not None and process.stdout is not None
            while line := await process.stdout.readline():
                with contextlib.suppress(ValueError):
                    status = json.loads(line)
                    if isinstance(status, dict):
                        self.status = status
                        self._ready.set()
            code = await process.wait()
            self._ready.clear()
            if self._stopping:
                return
            log.error("the worker process exited (status %s): starting it again; working inline meanwhile", code)
            await asyncio.sleep(1.0)
            await self._spawn()


async def read_jobs(reader: asyncio.StreamReader, work: InlineWork) -> None:
    """The worker's side: each line of stdin is a job, done in a tracked task. Returns at end of input."""
    while line := await reader.readline():
        try:
            job = json.loads(line)
            kind, args = job["k"], job["a"]
            work.submit(str(kind), **args)
        except (ValueError, KeyError, TypeError) as problem:
            log.error("worker: a line of work it cannot read (%s)", type(problem).__name__)


async def stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader
