"""Hostile headers, signatures and key sets: the signature check answers, never raises, never leaks."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis import examine
from bot.diagnosis.model import Expectations, SignatureStatus
from bot.keys.fetch import FetchError
from bot.keys.jwks import parse_jwks
from tests.keys.support import ec_key, from_jwks, rsa_key, secret, trusted
from tests.support.tokens import SECRET, claims

RESOLUTIONS = [
    from_jwks(trusted(rsa_key(), "k-2026"), trusted(ec_key(), None)),
    secret(SECRET),
    from_jwks(trusted(rsa_key(), "k-2026"), trusted(ec_key(), None)),
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ALGS = st.sampled_from(
    ["RS256", "PS384", "ES256", "ES512", "EdDSA", "HS256", "HS512", "none", "NONE", "RS1", "", "ES256K", "HS1024"]
) | st.text(max_size=12)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@settings(max_examples=300, deadline=None)
@given(
    alg=ALGS,
    kid=st.none() | JSON,
    extra=st.dictionaries(st.sampled_from(["crit", "b64", "jku", "x5u", "jwk", "x5c", "typ", "zip"]), JSON, max_size=3),
    signature=st.binary(max_size=600),
    which=st.integers(0, 2),
)
def test_any_header_and_signature_get_an_outcome(
    alg: str, kid: Any, extra: dict[str, Any], signature: bytes, which: int
) -> None:
    header: dict[str, Any] = {"alg": alg, **extra}
    if kid is not None:
        header["kid"] = kid
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}.{b64(signature)}"
    facts = examine(token, Expectations(algorithms=("RS256",)), RESOLUTIONS[which])
    assert facts.signature in set(SignatureStatus)
    assert facts.signature is not SignatureStatus.VERIFIED
    if len(signature) >= 8:
        assert b64(signature) not in repr(facts)


@settings(max_examples=300, deadline=None)
@given(
    document=JSON
    | st.fixed_dictionaries(
        {
            "keys": st.lists(
                JSON
                | st.fixed_dictionaries(
                    {
                        "kty": st.sampled_from(["RSA", "EC", "OKP", "oct"]),
                        "n": JSON,
                        "e": JSON,
                        "crv": JSON,
                        "x": JSON,
                        "y": JSON,
                        "kid": JSON,
                        "use": JSON,
                        "alg": JSON,
                    }
                ),
                max_size=5,
            )
        }
    )
)
def test_any_jwks_document_is_keys_or_a_named_failure(document: Any) -> None:
    try:
        keys = parse_jwks(document, "login.acme.test")
    except FetchError as failure:
        assert failure.reason == "bad_jwks"
        return
    token = trusted(rsa_key(), "k-2026")
    for key in keys:
        assert set(key.jwk) <= {"kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"}
        assert all(isinstance(value, str) for value in key.jwk.values())
    examine(
        f"{b64(json.dumps({'alg': 'RS256', 'kid': 'k'}).encode())}.{b64(b'{}')}.{b64(b'x' * 256)}",
        Expectations(),
        from_jwks(token, *keys),
    )
