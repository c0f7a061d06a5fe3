"""Deterministic inputs: an access log with tokens (valid, expired, wrong audience, skewed) and chat text."""

from __future__ import annotations

import random
import time

import jwt

SECRET = "bench-secret-" + "0123456789abcdef" * 4
AUDIENCE = "orders-api"
ISSUER = "https://login.acme.test/"
ALGORITHM = "HS256"


def token(n: int, kind: str, now: int | None = None) -> str:
    """Tokens are minted for the current instant, so that PyJWT (which reads the clock) and jwtcheck agree."""
    T = int(time.time()) if now is None else now
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": f"user-{n}", "iat": T - 60, "exp": T + 840, "jti": str(n)}
    if kind == "expired":
        claims.update(iat=T - 7200, exp=T - 3600)
    elif kind == "audience":
        claims["aud"] = "billing-api"
    elif kind == "skewed":
        claims.update(iat=T + 70, nbf=T + 70, exp=T + 3670)
    return jwt.encode(claims, SECRET, algorithm=ALGORITHM)


def access_log(lines: int = 5000, seed: int = 7, now: int | None = None) -> str:
    """A log of ``lines`` lines, each holding one token: 40% valid, 20% expired, 20% wrong audience, 20% skewed."""
    rng = random.Random(seed)
    kinds = ["valid"] * 4 + ["expired"] * 2 + ["audience"] * 2 + ["skewed"] * 2
    out = []
    for n in range(lines):
        kind = rng.choice(kinds)
        status = 200 if kind == "valid" else 401
        out.append(
            f'10.0.{n % 250}.{n % 200} - - [28/Nov/2026:20:59:{n % 60:02d} +0000] "GET /orders/{n} HTTP/1.1" '
            f'{status} 512 "-" "curl/8.5" auth="Bearer {token(n, kind, now)}"'
        )
    return "\n".join(out) + "\n"


def chat_message(size: int = 4096, seed: int = 11) -> str:
    """Ordinary incident chatter with no token and no error text, about ``size`` characters."""
    rng = random.Random(seed)
    chatter = (
        "the deploy is rolling out, eyes on the dashboard; latency looks fine in eu-west but the orders "
        "service keeps paging. who owns the gateway config? rolling back at 21:05 if errors persist. "
        "e.g. see runbook section 4.2 and ping @oncall"
    )
    words = chatter.split(" ")
    text: list[str] = []
    while sum(len(w) + 1 for w in text) < size:
        text.append(rng.choice(words))
    return " ".join(text)[:size]
