"""The front door of ``/slack/events``: nothing reaches Bolt before its signature is checked on the raw bytes.

Bolt parses a body before it checks the signature, and logs a refused body whole: unsigned megabyte
forms cost the event loop ~425 ms each and starved the acks (issue 14). Here a request is refused, in
this order and each time with one short log line (reason and size, never a body or a header value):

- 413 when it declares more than ``MAX_BODY`` bytes (before reading); 400 when it is compressed or
  repeats a signing or Content-Type header;
- 401 when its signing headers are missing, its timestamp is not a number or is stale, or the
  signature is not ``v0=`` and 64 hex digits (all before reading);
- 413 when more than ``MAX_BODY`` bytes arrive, 408 when the body takes longer than ``BODY_TIMEOUT``;
- 401 when the HMAC does not match (compared in constant time);
- 400 when the verified body is something Bolt cannot parse: not UTF-8, another content type, too many
  form fields, JSON nested too deep, or anything else ``AsyncBoltRequest`` chokes on.

``make_runner`` builds the aiohttp runner of the bot's site: it closes connections whose request headers
do not arrive within ``HEADER_TIMEOUT`` (slow loris), which aiohttp has no setting for.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server
from slack_bolt.request.async_request import AsyncBoltRequest

log = logging.getLogger(__name__)

# The biggest bodies Slack sends carry whole messages: a message event holds its text (at most 40,000
# characters) twice, as `text` and as rich_text blocks; a message_changed event holds the message and its
# previous version, so four times; a block_actions payload holds the clicked message and its blocks,
# form-encoded. Slack escapes non-ASCII as \uXXXX (6 bytes a character): 4 x 40,000 x 6 = 960,000 bytes,
# plus the envelope. A body over the limit is refused unread (Content-Length) or as soon as it passes it.
MAX_BODY = 1024 * 1024
# Slack's deepest payloads (rich text inside a message inside a block_actions payload) nest about 10 deep.
MAX_DEPTH = 64
# A slash command has about 15 form fields, an interactive payload one (`payload`).
MAX_FIELDS = 100
# Slack wants an answer within 3 s: a request whose headers or body take longer is not Slack's.
HEADER_TIMEOUT = 5.0
BODY_TIMEOUT = 5.0
# Above Heroku Router 2.0's 90 s (and AWS ALB's 60 s) idle timeouts, so that the proxy, not the bot,
# closes an idle kept-alive connection (otherwise a request sent as it closes fails).
KEEPALIVE_TIMEOUT = 95.0
# How long to drain a body left unread by a refusal so that the client sees the answer (aiohttp: 10 s).
LINGERING_TIME = 2.0
SIGNATURE_WINDOW = 300  # seconds, Slack's replay window

_ANSWERS = {
    400: "malformed request",
    401: "invalid request signature",
    408: "request body too slow",
    413: "request body too large",
}
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# A JSON string, or an unterminated one to the end of the text: always matches from an opening quote,
# so stripping strings stays linear on hostile input.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SINGLE_HEADERS = ("X-Slack-Request-Timestamp", "X-Slack-Signature", "Content-Type")


class Refused(Exception):
    """A request refused before Bolt: ``status``, and a ``reason`` safe to log (no request content)."""

    def __init__(self, status: int, reason: str, size: int | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.size = status, reason, size


class Verifier:
    """Slack's v0 signature over the raw bytes: ``v0=`` + hex HMAC-SHA256(secret, ``v0:{ts}:{body}``).

    slack_sdk's ``SignatureVerifier`` does not fit the front door: it decodes the body as UTF-8 before
    hashing (a non-UTF-8 body raises instead of failing verification), ``int()``s the timestamp (raising
    on junk, accepting ``" 1_700 "``) and compares ``str`` (raising on a non-ASCII header). The tests sign
    with it, which proves the two agree.
    """

    def __init__(self, signing_secret: str | None, clock: Callable[[], float] = time.time) -> None:
        self._key = (signing_secret or "").encode()
        self._clock = clock

    def check_headers(self, timestamp: str | None, signature: str | None) -> None:
        """What can be refused before the body is read."""
        if not self._key:
            raise Refused(401, "no signing secret configured")
        if timestamp is None or signature is None:
            raise Refused(401, "missing signature headers")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Refused(401, "timestamp is not a number")
        if abs(self._clock() - int(timestamp)) > SIGNATURE_WINDOW:
            raise Refused(401, "stale timestamp")
        if not _SIGNATURE.fullmatch(signature):
            raise Refused(401, "malformed signature")

    def check(self, timestamp: str | None, signature: str | None, body: bytes) -> None:
        self.check_headers(timestamp, signature)
        assert timestamp is not None and signature is not None
        expected = hmac.new(self._key, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature[3:].encode()):
            raise Refused(401, "signature mismatch", len(body))


def json_depth(text: str) -> int:
    """How deep the JSON text nests (brackets inside strings do not count), without parsing it."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def check_shape(text: str, content_type: str | None) -> None:
    """Refuse, cheaply, what would make Bolt's ``parse_body`` costly or crash; mirrors its choice of parser."""
    if content_type == "application/json" or text.startswith("{"):
        payload: str | None = text
    else:
        if text.count("&") >= MAX_FIELDS:
            raise Refused(400, "too many form fields", len(text))
        payload = None
        if "payload" in text:
            try:
                payload = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)).get("payload")
            except ValueError as problem:
                raise Refused(400, f"unreadable form ({type(problem).__name__})", len(text)) from None
    if payload is not None and json_depth(payload) > MAX_DEPTH:
        raise Refused(400, "JSON nested too deep", len(text))


