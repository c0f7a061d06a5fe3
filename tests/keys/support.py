"""Keys and tokens for the signature tests, made with cryptography and PyJWT as an issuer would make them."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from bot.diagnosis.signature import HmacSecret, KeyResolution, SourceFailure, TrustedKey
from tests.support.tokens import claims

ORIGIN = "login.acme.test"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@functools.cache
def rsa_key(name: str = "a", bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def ec_key(name: str = "a") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@functools.cache
def ed_key(name: str = "a") -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def jwk_of(private: PrivateKey, kid: str | None = None, **extra: str) -> dict[str, str]:
    public = private.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        document = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        document = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        document = OKPAlgorithm.to_jwk(public, as_dict=True)
    if kid is not None:
        document["kid"] = kid
    document.update(extra)
    return {key: value for key, value in document.items() if isinstance(value, str)}  # key_ops dropped


def jwks(*keys: dict[str, str]) -> dict[str, Any]:
    return {"keys": list(keys)}


def pem_of(private: PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(
    private: Any,
    alg: str,
    kid: str | None = None,
    payload: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    extra = dict(headers or {})
    if kid is not None:
        extra["kid"] = kid
    return jwt.encode(claims() if payload is None else payload, private, algorithm=alg, headers=extra or None)


def forge_with_public_key(
    pem: bytes, payload: dict[str, Any] | None = None, alg: str = "HS256", headers: dict[str, Any] | None = None
) -> str:
    """The RS/HS key-confusion forgery: HMAC keyed with the public key's PEM text (PyJWT refuses to make it)."""
    header = {"alg": alg, "typ": "JWT", **(headers or {})}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload or claims()).encode())}"
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return f"{signing_input}.{_b64(hmac.new(pem, signing_input.encode(), digest).digest())}"


def trusted(
    private: PrivateKey, kid: str | None = "k-2026", origin: str = ORIGIN, indexed: bool = True, **extra: str
) -> TrustedKey:
    return TrustedKey(jwk_of(private, kid, **extra), origin, indexed=indexed)


def from_jwks(*keys: TrustedKey, **changes: Any) -> KeyResolution:
    origins = tuple(dict.fromkeys(key.origin for key in keys if key.indexed))
    return KeyResolution(keys=keys, answered=origins, **changes)


def secret(value: str, name: str = "ORDERS_JWT_SECRET") -> KeyResolution:
    return KeyResolution(secrets=(HmacSecret(name, value),))


def failed(origin: str = ORIGIN, reason: str = "timeout") -> KeyResolution:
    return KeyResolution(failures=(SourceFailure(origin, reason, f"the JWKS at {origin} did not answer within 5 s"),))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
