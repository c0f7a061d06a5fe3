"""Static public keys from files (PEM or JWK), loaded once when the config is read. Errors name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.diagnosis.signature import TrustedKey
from bot.keys.jwk import MAX_JWKS_KEYS, has_private_members, public_jwk

MAX_KEY_FILE_BYTES = 256 * 1024


class KeyFileError(ValueError):
    """One line naming the key file and what is wrong with it."""


def load_key_file(path: Path, shown: str) -> tuple[TrustedKey, ...]:
    """The public keys in ``path`` (``shown`` is how the file is named in outputs and errors).

    PEM: a public key (SPKI or PKCS#1) or a certificate. JSON: one JWK or a JWK Set. Private keys and
    symmetric (``oct``) keys are refused: an HMAC secret belongs in an environment variable.
    """
    try:
        if path.stat().st_size > MAX_KEY_FILE_BYTES:
            raise KeyFileError(f"{shown}: over {MAX_KEY_FILE_BYTES // 1024} KiB, not a key file")
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{shown}: cannot read the key file ({exc.strerror or exc})") from None
    if b"-----BEGIN" in data:
        return (_from_pem(data, shown),)
    return _from_json(data, shown)


def _from_pem(data: bytes, shown: str) -> TrustedKey:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if b"PRIVATE KEY" in data:
        raise KeyFileError(f"{shown}: a private key; give the public key (openssl pkey -in KEY -pubout)")
    try:
        if b"-----BEGIN CERTIFICATE" in data:
            public: Any = x509.load_pem_x509_certificate(data).public_key()
            pem = None  # the RS/HS confusion check uses the public key's own PEM forms
        else:
            public = load_pem_public_key(data)
            pem = data
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{shown}: not a PEM public key or certificate ({_short(exc)})") from None
    jwk = _to_jwk(public, shown)
    return TrustedKey(jwk, shown, indexed=False, pem=pem)


def _to_jwk(public: Any, shown: str) -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    document: Any
    if isinstance(public, rsa.RSAPublicKey):
        document = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        try:
            document = ECAlgorithm.to_jwk(public, as_dict=True)
        except Exception:  # PyJWT refuses curves JOSE has no name for
            raise KeyFileError(f"{shown}: an EC key on curve {public.curve.name}, which JOSE does not use") from None
    elif isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        document = OKPAlgorithm.to_jwk(public, as_dict=True)
    else:
        raise KeyFileError(f"{shown}: a {type(public).__name__} key; JWTs are signed with RSA, EC or Ed25519 keys")
    jwk = public_jwk(document)
    if jwk is None:  # pragma: no cover - PyJWT's own output is always a public JWK
        raise KeyFileError(f"{shown}: the key could not be expressed as a JWK")
    return jwk


def _from_json(data: bytes, shown: str) -> tuple[TrustedKey, ...]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise KeyFileError(
            f"{shown}: neither PEM nor JSON (a key file holds a PEM public key, a JWK or a JWK Set)"
        ) from None
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        items, what = document["keys"], "JWK Set"
        if len(items) > MAX_JWKS_KEYS:
            raise KeyFileError(f"{shown}: over {MAX_JWKS_KEYS} keys in the JWK Set")
    elif isinstance(document, dict) and "kty" in document:
        items, what = [document], "JWK"
    else:
        raise KeyFileError(f"{shown}: JSON, but neither a JWK (with kty) nor a JWK Set (with keys)")
    keys = []
    for index, item in enumerate(items):
        where = f"{shown}: key {index + 1} of the JWK Set" if what == "JWK Set" else shown
        if isinstance(item, dict) and item.get("kty") == "oct":
            raise KeyFileError(
                f"{where} is a symmetric (oct) key: HMAC secrets are never kept in files; put it in "
                "an environment variable named by hmac_secret_env"
            )
        if has_private_members(item):
            raise KeyFileError(f"{where} holds private key material (d…): give the public JWK only")
        jwk = public_jwk(item)
        if jwk is None or not _usable(jwk):
            raise KeyFileError(f"{where} is not a usable public signing key (RSA, EC or OKP with all its members)")
        keys.append(TrustedKey(jwk, shown, indexed=False))
    if not keys:
        raise KeyFileError(f"{shown}: the JWK Set holds no keys")
    return tuple(keys)


def _usable(jwk: dict[str, str]) -> bool:
    from jwt import PyJWK
    from jwt.exceptions import PyJWTError

    try:
        PyJWK(dict(jwk))
    except (PyJWTError, ValueError, TypeError, KeyError):
        return False
    return True


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
