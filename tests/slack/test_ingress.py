"""The front door of /slack/events (issue 14): signature on the raw bytes before any parsing, size and
shape limits, one short log line per refusal and never a body, and no connection held by a slow loris."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode, urlsplit

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.slack import ingress
from bot.slack.ingress import MAX_BODY, Refused, Verifier, check_shape, json_depth
from tests.slack.conftest import Bot, BotFactory
from tests.support import slack_requests
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import SIGNING_SECRET, message
from tests.support.tokens import claims, make_token, signature_of

TOKEN = make_token(claims(nbf=None))
SECRET_PART = signature_of(TOKEN)  # must never appear in a log
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign_bytes(body: bytes, *, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Slack's signature over raw bytes (slack_sdk's helper only signs text); agrees with it on text."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# ---------------------------------------------------------------------------------------------- unit


def test_the_verifier_agrees_with_slack_sdk_on_what_slack_signs() -> None:
    body = slack_requests.command(f"{TOKEN} aud=orders", "https://hooks.slack.test/r1")
    headers = slack_requests.signed(body, FORM)  # signed by slack_sdk's SignatureVerifier
    assert headers == {"Content-Type": FORM, **sign_bytes(body.encode())}
    Verifier(SIGNING_SECRET).check(headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], body.encode())


def test_the_verifier_hashes_bytes_so_a_non_utf8_body_verifies_instead_of_raising() -> None:
    body = b"text=\xff\xfe\xc3"
    with pytest.raises(UnicodeDecodeError):  # why slack_sdk's verifier is not used at the door
        SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp="1", body=body)
    headers = sign_bytes(body)
    Verifier(SIGNING_SECRET).check(headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], body)


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (None, "v0=" + "0" * 64, "missing signature headers"),
        ("NOW", None, "missing signature headers"),
        ("soon", "v0=" + "0" * 64, "timestamp is not a number"),
        (" 1795900000", "v0=" + "0" * 64, "timestamp is not a number"),
        ("1_795_900_000", "v0=" + "0" * 64, "timestamp is not a number"),
        ("١٧٩٥٩٠٠٠٠٠", "v0=" + "0" * 64, "timestamp is not a number"),  # int() would take these digits
        ("9" * 5000, "v0=" + "0" * 64, "timestamp is not a number"),
        ("STALE", "v0=" + "0" * 64, "stale timestamp"),
        ("NOW", "v1=" + "0" * 64, "malformed signature"),
        ("NOW", "v0=" + "é" * 64, "malformed signature"),  # compare_digest would raise on non-ASCII str
        ("NOW", "v0=" + "0" * 64, "signature mismatch"),
    ],
)
def test_the_verifier_refuses_with_401_and_a_reason(timestamp: str | None, signature: str | None, reason: str) -> None:
    now = int(time.time())
    stamp = {"NOW": str(now), "STALE": str(now - 301)}.get(timestamp or "", timestamp)
    with pytest.raises(Refused) as refused:
        Verifier(SIGNING_SECRET).check(stamp, signature, b"text=hello")
    assert (refused.value.status, refused.value.reason) == (401, reason)


def test_the_verifier_refuses_everything_without_a_secret() -> None:
    headers = sign_bytes(b"x", secret="")  # an empty key is a key anybody has
    with pytest.raises(Refused, match="no signing secret"):
        Verifier(None).check(headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], b"x")


def test_the_timestamp_window_is_five_minutes_either_way() -> None:
    body, now = b"x", 1_795_900_000.0
    for offset in (-300, 300):
        headers = sign_bytes(body, timestamp=int(now) + offset)
        Verifier(SIGNING_SECRET, clock=lambda: now).check(
            headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], body
        )


def test_json_depth_ignores_brackets_in_strings_and_is_linear_on_hostile_text() -> None:
    assert json_depth('{"a": [1, {"b": "]]]}}}[[[["}], "c": "\\"["}') == 3
    assert json_depth(nested(20_000)) == 20_000
    assert json_depth('"\\"' * 100_000) == 0  # one unterminated string: no quadratic rescans
    assert json_depth("") == 0


def test_the_shape_check_mirrors_bolts_choice_of_parser() -> None:
    check_shape(slack_requests.command(TOKEN, "https://hooks.slack.test/r1"), FORM)
    check_shape(slack_requests.block_action("a", "v", response_url="https://hooks.slack.test/r1"), FORM)
    for text, content_type in [
        (nested(20_000), JSON),
        ('{"x": ' + nested(65) + "}", FORM),  # Bolt parses a body starting with { as JSON, whatever its type
        (urlencode({"payload": nested(20_000)}), FORM),
    ]:
        with pytest.raises(Refused, match="nested too deep"):
            check_shape(text, content_type)
    with pytest.raises(Refused, match="too many form fields"):
        check_shape("&".join(f"f{n}=1" for n in range(90_000)), FORM)


# ---------------------------------------------------------------------------------------------- HTTP


async def post(bot: Bot, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with bot.session.post(f"{bot.url}/slack/events", data=body, headers=headers) as response:
        return response.status, await response.text()


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every record but the Redis client's own chatter (it connects when it likes)."""
    return [record.getMessage() for record in caplog.records if not record.name.startswith("redis")]


