"""Signing for the oracle: a fixed HMAC secret and a fixed RSA test key, so that every signature verifies.

The RSA key in ``keys/`` was generated once with ``cryptography`` for these tests only; RS256 (PKCS#1 v1.5)
signatures are deterministic, so the same scenarios give the same tokens on every run. Tokens are put
together by hand (not by a JWT library) so that a claim can hold anything JSON can: a string, a bool, null.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEYS = Path(__file__).resolve().parent / "keys"
PUBLIC_PEM_PATH = KEYS / "rs256-test-public.pem"
HS_SECRET = "jwtcheck-oracle-hs256-secret-0123456789abcdef"  # 46 bytes: long enough for every library
OTHER_SECRET = "another-secret-the-api-does-not-know-0123456789"
SECRET_ENV = "JWTCHECK_ORACLE_HS_SECRET"  # jwtcheck reads the secret from this variable (--secret-env)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


@functools.cache
def _private_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((KEYS / "rs256-test-private.pem").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@functools.cache
def public_pem() -> str:
    return PUBLIC_PEM_PATH.read_text()


def sign(header: dict[str, Any], claims: dict[str, Any], signer: str) -> str:
    """``signer``: ``hs`` (the API's secret), ``hs_other`` (a secret the API does not know), ``rsa`` (the test
    key), ``none`` (an empty signature), or ``tampered_hs`` / ``tampered_rsa`` (signed, then the payload changed)."""
    payload = dict(claims)
    tampered = signer.startswith("tampered_")
    if tampered:
        signer = signer.removeprefix("tampered_")
    head = b64url(_json(header)) + "." + b64url(_json(payload))
    data = head.encode("ascii")
    if signer == "none":
        signature = b""
    elif signer in ("hs", "hs_other"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[header["alg"]]
        signature = hmac.new((HS_SECRET if signer == "hs" else OTHER_SECRET).encode(), data, digest).digest()
    elif signer == "rsa":
        signature = _private_key().sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise ValueError(signer)
    token = head + "." + b64url(signature)
    if tampered:  # the payload changed after signing: the signature no longer covers it
        payload["sub"] = str(payload.get("sub", "")) + "-admin"
        token = b64url(_json(header)) + "." + b64url(_json(payload)) + "." + b64url(signature)
    return token
