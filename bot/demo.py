"""Built-in samples, one per cause, minted for the current instant so that ``jwtcheck demo`` always works.

The tokens are signed with a throwaway HMAC key made up on the spot; only their claims matter here.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from bot.diagnosis.model import Expectations

DEMO_ISSUER = "https://login.acme.test/"
DEMO_AUDIENCE = "orders-api"
DEMO_EXPECTATIONS = Expectations(
    audiences=(DEMO_AUDIENCE,),
    issuers=(DEMO_ISSUER,),
    algorithms=("HS256",),
    required_claims=("exp", "sub"),
    leeway=0,
    skew_window=300,
)


@dataclass(frozen=True, slots=True)
class Sample:
    title: str
    claims: dict[str, Any] | None = None  # None: the sample is ``text`` as it stands
    offsets: tuple[str, ...] = ()  # claims whose number is seconds relative to now
    header: dict[str, Any] | None = None
    text: str = ""
    mangle: str | None = None


def _base(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": DEMO_ISSUER, "aud": DEMO_AUDIENCE, "sub": "u1", "iat": -60, "exp": 840}
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


SAMPLES: tuple[Sample, ...] = (
    Sample("A valid token", _base(), ("iat", "exp")),
    Sample("Plain expiry", _base(iat=-4 * 3600, exp=-3 * 3600 - 720), ("iat", "exp")),
    Sample("Clock skew: issued by a clock 70 s ahead", _base(iat=70, nbf=70, exp=3670), ("iat", "nbf", "exp")),
    Sample("Not valid yet: nbf two days ahead", _base(nbf=2 * 86400, exp=3 * 86400), ("iat", "nbf", "exp")),
    Sample("Issued in the future: iat three hours ahead", _base(iat=3 * 3600, exp=4 * 3600), ("iat", "exp")),
    Sample("exp in milliseconds", _base(exp="ms:3600"), ("iat",)),
    Sample("exp as a date string", _base(exp="2026-12-01T10:00:00Z"), ("iat",)),
    Sample("Required claim missing: no sub", _base(sub=None), ("iat", "exp")),
    Sample("Audience near miss: api:// prefix", _base(aud="api://orders-api"), ("iat", "exp")),
    Sample("ID token sent to an API", _base(aud="spa-client-7", nonce="n-0S6_WzA2Mj"), ("iat", "exp")),
    Sample("Issuer near miss: trailing slash", _base(iss="https://login.acme.test"), ("iat", "exp")),
    Sample("Unsigned token (alg none)", _base(), ("iat", "exp"), header={"alg": "none", "typ": "JWT"}),
    Sample("Algorithm not allowed: HS512", _base(), ("iat", "exp"), header={"alg": "HS512", "typ": "JWT"}),
    Sample("Encrypted token (JWE)", header={"alg": "RSA-OAEP", "enc": "A256GCM"}),
    Sample("Malformed: cut while copying", _base(), ("iat", "exp"), mangle="truncate"),
    Sample("express-jwt error text", text="UnauthorizedError: jwt audience invalid. expected: orders-api"),
    Sample(
        "Key rotated: Microsoft.IdentityModel error text",
        text="IDX10503: Signature validation failed. The token's kid is: 'k-2025', but did not match any keys "
        "in TokenValidationParameters or Configuration.",
    ),
    Sample(
        "Bad signature: PyJWT error text", text="jwt.exceptions.InvalidSignatureError: Signature verification failed"
    ),
    Sample(
        "jjwt prints the gap and the skew it allowed",
        text="io.jsonwebtoken.ExpiredJwtException: JWT expired 45123 milliseconds ago at 2026-12-03T10:00:00.000Z. "
        "Current time: 2026-12-03T10:00:45.123Z. Allowed clock skew: 0 milliseconds.",
    ),
    Sample("Envoy (Istio) refused a request with no token", text="Jwt is missing"),
    Sample("Envoy could not fetch its keys", text="Jwks remote fetch is failed"),
    Sample("express-jwt: a revoked token", text="UnauthorizedError: The token has been revoked."),
    Sample(
        "A token without the scope the endpoint requires (Spring Security)",
        text='WWW-Authenticate: Bearer error="insufficient_scope", error_description="The request requires higher '
        'privileges than provided by the access token.", scope="orders:write"',
    ),
    Sample("ruby-jwt: another subject", text="JWT::InvalidSubError: Invalid subject. Expected u1, received u2"),
    Sample("jsonwebtoken: another jti", text="JsonWebTokenError: jwt jwtid invalid. expected: 7f3c2a"),
    Sample("jsonwebtoken: an ID token's nonce", text="JsonWebTokenError: jwt nonce invalid. expected: n-0S6_WzA2Mj"),
    Sample(  # RFC 6749's example access token: opaque, and shown only as its first 4 characters and its length
        "Opaque access token (no audience requested)",
        text="curl -H 'Authorization: Bearer 2YotnFZFEjr1zCsicMWpAA' https://api.acme.test/orders",
    ),
)


def sample_texts(now: float) -> list[tuple[Sample, str]]:
    secret = secrets.token_bytes(64)  # long enough for HS512 too
    return [(sample, _materialise(sample, now, secret)) for sample in SAMPLES]


def _materialise(sample: Sample, now: float, secret: bytes) -> str:
    if sample.claims is None and sample.header and "enc" in sample.header:
        return _fake_jwe(sample.header)
    if sample.claims is None:
        return sample.text
    claims = dict(sample.claims)
    for name in sample.offsets:
        claims[name] = int(now) + int(claims[name])
    if isinstance(claims.get("exp"), str) and claims["exp"].startswith("ms:"):
        claims["exp"] = (int(now) + int(claims["exp"][3:])) * 1000
    header = sample.header or {"alg": "HS256", "typ": "JWT"}
    token = _sign(header, claims, secret)
    if sample.mangle == "truncate":
        token = token[: token.index(".") + 25]
    return token


def _sign(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    import jwt  # PyJWT: imported here so that the plain CLI path stays light

    if header["alg"] == "none":
        return f"{_b64(header)}.{_b64(claims)}."
    extra = {key: value for key, value in header.items() if key != "alg"}
    return jwt.encode(claims, secret, algorithm=header["alg"], headers=extra)


def _fake_jwe(header: dict[str, Any]) -> str:
    sizes = (256, 12, 48, 16)  # encrypted key, IV, ciphertext, tag
    random_segments = (base64.urlsafe_b64encode(secrets.token_bytes(n)).rstrip(b"=").decode() for n in sizes)
    return ".".join([_b64(header), *random_segments])


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