def assert_nothing_of_the_body_logged(caplog: pytest.LogCaptureFixture, *fragments: str) -> None:
    logged = "".join(
        record.getMessage() + str(record.exc_info or "") + str(record.exc_text or "") for record in caplog.records
    )
    for fragment in (SECRET_PART, *fragments):
        assert fragment not in logged


@pytest.fixture
def quiet(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("unsigned", 401, "missing signature headers"),
        ("wrong secret", 401, "signature mismatch"),
        ("stale", 401, "stale timestamp"),
        ("non-numeric timestamp", 401, "timestamp is not a number"),
        ("signature header missing", 401, "missing signature headers"),
        ("timestamp header missing", 401, "missing signature headers"),
        ("garbage signature", 401, "malformed signature"),
    ],
)
async def test_a_request_not_signed_by_slack_gets_401_and_one_line(
    bot: Bot, slack: MockSlack, quiet: pytest.LogCaptureFixture, case: str, status: int, reason: str
) -> None:
    body = slack_requests.event(message(f"look {TOKEN}", ts="1795899990.000100"), "EvForged").encode()
    headers = {"Content-Type": JSON, **sign_bytes(body)}
    if case == "unsigned":
        headers = {"Content-Type": JSON}
    elif case == "wrong secret":
        headers.update(sign_bytes(body, secret="not-the-secret"))
    elif case == "stale":
        headers.update(sign_bytes(body, timestamp=int(time.time()) - 600))
    elif case == "non-numeric timestamp":
        headers["X-Slack-Request-Timestamp"] = "yesterday"
    elif case == "signature header missing":
        del headers["X-Slack-Signature"]
    elif case == "timestamp header missing":
        del headers["X-Slack-Request-Timestamp"]
    elif case == "garbage signature":
        headers["X-Slack-Signature"] = "v0=" + SECRET_PART
    quiet.clear()
    assert await post(bot, body, headers) == (status, "invalid request signature")
    await bot.settle()
    assert slack.of("chat.postMessage") == []
    lines = refusal_lines(quiet)
    assert lines == [f"refused a Slack request: {status} {reason} ({len(body)} bytes)"]
    assert_nothing_of_the_body_logged(quiet, headers.get("X-Slack-Signature", "v0=")[3:] or "never")


async def test_a_body_over_the_limit_is_refused_by_its_content_length_before_it_is_read(
    bot: Bot, quiet: pytest.LogCaptureFixture
) -> None:
    reader, writer = await connect(bot)
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000\r\n\r\n"
    )  # and no body at all: the answer cannot have waited for it
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in head
    writer.close()
    assert refusal_lines(quiet) == [
        f"refused a Slack request: 413 body over {MAX_BODY} bytes (Content-Length) (1000000000 bytes)"
    ]


async def test_an_unsigned_megabyte_is_refused_with_413_and_one_line(bot: Bot, quiet: pytest.LogCaptureFixture) -> None:
    body = urlencode({f"f{n}": TOKEN for n in range(6000)}).encode()
    assert len(body) > MAX_BODY
    quiet.clear()
    assert await post(bot, body, {"Content-Type": FORM}) == (413, "request body too large")
    assert len(refusal_lines(quiet)) == 1
    assert_nothing_of_the_body_logged(quiet)


