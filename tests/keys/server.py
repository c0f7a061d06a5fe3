"""A local issuer for the key tests: a real aiohttp server on an ephemeral port that serves JWKS and
discovery documents, and misbehaves on demand (slow, oversized, redirecting, junk). Every request is
recorded, so a test can prove that a server received none at all. :class:`Answers` stands in for name
resolution (offline, a name can only be made to answer something by a double)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class KeyServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host  # another loopback address (127.0.0.2, ::1) for the tests of where a fetch connects
        self.requests: list[str] = []
        self._routes: dict[str, Handler] = {}
        self._boxes: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://{f'[{self.host}]' if ':' in self.host else self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def count(self, path: str) -> int:
        return sum(1 for seen in self.requests if seen == path)

    @classmethod
    @asynccontextmanager
    async def running(cls, host: str = "127.0.0.1") -> AsyncIterator[KeyServer]:
        server = await cls(host).start()
        try:
            yield server
        finally:
            await server.close()

    async def start(self) -> KeyServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._closing = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self._closing.set()  # slow handlers stop waiting
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path)
        handler = self._routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="not here")
        return await handler(request)

    # --- behaviours ---------------------------------------------------------------------------------

    def serve(self, path: str, handler: Handler) -> str:
        self._routes[path] = handler
        return self.url(path)

    def json(self, path: str, document: Any, *, cache_control: str | None = None, delay: float = 0.0) -> str:
        """Serve ``document`` (read at each request, so a test may change it: key rotation)."""
        box = {"document": document}

        async def handler(_: web.Request) -> web.StreamResponse:
            if delay:
                await self.pause(delay)
            headers = {"Cache-Control": cache_control} if cache_control else {}
            return web.json_response(box["document"], headers=headers)

        self._routes[path] = handler
        self._boxes[path] = box
        return self.url(path)

    def update(self, path: str, document: Any) -> None:
        self._boxes[path]["document"] = document

    async def pause(self, seconds: float) -> None:
        """Sleep up to ``seconds``, or until the server closes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def slow(self, path: str, seconds: float) -> str:
        async def handler(_: web.Request) -> web.StreamResponse:
            await self.pause(seconds)
            return web.json_response({"keys": []})

        return self.serve(path, handler)

    def trickle(self, path: str, seconds: float) -> str:
        """Headers at once, then a body that never finishes within ``seconds``."""

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            await response.write(b'{"keys": [')
            await self.pause(seconds)
            await response.write(b"]}")
            return response

        return self.serve(path, handler)

    def oversized(self, path: str, size: int, *, declare_length: bool = True) -> str:
        body = json.dumps({"keys": [], "padding": "x" * size}).encode()

        async def handler(request: web.Request) -> web.StreamResponse:
            if declare_length:
                return web.Response(body=body, content_type="application/json")
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(body), 8192):
                await response.write(body[start : start + 8192])
            return response

        return self.serve(path, handler)

    def gzip_bomb(self, path: str, size: int) -> str:
        body = gzip.compress(b" " * size)

        async def handler(_: web.Request) -> web.StreamResponse:
            return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

        return self.serve(path, handler)

    def gzipped(self, path: str, document: Any) -> str:
        body = gzip.compress(json.dumps(document).encode())

        async def handler(_: web.Request) -> web.StreamResponse:
            return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

        return self.serve(path, handler)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        async def handler(_: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        return self.serve(path, handler)

    def text(self, path: str, body: str, status: int = 200) -> str:
        async def handler(_: web.Request) -> web.StreamResponse:
            return web.Response(status=status, text=body, content_type="application/json")

        return self.serve(path, handler)


class Answers(AbstractResolver):
    """A name server double: the n-th lookup gets the n-th answer (the last one repeats)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append(host)
        addresses = self.answers[min(len(self.calls), len(self.answers)) - 1]
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass


@contextmanager
def server_in_thread() -> Iterator[KeyServer]:
    """A KeyServer on its own event loop in a thread, for synchronous callers (the command line)."""
    loop = asyncio.new_event_loop()
    server = KeyServer()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
