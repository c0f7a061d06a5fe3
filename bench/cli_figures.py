"""Figures 1, 2 and 5: log throughput against PyJWT, per-token cost, message scan, CLI start-up.

Like with like: both processes of figure 1 read the same log on stdin, find the tokens, judge them with
the same expectations (audience, issuer, algorithm HS256, no leeway) at the instant they run, and print
one JSON document. Before anything is timed, their verdicts are compared token by token: a figure
over two programs that disagree would compare nothing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from bench import baseline_pyjwt
from bench.baseline_pyjwt import OPTIONS
from bench.data import ALGORITHM, AUDIENCE, ISSUER, access_log, chat_message
from bench.timing import Figure, interleaved, process_env, run_process
from bot.fanout import usable_cores

HERE = Path(__file__).parent
JWTCHECK = [sys.executable, "-m", "bot.cli"]  # what the `jwtcheck` console script runs
TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


def figures() -> list[Figure]:
    log = access_log(5000)
    stdin = log.encode()
    ours_args = [*JWTCHECK, "--json", "--aud", AUDIENCE, "--iss", ISSUER, "--alg", ALGORITHM, "-"]
    theirs_args = [sys.executable, str(HERE / "baseline_pyjwt.py")]
    agreed = _same_verdicts(ours_args, theirs_args, stdin)
    log_run = interleaved(run_process(ours_args, stdin), run_process(theirs_args, stdin), rounds=9)
    result = [
        Figure(
            "1. jwtcheck --json - on 5,000 log lines vs PyJWT process",
            log_run.ratio,
            1.0,
            note=f"({log_run.ours * 1000:.0f} ms vs {log_run.theirs * 1000:.0f} ms; {agreed}; {usable_cores()} CPUs)",
        )
    ]
    result.extend(_per_token(log))
    result.append(_scan())
    start = interleaved(run_process([*JWTCHECK, "--version"]), run_process([sys.executable, "-c", "pass"]), rounds=9)
    result.append(
        Figure(
            "5. jwtcheck --version vs python -c pass",
            start.ratio,
            3.0,
            note=f"({start.ours * 1000:.0f} ms vs {start.theirs * 1000:.0f} ms)",
        )
    )
    return result


def _same_verdicts(ours_args: list[str], theirs_args: list[str], stdin: bytes) -> str:
    """Run both once and check that they judged every token alike; say how many were valid."""
    if (baseline_pyjwt.AUDIENCE, baseline_pyjwt.ISSUER, baseline_pyjwt.ALGORITHM) != (AUDIENCE, ISSUER, ALGORITHM):
        raise RuntimeError("bench/baseline_pyjwt.py expects other values than bench/data.py mints tokens for")
    env = process_env()
    ours = json.loads(subprocess.run(ours_args, input=stdin, capture_output=True, check=False, env=env).stdout)
    theirs = json.loads(subprocess.run(theirs_args, input=stdin, capture_output=True, check=False, env=env).stdout)
    ours_valid = [d["verdict"] == "valid" for d in ours["diagnoses"]]
    theirs_valid = [bool(r["valid"]) for r in theirs["results"]]
    if ours_valid != theirs_valid:
        differ = sum(a != b for a, b in zip(ours_valid, theirs_valid, strict=False))
        raise RuntimeError(
            f"figure 1: jwtcheck and PyJWT disagree on {differ} of {len(theirs_valid)} tokens "
            f"({len(ours_valid)} vs {len(theirs_valid)} judged)"
        )
    return f"both found {sum(ours_valid)} of {len(ours_valid)} valid"


def _per_token(log: str) -> list[Figure]:
    """Like with like: one token in, its judgement out. ``diagnose_token`` decodes, runs every check
    (the time checks as of ``now``) and attaches the advice; finding tokens in text is figure 1's."""
    from bot.diagnosis.model import Expectations
    from bot.knowledge import default_knowledge
    from bot.pipeline import diagnose_token

    tokens = TOKEN.findall(log)
    knowledge = default_knowledge()
    expectations = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=(ALGORITHM,))
    now = datetime.now(UTC).timestamp()
    options: Any = OPTIONS  # the same checks as the baseline process: exp, nbf, iat, aud, iss

    def ours() -> None:
        for token in tokens:
            diagnose_token(token, expectations, now, knowledge=knowledge)

    def pyjwt() -> None:
        for token in tokens:
            with contextlib.suppress(jwt.PyJWTError):
                jwt.decode(token, options=options, audience=AUDIENCE, issuer=ISSUER, algorithms=[ALGORITHM])

    def floor() -> None:
        for token in tokens:
            header, payload, _ = token.split(".")
            json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
            json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    against_pyjwt = interleaved(ours, pyjwt, rounds=11)
    against_floor = interleaved(ours, floor, rounds=11)
    per_token = 1e6 / len(tokens)
    return [
        Figure(
            "1b. per token in process vs jwt.decode",
            against_pyjwt.ratio,
            1.0,
            note=f"({against_pyjwt.ours * per_token:.1f} µs vs {against_pyjwt.theirs * per_token:.1f} µs per token)",
        ),
        Figure(
            "1c. per token in process vs base64url+json (the floor)",
            against_floor.ratio,
            None,
            note=f"({against_floor.theirs * per_token:.1f} µs per token)",
        ),
    ]


def _scan() -> Figure:
    from bot.diagnosis import scan
    from bot.diagnosis.scan import STARTS
    from bot.knowledge import default_catalogue

    message = chat_message(4096)
    probe = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
    now = time.time()
    catalogue = default_catalogue()

    def ours() -> None:
        for _ in range(200):
            scan(message, catalogue, at=now)

    def regex() -> None:
        for _ in range(200):
            probe.search(message)

    timing = interleaved(ours, regex, rounds=9)
    backend = STARTS.union(catalogue.prefilter).backend  # the set scan() scans each message with
    return Figure(
        "2. scan of a 4 KB message with no token vs one regex search",
        timing.ratio,
        1.5,
        note=f"({timing.ours / 200 * 1e6:.1f} µs vs {timing.theirs / 200 * 1e6:.1f} µs; prefilter backend: {backend})",
    )
