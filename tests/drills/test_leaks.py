"""Issue 14, the leak hunt: commands, messages and mentions holding tokens with real signatures (a token
wrapped over two lines inside an error line, ``service=<token>``, ``require=<token>``, ``aud=<token>``,
``iss=``/``alg=``/``leeway=<token>``, an ``Authorization`` header, a private command), through two
replicas; then every Web API payload Slack received, every key and value in Redis (while the first answers
wait on a slow Web API, and at the end), every log line of every replica (JSON, at DEBUG) and ``/metrics``
are searched: no 12-character piece of any signature may
appear anywhere.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from tests.drills.harness import Drill, expired_token, haystacks, leaks, signature
from tests.drills.scenario import run

pytestmark = pytest.mark.drills


def _wrapped_error_line(token: str) -> str:
    """An error line whose token a terminal (or a log shipper) wrapped in the middle of its signature."""
    head, _, sig = token.rpartition(".")
    cut = len(sig) // 2
    return (
        f"2026-12-03T10:15:02.114Z ERROR orders-api auth: jwt.exceptions.InvalidSignatureError: "
        f"Signature verification failed token={head}.{sig[:cut]}\n{sig[cut:]} request_id=7f3a"
    )


def _tail_then_error(token: str) -> str:
    """The wrapped tail of the signature starts the line that holds the error message."""
    head, _, sig = token.rpartition(".")
    return f"auth middleware rejected token={head}.{sig[:10]}\n{sig[10:]}: jwt expired (TokenExpiredError)"


def _hard_wrapped(token: str, width: int = 76) -> str:
    """A log line with the token, hard-wrapped every ``width`` characters as a terminal copy gives it."""
    line = f'level=error msg="IDX10223: Lifetime validation failed. The token is expired." token={token} trace=9c1'
    return "\n".join(line[i : i + width] for i in range(0, len(line), width))


@dataclass
class Hunt:
    signatures: dict[str, str]  # what the token was in the text → its signature
    found: list[str]
    places: dict[str, int]  # how many characters of each haystack were searched
    posted: int


async def _scenario(drill: Drill) -> Hunt:
    replicas = [await drill.start_replica(), await drill.start_replica()]
    roles = [
        "a bare token",
        "a token wrapped over two lines in an error line",
        "the token before service=",
        "service=<token>",
        "the token before require=",
        "require=<token>",
        "the token before aud=",
        "aud=<token>",
        "the token before iss=",
        "iss=<token>",
        "alg=<token>",
        "leeway=<token>",
        "a wrapped tail that starts the error line",
        "a token hard-wrapped at 76 columns in a log line",
    ]
    tokens = [expired_token(300_000 + n, aud=f"api-{n}") for n in range(len(roles))]
    texts = [
        tokens[0],
        _wrapped_error_line(tokens[1]),
        f"{tokens[2]} service={tokens[3]}",
        f"{tokens[4]} require={tokens[5]}",
        f"{tokens[6]} aud={tokens[7]}",
        f"{tokens[8]} iss={tokens[9]} alg={tokens[10]} leeway={tokens[11]}",
        f"curl -H 'Authorization: Bearer {tokens[0]}' https://orders.acme.test/v1/orders",
        f"service={tokens[3]}",
        f"require={tokens[5]} aud={tokens[7]}",
        _tail_then_error(tokens[12]),
        _hard_wrapped(tokens[13]),
    ]
    sends = []
    for index, text in enumerate(texts):
        replica = replicas[index % 2]
        sends.append(drill.command(replica, text))
        sends.append(drill.command(replicas[1 - index % 2], f"{text} private"))
        sends.append(drill.message(replica, f"the gateway logged this:\n{text}"))
        sends.append(drill.message(replicas[1 - index % 2], f"<@UBOT00001> why? {text}", mention=True))
    drill.slack.slow(3, seconds=2)  # the first answers wait: Redis holds them while they do
    acks = await asyncio.gather(*sends)
    assert all(ack.acked for ack in acks), [ack for ack in acks if not ack.acked]
    await asyncio.sleep(1)
    pending = await drill.redis.everything()
    await _quiet(drill, 5.0, deadline=40)  # some answers are refusals (ephemeral), not summaries and cards
    places = await haystacks(drill)
    places["Redis, answers under way"] = pending
    signatures = {role: signature(token) for role, token in zip(roles, tokens, strict=True)}
    return Hunt(signatures, leaks(signatures, places), {k: len(v) for k, v in places.items()}, len(drill.slack.calls))


async def _quiet(drill: Drill, seconds: float, *, deadline: float) -> None:
    ends = time.monotonic() + deadline
    while time.monotonic() < ends:
        last = max((call.received_at for call in drill.slack.calls), default=0.0)
        if time.monotonic() - last >= seconds:
            return
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
def hunt() -> Hunt:
    return run(_scenario)


def test_the_hunt_searched_everything(hunt: Hunt) -> None:
    assert all(size > 0 for size in hunt.places.values()), hunt.places
    assert hunt.posted > 0


def test_no_piece_of_any_signature_leaks_anywhere(hunt: Hunt) -> None:
    assert hunt.found == [], f"{len(hunt.found)} leak(s):\n" + "\n".join(hunt.found)
