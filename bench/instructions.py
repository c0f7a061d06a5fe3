"""Instructions per token (ours against PyJWT's decode) and per slash command, counted by callgrind.

Timings on a shared machine wander by a tenth from run to run, and more; instruction counts do not
(the same binary, inputs and environment give the same count), so a change to the per-token path or
to the bot's answer is measured here before it is timed. ``python -m bench.instructions`` (needs
``valgrind`` on PATH) runs each side with no work and with the work, and prints the difference per
token; then the bot (``python -m bot serve`` under callgrind, the mock Web API, Redis database 14)
with no command and with 300 commands sent one after the other, and prints it per command. The bot runs
with ``JWTCHECK_WORK=inline``, its work after each ack in the serving process: the whole answer in the
process callgrind starts, as counted before the worker process came. (Callgrind follows any child all
the same, ``--trace-children=yes``, and the counts of every process are summed: with the worker process
the serving process alone counts the ack, not the answer.)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
import time

import aiohttp

from bench.data import ALGORITHM, AUDIENCE, ISSUER, access_log
from bench.timing import process_env

TOKENS = 1000
ROUNDS = 2


def _work(side: str, rounds: int) -> None:
    """Judge the log's tokens ``rounds`` times (after a warm-up), as ``side`` does."""
    tokens = re.findall(r"eyJ[\w-]*\.[\w-]*\.[\w-]*", access_log(TOKENS))  # minted for this instant
    if side == "ours":
        from bot.diagnosis.model import Expectations
        from bot.knowledge import default_knowledge
        from bot.pipeline import diagnose_token

        expectations = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=(ALGORITHM,))
        knowledge = default_knowledge()
        # The instant the tokens were minted for: under callgrind a run takes minutes, and a clock read per
        # token would drift the skewed and near-expiry tokens into other judgements as it went.
        minted = time.time()

        def judge(token: str) -> None:
            diagnose_token(token, expectations, minted, knowledge=knowledge)
    else:
        import jwt

        from bench.baseline_pyjwt import OPTIONS

        def judge(token: str) -> None:
            with contextlib.suppress(jwt.PyJWTError):
                jwt.decode(token, options=OPTIONS, audience=AUDIENCE, issuer=ISSUER, algorithms=[ALGORITHM])

    for token in tokens[:50]:
        judge(token)
    for _ in range(rounds):
        for token in tokens:
            judge(token)


def _count(side: str, rounds: int) -> int:
    run = [sys.executable, "-m", "bench.instructions", "--run", side]
    subprocess.run([*run, "0"], check=True, env=process_env())  # bytecode cached first: compiling is not counted
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *run, str(rounds)],
        capture_output=True,
        text=True,
        check=True,
        env=process_env(),
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count: {result.stderr[-500:]}")
    return int(found.group(1))


def _bot_count(commands: int) -> int:
    """Instructions of the bot process from start to SIGTERM, having answered ``commands`` commands."""
    return asyncio.run(_bot_run(commands, callgrind=True))


async def _bot_run(commands: int, *, callgrind: bool) -> int:
    from bench import load
    from bench.data import token
    from tests.support import slack_requests

    await load._flush_redis()
    slack = load._MockSlack()
    try:
        counter = (
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "--trace-children=yes"]
            if callgrind
            else []
        )
        # the bot starts some fifty times slower under callgrind
        bot = await load._start(
            [*counter, sys.executable, "-m", "bot", "serve"],
            slack,
            stderr=subprocess.PIPE,
            seconds=300,
            extra_env={"JWTCHECK_WORK": "inline"},
        )
        try:
            tokens = [token(n, kind) for n, kind in enumerate(["valid", "expired", "audience", "skewed"] * 5)]
            async with aiohttp.ClientSession() as session:
                for index in range(commands):
                    body = slack_requests.command(tokens[index % len(tokens)], f"{bot.url}/unused", user="UBENCH001")
                    headers = slack_requests.signed(body, "application/x-www-form-urlencoded")
                    async with session.post(f"{bot.url}/slack/events", data=body.encode(), headers=headers) as response:
                        await response.read()
            if commands:
                await load._delivered(slack, expected=commands)
        finally:  # a bot left running under callgrind would slow every later measurement on this machine
            bot.process.terminate()
            _, err = bot.process.communicate(timeout=600)
    finally:
        slack.stop()
    if not callgrind:
        return 0
    counts = re.findall(r"Collected : (\d+)", err.decode(errors="replace"))  # the bot's, then its worker's
    if not counts:
        raise RuntimeError(f"callgrind printed no count: {err[-500:]!r}")
    return sum(int(count) for count in counts)


def main() -> int:
    if sys.argv[1:2] == ["--run"]:
        _work(sys.argv[2], int(sys.argv[3]))
        return 0
    if shutil.which("valgrind") is None:
        sys.stderr.write("bench.instructions needs valgrind (apt-get install valgrind)\n")
        return 2
    started = time.monotonic()
    per_token = {side: (_count(side, ROUNDS) - _count(side, 0)) / (ROUNDS * TOKENS) for side in ("ours", "pyjwt")}
    print(
        f"instructions per token: ours {per_token['ours']:,.0f}, PyJWT's decode {per_token['pyjwt']:,.0f}, "
        f"ratio {per_token['ours'] / per_token['pyjwt']:.2f}x ({time.monotonic() - started:.0f} s under callgrind)",
        flush=True,
    )
    started = time.monotonic()
    commands = 300
    asyncio.run(_bot_run(20, callgrind=False))  # bytecode of every module an answer needs, cached for both runs
    per_command = (_bot_count(commands) - _bot_count(0)) / commands
    print(
        f"instructions per slash command, the bot's whole answer: {per_command / 1e6:.2f}M "
        f"({time.monotonic() - started:.0f} s under callgrind)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
