"""JWKs as the bot keeps them: public members only, every value a bounded string. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_JWKS_KEYS = 100
MAX_MEMBER_CHARS = 4096  # a 16384-bit RSA modulus is 2731 base64url characters
MAX_KID_CHARS = 256
PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
OPTIONAL_MEMBERS = ("kid", "alg", "use")
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def public_jwk(item: Any) -> dict[str, str] | None:
    """The public members of a usable signing JWK (RSA, EC, OKP), or None for anything else.

    Private members (``d``, ``p``…) and symmetric keys (``kty: oct``) are never kept: what is cached in
    the store is public-key material only.
    """
    if not isinstance(item, Mapping):
        return None
    kty = item.get("kty")
    if not isinstance(kty, str) or kty not in PUBLIC_MEMBERS:
        return None
    jwk: dict[str, str] = {"kty": kty}
    for name in PUBLIC_MEMBERS[kty]:
        value = item.get(name)
        if not isinstance(value, str) or not value or len(value) > MAX_MEMBER_CHARS:
            return None
        jwk[name] = value
    for name in OPTIONAL_MEMBERS:
        value = item.get(name)
        if value is None:
            continue
        limit = MAX_KID_CHARS if name == "kid" else 32
        if not isinstance(value, str) or not value or len(value) > limit:
            return None
        jwk[name] = value
    if jwk.get("use", "sig") != "sig":
        return None  # an encryption key ("use": "enc") never verifies a signature
    return jwk


def has_private_members(item: Any) -> bool:
    return isinstance(item, Mapping) and any(name in item for name in PRIVATE_MEMBERS)