async def test_a_chunked_body_without_content_length_is_cut_at_the_limit(
    bot: Bot, quiet: pytest.LogCaptureFixture
) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 20 * MAX_BODY:
            sent += 64 * 1024
            yield b"a" * (64 * 1024)

    # Well-formed signing headers (of another body): the size is judged while reading, before the HMAC.
    headers = {"Content-Type": FORM, **sign_bytes(b"text=hi")}
    status, text = await post(bot, endless(), headers)  # type: ignore[arg-type]
    assert (status, text) == (413, "request body too large")
    assert sent < 20 * MAX_BODY  # the client was stopped long before the end of its body
    [line] = refusal_lines(quiet)
    assert line.startswith(f"refused a Slack request: 413 body over {MAX_BODY} bytes (")


async def test_a_compressed_body_is_refused(bot: Bot, quiet: pytest.LogCaptureFixture) -> None:
    body = gzip.compress(b"text=" + b"a" * 10_000_000)  # 10 MB once inflated
    headers = {"Content-Type": FORM, "Content-Encoding": "gzip", **sign_bytes(body)}
    assert await post(bot, body, headers) == (400, "malformed request")
    assert refusal_lines(quiet) == [f"refused a Slack request: 400 compressed body ({len(body)} bytes)"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("non-UTF-8", "body is not UTF-8"),
        ("20,000-deep JSON payload", "JSON nested too deep"),
        ("20,000-deep JSON event", "JSON nested too deep"),
        ("90,000 fields", "too many form fields"),
        ("malformed JSON", "body Bolt cannot parse (JSONDecodeError)"),
        ("a JSON list", "body Bolt cannot parse (AttributeError)"),
        ("a payload that is a string", "body Bolt cannot parse (AttributeError)"),
        ("another content type", "neither JSON nor a form"),
    ],
)
async def test_a_signed_body_bolt_cannot_parse_is_400_with_one_line_never_500(
    bot: Bot, quiet: pytest.LogCaptureFixture, case: str, reason: str
) -> None:
    content_type = FORM
    if case == "non-UTF-8":
        body = f"text={TOKEN}".encode() + b"\xff\xfe&command=%2Fjwtcheck"
    elif case == "20,000-deep JSON payload":
        body = urlencode({"payload": '{"type": "block_actions", "x": ' + nested(20_000) + "}"}).encode()
    elif case == "20,000-deep JSON event":
        body, content_type = ('{"type": "event_callback", "event": ' + nested(20_000) + "}").encode(), JSON
    elif case == "90,000 fields":
        body = ("&".join(["f=1"] * 90_000) + f"&text={TOKEN}").encode()
        assert len(body) < MAX_BODY
    elif case == "malformed JSON":
        body, content_type = ('{"type": "event_callback", "text": "' + TOKEN).encode(), JSON
    elif case == "a JSON list":
        body, content_type = json.dumps([TOKEN]).encode(), JSON
    elif case == "a payload that is a string":
        body = urlencode({"payload": json.dumps(TOKEN)}).encode()
    else:
        body, content_type = TOKEN.encode(), "text/plain"
    quiet.clear()
    assert await post(bot, body, {"Content-Type": content_type, **sign_bytes(body)}) == (400, "malformed request")
    assert refusal_lines(quiet) == [f"refused a Slack request: 400 {reason} ({len(body)} bytes)"]
    assert_nothing_of_the_body_logged(quiet)


async def test_90000_unsigned_fields_cost_one_401_and_one_line(bot: Bot, quiet: pytest.LogCaptureFixture) -> None:
    body = ("&".join(["f=1"] * 90_000) + f"&text={TOKEN}").encode()
    quiet.clear()
    assert await post(bot, body, {"Content-Type": FORM}) == (401, "invalid request signature")
    assert refusal_lines(quiet) == [f"refused a Slack request: 401 missing signature headers ({len(body)} bytes)"]
    assert_nothing_of_the_body_logged(quiet)


async def test_signed_requests_still_reach_bolt(bot: Bot, slack: MockSlack) -> None:
    challenge = json.dumps({"token": "deprecated", "challenge": "c-123", "type": "url_verification"})
    reply = await bot.post(challenge, JSON)
    assert (reply.status, json.loads(reply.text)) == (200, {"challenge": "c-123"})
    assert (await bot.command(TOKEN)).status == 200
    assert (await bot.event(message(TOKEN, ts="1795899990.000100"), "Ev1")).status == 200
    await bot.settle()
    assert slack.of("chat.postMessage")  # the listeners ran


