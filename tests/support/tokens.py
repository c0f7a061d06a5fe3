"""Tokens for tests, made with PyJWT exactly as an issuer would make them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import jwt

NOW = datetime(2026, 11, 28, 21, 0, 0, tzinfo=UTC)
T = int(NOW.timestamp())
SECRET = "test-secret-" + "0123456789abcdef" * 4  # long enough for HS512
ISSUER = "https://login.acme.test/"
AUDIENCE = "orders-api"


def claims(**changes: Any) -> dict[str, Any]:
    """A valid claim set as of NOW; a value of None removes that claim."""
    base: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "iat": T - 60, "exp": T + 840}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def make_token(
    payload: dict[str, Any] | None = None,
    *,
    alg: str = "HS256",
    key: Any = SECRET,
    headers: dict[str, Any] | None = None,
) -> str:
    return jwt.encode(claims() if payload is None else payload, key, algorithm=alg, headers=headers)


def raw_token(header: Any, payload: Any, signature: str = "c2lnbmF0dXJl") -> str:
    """A token from arbitrary JSON (or raw strings), for shapes PyJWT refuses to make."""
    return f"{_segment(header)}.{_segment(payload)}.{signature}"


def _segment(value: Any) -> str:
    raw = value.encode() if isinstance(value, str) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signature_of(token: str) -> str:
    return token.rsplit(".", 1)[1]