class Ingress:
    """Admits a request to Bolt only when it is Slack's, well-formed and small: ``admit`` returns the
    ``AsyncBoltRequest``, or the short plain answer of a refusal (already logged)."""

    def __init__(self, signing_secret: str | None, clock: Callable[[], float] = time.time) -> None:
        self.verifier = Verifier(signing_secret, clock)

    async def admit(self, request: web.Request) -> AsyncBoltRequest | web.Response:
        try:
            return await self._admit(request)
        except Refused as refusal:
            size = refusal.size if refusal.size is not None else request.content_length
            log.warning(
                "refused a Slack request: %d %s (%s)",
                refusal.status,
                refusal.reason,
                "size unknown" if size is None else f"{size} bytes",
            )
            response = web.Response(status=refusal.status, text=_ANSWERS[refusal.status])
            if refusal.status in (408, 413):
                response.force_close()  # the rest of the body is not worth waiting for
            return response

    async def _admit(self, request: web.Request) -> AsyncBoltRequest:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise Refused(413, f"body over {MAX_BODY} bytes (Content-Length)")
        if request.headers.get("Content-Encoding", "identity").lower() != "identity":
            raise Refused(400, "compressed body")
        headers = request.headers
        if any(len(headers.getall(name, ())) > 1 for name in _SINGLE_HEADERS):
            raise Refused(400, "repeated signature or content-type header")
        timestamp, signature = headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")
        self.verifier.check_headers(timestamp, signature)
        body = await read_body(request)
        self.verifier.check(timestamp, signature, body)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "body is not UTF-8", len(body)) from None
        # Bolt picks its parser from the header as sent (before any ";"), not aiohttp's normalised type.
        content_type = (headers.get("Content-Type") or "").split(";")[0] or None
        if request.content_type not in ("application/json", "application/x-www-form-urlencoded"):
            raise Refused(400, "neither JSON nor a form", len(body))
        check_shape(text, content_type)
        try:
            return AsyncBoltRequest(body=text, query=request.query_string, headers=headers)  # type: ignore[arg-type]
        except Exception as problem:  # RecursionError included: whatever Bolt's parser raises is the sender's
            raise Refused(400, f"body Bolt cannot parse ({type(problem).__name__})", len(body)) from None


async def read_body(request: web.Request) -> bytes:
    """The raw body, at most ``MAX_BODY`` bytes, within ``BODY_TIMEOUT``; with or without Content-Length."""
    body = bytearray()
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while chunk := await request.content.readany():
                body += chunk
                if len(body) > MAX_BODY:
                    raise Refused(413, f"body over {MAX_BODY} bytes", len(body))
    except TimeoutError:
        raise Refused(408, f"body not received within {BODY_TIMEOUT:g} s", len(body)) from None
    return bytes(body)


class _GuardedHandler(RequestHandler):
    """aiohttp's connection protocol with a deadline on request headers, and one short line per bad request.

    The deadline runs from the connection's opening for its first request, and from the first byte of
    each later one (an idle kept-alive connection is left to ``keepalive_timeout``); it ends when the
    request's headers are parsed. aiohttp counts a request once its headers are parsed
    (``_request_count``), which is what ``data_received`` watches.
    """

    __slots__ = ("_header_deadline", "_header_timeout", "_last_payload")

    def __init__(self, manager: Server, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._header_deadline: asyncio.TimerHandle | None = None
        self._last_payload: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        self._last_payload = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        requests = self._request_count
        super().data_received(data)
        if self._request_count != requests:
            self._disarm()
            self._last_payload = self._messages[-1][1] if self._messages else None
        elif data and self._header_deadline is None and (self._last_payload is None or self._last_payload.is_eof()):
            self._arm()  # the first bytes of the next request on a kept-alive connection

    def _arm(self) -> None:
        self._header_deadline = self._loop.call_later(self._header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self._request_in_progress:  # a pipelined request waits behind this one: judge it once it is done
            self._arm()
            return
        log.warning("refused a connection: request headers not complete within %g s", self._header_timeout)
        self.force_close()

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        # aiohttp logs a malformed request with a traceback and its message, which may quote the request.
        level = logging.DEBUG if isinstance(exc, BadHttpMethod) else logging.WARNING  # TLS or scans on this port
        log.log(level, "refused a malformed HTTP request: %d %s", status, type(exc).__name__ if exc else "")
        if request.writer.output_size > 0:
            raise ConnectionError("response already started")
        response = web.Response(status=status, text=_ANSWERS.get(status, "bad request"))
        response.force_close()
        return response


class _GuardedServer(Server):
    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout

    def __call__(self) -> RequestHandler:
        return _GuardedHandler(self, loop=self._loop, header_timeout=self._header_timeout, **self._kwargs)


class _GuardedRunner(web.AppRunner):
    def __init__(self, app: web.Application, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._header_timeout = header_timeout

    async def _make_server(self) -> Server:
        plain = await super()._make_server()
        return _GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=asyncio.get_running_loop(),
            header_timeout=self._header_timeout,
            **plain._kwargs,
        )


def make_runner(app: web.Application, *, header_timeout: float | None = None) -> web.AppRunner:
    """The runner of the bot's site (``web.TCPSite(make_runner(app), …)`` after ``setup()``): the header
    deadline, a keep-alive timeout above the proxies', no decompression (a small gzip body would be
    inflated as it arrives, before any handler could refuse it), a short lingering close, no access log."""
    return _GuardedRunner(
        app,
        header_timeout=HEADER_TIMEOUT if header_timeout is None else header_timeout,
        access_log=None,
        keepalive_timeout=KEEPALIVE_TIMEOUT,
        lingering_time=LINGERING_TIME,
        auto_decompress=False,
    )