async def test_a_body_that_does_not_arrive_in_time_gets_408(
    bot: Bot, quiet: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingress, "BODY_TIMEOUT", 0.3)
    reader, writer = await connect(bot)
    signing = sign_bytes(b"text=hi")
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in signing.items()).encode()
        + b"Content-Length: 100\r\n\r\ntext=h"
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 408 ")
    assert await asyncio.wait_for(reader.read(), 10) == b"request body too slow"  # then the server hangs up
    writer.close()
    assert refusal_lines(quiet) == ["refused a Slack request: 408 body not received within 0.3 s (6 bytes)"]


async def test_malformed_http_is_a_400_and_one_line_without_its_content(
    bot: Bot, quiet: pytest.LogCaptureFixture
) -> None:
    reader, writer = await connect(bot)
    writer.write(f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: {SECRET_PART}\r\n\r\n".encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    assert await asyncio.wait_for(reader.read(), 10) == b"malformed request"  # and the connection is closed
    writer.close()
    [line] = refusal_lines(quiet)
    assert line.startswith("refused a malformed HTTP request: 400 ")
    assert_nothing_of_the_body_logged(quiet)


# ---------------------------------------------------------------------------------------------- slow loris


async def connect(bot: Bot) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", urlsplit(bot.url).port)


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True once the server hangs up without an answer (the guard is a deadline, not this wait)."""
    return await asyncio.wait_for(reader.read(), 20) == b""


async def test_connections_whose_headers_never_complete_are_closed_while_slack_is_answered(
    make_bot: BotFactory, quiet: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingress, "HEADER_TIMEOUT", 0.5)
    bot = await make_bot()
    lorises = [await connect(bot) for _ in range(50)]
    for number, (_, writer) in enumerate(lorises):
        writer.write(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Slack-Sign" if number % 2 else b"POS")
        await writer.drain()
    silent = await connect(bot)  # sends nothing at all
    assert (await bot.command(TOKEN)).status == 200  # on its own connection, meanwhile
    assert all([await closed_by_server(reader) for reader, _ in [*lorises, silent]])
    assert (await bot.command(TOKEN)).status == 200
    for _, writer in [*lorises, silent]:
        writer.close()
    timeouts = [line for line in refusal_lines(quiet) if "request headers not complete" in line]
    assert len(timeouts) == 51


async def test_a_kept_alive_connection_may_idle_but_not_trickle_its_next_headers(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingress, "HEADER_TIMEOUT", 0.3)
    bot = await make_bot()
    reader, writer = await connect(bot)
    request = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n"
    for _ in range(2):
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200 ")
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
        await reader.readexactly(length)
        await asyncio.sleep(0.6)  # idle for twice the header deadline: still open (keep-alive is 95 s)
    writer.write(b"GET /healthz HTTP/1.1\r\nHo")  # the start of a third request, and no more
    assert await closed_by_server(reader)
    writer.close()


@pytest.mark.parametrize("split", [False, True])
async def test_a_broken_chunked_body_is_refused_without_a_traceback(
    bot: Bot, quiet: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, split: bool
) -> None:
    monkeypatch.setattr(ingress, "BODY_TIMEOUT", 0.3)
    reader, writer = await connect(bot)
    signing = sign_bytes(b"text=hi")
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in signing.items()).encode()
        + b"Transfer-Encoding: chunked\r\n\r\n4\r\ntext\r\n"
    )
    if split:  # the request is being read when its next chunk turns out to be garbage
        await writer.drain()
        await asyncio.sleep(0.1)
    writer.write(b"zz" + SECRET_PART.encode() + b"\r\n")
    answer = await asyncio.wait_for(reader.read(), 20)  # one answer, then the server hangs up
    writer.close()
    # aiohttp answers a bad chunk in the same read with 400; a later one stalls the body: 408 at the deadline.
    status, text = (408, "request body too slow") if split else (400, "malformed request")
    assert answer.split(b"\r\n")[0].split(b" ")[1] == str(status).encode() and answer.endswith(text.encode())
    assert len(refusal_lines(quiet)) == 1 and "Traceback" not in quiet.text
    assert_nothing_of_the_body_logged(quiet)
