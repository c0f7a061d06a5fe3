"""Issue 14, a bounded fuzz of the whole Slack path: seeded hostile inputs sent as commands, message and
mention events, and button clicks, signed as Slack signs them, to two replicas.

The inputs: Slack's special mentions (``<!channel>``, ``<!here>``) and mrkdwn in claims, 10^300 numbers,
20,000-deep JSON (in a token and in the request body), megabyte messages, bytes that are no UTF-8,
control and bidi characters, garbage payloads. Every request must get an answer status that is not a 5xx,
within 3 s; the replicas stay up and healthy; and no piece of any real signature leaks anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest

from tests.drills.harness import ACK_LIMIT, Ack, Drill, Replica, expired_token, haystacks, leaks, signature
from tests.drills.scenario import run
from tests.support import slack_requests
from tests.support.tokens import SECRET, claims, make_token

pytestmark = pytest.mark.drills

SEED = 14
REQUESTS = 48
SEND_OVER = 8.0
DEEP = 20_000


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed_raw(header: str, payload: str) -> str:
    """A token over any header and payload text, with a real HS256 signature (PyJWT cannot make these)."""
    signing_input = f"{_b64(header.encode())}.{_b64(payload.encode('utf-8', 'surrogatepass'))}"
    digest = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(digest)}"


@dataclass
class Corpus:
    """Hostile texts, each holding a token with a real signature (kept for the leak hunt)."""

    rng: random.Random
    tokens: list[str] = field(default_factory=list)

    def token(self) -> tuple[str, str]:
        """(what it is, a token with a real signature)."""
        n = len(self.tokens)
        shapes: list[tuple[str, Callable[[], str]]] = [
            (
                "<!channel> in claims",
                lambda: make_token(claims(sub="<!channel>", aud="<!here|here>", iss="<https://x.test|y>")),
            ),
            ("mrkdwn in claims", lambda: make_token(claims(sub="*b* _i_ ~s~ `c` ```b``` &lt;&gt;&amp;", jti=str(n)))),
            ("10^300 times", lambda: make_token(claims(exp=10**300, iat=-(10**300), nbf=10**300, jti=str(n)))),
            ("1e300-digit exp", lambda: signed_raw('{"alg":"HS256"}', '{"exp": 1' + "0" * 300 + ', "iat": 1e999}')),
            ("20,000-deep payload", lambda: signed_raw('{"alg":"HS256"}', "[" * DEEP + "]" * DEEP)),
            ("20,000-deep header", lambda: signed_raw('{"alg":"HS256","kid":' + "[" * DEEP + "]" * DEEP + "}", "{}")),
            ("control characters in claims", lambda: make_token(claims(sub=_CONTROL, jti=str(n)))),
            ("a lone surrogate", lambda: signed_raw('{"alg":"HS256"}', '{"sub": "\\ud800", "exp": "soon"}')),
            ("50 <!channel> audiences", lambda: expired_token(400_000 + n, aud=["<!channel>"] * 50)),
        ]
        name, make = self.rng.choice(shapes)
        token = make()
        self.tokens.append(token)
        return name, token

    def text(self) -> tuple[str, str]:
        """(what it is, a hostile text holding a token)."""
        name, token = self.token()
        shapes: list[tuple[str, Callable[[], str]]] = [
            ("alone", lambda: token),
            ("with <!channel> options", lambda: f"<!channel> {token} aud=<!here> iss=<@U123|boss>"),
            ("in 700 KB", lambda: f"{token} " + "x" * 700_000),  # big, under the 1 MiB limit
            ("in 1.1 MB", lambda: f"{token} " + "y" * 1_100_000),  # over the limit
            ("among control characters", lambda: "\x00\x01\x1b[31m" + token + "\x7f\u202e" + "\r\n" * 500),
            ("in 200 Authorization lines", lambda: f"Authorization: Bearer {token}\n" * 200),
            ("with absurd options", lambda: f"{token} require={'a' * 5000} leeway=1e308 leeway=-1 aud= iss"),
            ("before 4,000 digits", lambda: f"{token} {'1' * 4000}"),
        ]
        shape, make = self.rng.choice(shapes)
        return f"{name}, {shape}", make()


_CONTROL = "".join(chr(c) for c in range(32)) + "\u202e\u200b\ufeff\u2028"


async def _send_one(drill: Drill, corpus: Corpus, replica: Replica, index: int) -> Ack:
    rng = corpus.rng
    kind = ("command", "message", "mention", "click", "raw")[index % 5]
    if kind in {"command", "message", "mention"}:
        note, text = corpus.text()
        if kind == "command":
            ack = await drill.command(replica, text)
        else:
            ack = await drill.message(replica, text, mention=kind == "mention")
        ack.note = note
        return ack
    _, token = corpus.token()
    if kind == "click":
        value = rng.choice(
            [token, "c" * 10_000, "card:../../etc/passwd:pyjwt", "\x00" * 10, json.dumps({"id": token}), "[" * 5000]
        )
        action = rng.choice(["jwtcheck_show_fix", "jwtcheck_vote", "jwtcheck_vote:fixed", "jwtcheck_show_fix:x"])
        ack = await drill.click(replica, action, value)
        ack.note = f"{action} {value[:30]!r}"
        return ack
    form = "application/x-www-form-urlencoded"
    not_utf8_event = slack_requests.event(slack_requests.message("x", ts="1.000001"), f"EvRAW{index}")
    bodies: list[tuple[str, bytes, str]] = [
        ("a form that is no UTF-8", b"text=\xff\xfe" + token.encode() + b"\xc3\x28&command=%2Fjwtcheck", form),
        (
            "an event that is no UTF-8",
            not_utf8_event.replace('"x"', '"\xff\xfe"', 1).encode("latin-1"),
            "application/json",
        ),
        ("a 20,000-deep event", _deep_event(token), "application/json"),
        ("a payload that is no JSON", urlencode({"payload": "{not json " + token}).encode(), form),
        ("a 20,000-deep payload", urlencode({"payload": "[" * DEEP + "]" * DEEP}).encode(), form),
        (
            "a url_verification",
            json.dumps({"type": "url_verification", "challenge": token * 100}).encode(),
            "application/json",
        ),
        ("1000 NUL bytes", b"\x00" * 1000, "application/octet-stream"),
    ]
    note, body, content_type = rng.choice(bodies)
    ack = await drill.post(replica, body, content_type, kind="raw", channel=f"RAW{index}")
    ack.note = note
    return ack


def _deep_event(token: str) -> bytes:
    inner = slack_requests.message(token, ts=f"{int(time.time())}.999999", channel="CDEEP")
    text = slack_requests.event(inner, "EvDEEP")
    return (text[:-1] + ', "deep": ' + "[" * DEEP + "]" * DEEP + "}").encode()


@dataclass
class Fuzz:
    acks: list[Ack]
    healthy: list[str]
    found: list[str]


async def _scenario(drill: Drill) -> Fuzz:
    replicas = [await drill.start_replica(), await drill.start_replica()]
    corpus = Corpus(random.Random(SEED))
    acks: list[Ack] = []
    pause = SEND_OVER / REQUESTS
    tasks = []
    for index in range(REQUESTS):
        tasks.append(asyncio.create_task(_send_one(drill, corpus, replicas[index % 2], index)))
        await asyncio.sleep(pause)
    acks = list(await asyncio.gather(*tasks))
    await asyncio.sleep(3)  # the answers' work
    healthy = []
    for replica in replicas:
        status, body = await drill.get(replica, "/healthz")
        healthy.append(f"{replica.name}: running={replica.running()} healthz={status} {body[:120]}")
    signatures = {f"fuzz token {n}": signature(token) for n, token in enumerate(corpus.tokens)}
    found = leaks(signatures, await haystacks(drill))
    return Fuzz(acks, healthy, found)


@pytest.fixture(scope="module")
def fuzz() -> Fuzz:
    return run(_scenario)


def test_every_request_gets_an_answer_status_and_never_a_5xx(fuzz: Fuzz) -> None:
    bad = [
        f"{ack.kind} {ack.note or ack.channel}: {ack.status or ack.error}"
        for ack in fuzz.acks
        if ack.status is None or ack.status >= 500
    ]
    assert bad == [], bad


def test_every_answer_comes_within_3_s(fuzz: Fuzz) -> None:
    slow = [
        f"{ack.kind} {ack.note or ack.channel}: {ack.latency:.2f} s" for ack in fuzz.acks if ack.latency >= ACK_LIMIT
    ]
    assert slow == [], slow


def test_the_replicas_stay_up_and_healthy(fuzz: Fuzz) -> None:
    assert all("running=True healthz=200" in line for line in fuzz.healthy), fuzz.healthy


def test_no_piece_of_any_signature_leaks(fuzz: Fuzz) -> None:
    assert fuzz.found == [], f"{len(fuzz.found)} leak(s):\n" + "\n".join(fuzz.found)
