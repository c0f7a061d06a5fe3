"""Figures 1, 2 and 5: log throughput against PyJWT, per-token cost, message scan, CLI start-up."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import jwt

from bench.data import AUDIENCE, ISSUER, access_log, chat_message
from bench.timing import Figure, interleaved, run_process

HERE = Path(__file__).parent


def figures() -> list[Figure]:
    log = access_log(5000)
    stdin = log.encode()
    ours, theirs = interleaved(
        run_process([sys.executable, "-m", "bot", "check", "--json", "--aud", AUDIENCE, "--iss", ISSUER, "-"], stdin),
        run_process([sys.executable, str(HERE / "baseline_pyjwt.py")], stdin),
        rounds=5,
    )
    result = [Figure("1. jwtcheck --json - on 5,000 log lines vs PyJWT process", ours / theirs, 1.0,
                     note=f"({ours * 1000:.0f} ms vs {theirs * 1000:.0f} ms)")]
    result.extend(_per_token(log))
    result.append(_scan())
    ours, theirs = interleaved(run_process([sys.executable, "-m", "bot.cli", "--version"]),
                               run_process([sys.executable, "-c", "pass"]), rounds=9)
    result.append(Figure("5. jwtcheck --version vs python -c pass", ours / theirs, 3.0,
                         note=f"({ours * 1000:.0f} ms vs {theirs * 1000:.0f} ms)"))
    return result


def _per_token(log: str) -> list[Figure]:
    from bot.diagnosis.engine import diagnose_text
    from bot.diagnosis.model import Expectations
    from bot.knowledge import default_knowledge

    tokens = re.findall(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*", log)
    knowledge = default_knowledge()
    expectations = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,))
    now = datetime.now(UTC)
    options = {"verify_signature": False}

    def ours() -> None:
        for token in tokens:
            diagnose_text(token, expectations, now, knowledge=knowledge)

    def pyjwt() -> None:
        for token in tokens:
            with contextlib.suppress(jwt.PyJWTError):
                jwt.decode(token, options=options, audience=AUDIENCE, issuer=ISSUER, algorithms=["HS256"])

    def floor() -> None:
        for token in tokens:
            header, payload, _ = token.split(".")
            json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
            json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    a, b = interleaved(ours, pyjwt, rounds=5)
    c, d = interleaved(ours, floor, rounds=5)
    per = a / len(tokens) * 1e6
    return [
        Figure("1b. per token in process vs jwt.decode", a / b, 1.0, note=f"({per:.1f} µs per token)"),
        Figure("1c. per token in process vs base64url+json (the floor)", c / d, None),
    ]


def _scan() -> Figure:
    from bot.diagnosis.engine import scan_text

    message = chat_message(4096)
    probe = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
    now = time.time()

    def ours() -> None:
        for _ in range(200):
            scan_text(message, now)

    def regex() -> None:
        for _ in range(200):
            probe.search(message)

    a, b = interleaved(ours, regex, rounds=9)
    return Figure("2. scan of a 4 KB message with no token vs one regex search", a / b, 1.5,
                  note=f"({a / 200 * 1e6:.0f} µs vs {b / 200 * 1e6:.0f} µs)")
