"""Signature verification against trusted keys: pure, in memory, before anything is redacted.

The keys come from the service's configured sources (``bot/keys`` fetches them); nothing in the token
decides where keys come from: ``jku``, ``x5u``, ``x5c``, ``jwk`` and ``iss`` are never used, and ``kid``
only picks among keys that are already trusted. Verification is PyJWT's JWS layer, with the algorithm
pinned to the header's ``alg`` and the key given explicitly.

Nothing here keeps, logs or returns the token, its signature or a secret: outcomes name key ids,
hosts, file names, environment variable names and lengths, nothing else. PyJWT's exception messages
are never passed on (their wording is ours to choose).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.diagnosis.checks.values import printable, show
from bot.diagnosis.decode import DecodedToken
from bot.diagnosis.ids import Reason
from bot.diagnosis.model import CauseId, Evidence, Expectations, Finding, JSONValue, SignatureStatus

if TYPE_CHECKING:
    from jwt import PyJWK

NO_KEY_CONFIGURED = "no key configured"
MAX_KEYS_TRIED = 64  # a JWKS is capped when fetched; this bounds the work per token anyway
_HMAC_DIGESTS: dict[str, Callable[[], Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
_EC_CURVES = {
    "ES256": ("P-256", 32),
    "ES384": ("P-384", 48),
    "ES512": ("P-521", 66),
    "ES521": ("P-521", 66),
    "ES256K": ("secp256k1", 32),
}
_PLAIN_KID = re.compile(r"[A-Za-z0-9._:\-+/=]{1,64}")
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key from a configured source, never from the token. ``jwk`` holds public members only.

    ``origin`` is where it came from, as it may be shown: a host (``login.acme.test``) or a config-relative
    file name. ``indexed`` keys come from a JWKS, where the token's ``kid`` must name one of them.
    ``pem`` keeps a key file's own PEM bytes for the RS/HS key-confusion check.
    """

    jwk: Mapping[str, str]
    origin: str
    indexed: bool = False
    pem: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def kid(self) -> str | None:
        return self.jwk.get("kid")

    @property
    def kty(self) -> str:
        return self.jwk.get("kty", "?")

    @property
    def alg(self) -> str | None:
        return self.jwk.get("alg")


@dataclass(frozen=True, slots=True)
class HmacSecret:
    """A shared secret, known by the name of the environment variable that holds it. Never shown."""

    name: str
    value: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """A key source that gave no keys. ``reason``: timeout, too_large, bad_json, bad_jwks, redirect_refused,
    http_refused, http_status, unreachable, tls, issuer_mismatch, not_set…; ``detail`` is one sentence."""

    origin: str
    reason: str
    detail: str
    secret: bool = False  # the failed source is an HMAC secret (only HS* tokens need it)


@dataclass(frozen=True, slots=True)
class KeyResolution:
    """What the configured key sources gave for one token.

    ``answered`` names the JWKS origins that answered (their keys are ``indexed``); ``refetched`` says a
    JWKS was fetched again because it lacked the token's kid, ``refetch_limited`` that it was not,
    because it had just been.
    """

    keys: tuple[TrustedKey, ...] = ()
    secrets: tuple[HmacSecret, ...] = ()
    failures: tuple[SourceFailure, ...] = ()
    answered: tuple[str, ...] = ()
    refetched: bool = False
    refetch_limited: bool = False

    def digest(self) -> str:
        """A short hash of everything an outcome depends on (secrets only as a hash): for cache keys."""
        document = {
            "keys": sorted(
                [
                    key.origin,
                    key.indexed,
                    sorted(key.jwk.items()),
                    hashlib.sha256(key.pem).hexdigest() if key.pem else None,
                ]
                for key in self.keys
            ),
            "secrets": [
                [s.name, hashlib.sha256(s.value.encode("utf-8", "surrogatepass")).hexdigest()] for s in self.secrets
            ],
            "failures": [[f.origin, f.reason] for f in self.failures],
            "answered": list(self.answered),
            "refetch": [self.refetched, self.refetch_limited],
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


class SignatureOutcome(NamedTuple):  # not a dataclass: one costs milliseconds of start-up to define
    status: SignatureStatus
    detail: str
    findings: tuple[Finding, ...] = ()


NOT_CONFIGURED = SignatureOutcome(SignatureStatus.NOT_CHECKED, NO_KEY_CONFIGURED)


class _Check(Enum):
    OK = "ok"
    BAD = "bad"  # the signature does not verify with this key
    UNUSABLE = "unusable"  # the key cannot be used with this algorithm
    REFUSED = "refused"  # the header is refused before any signature is checked (crit, b64…)


def check_signature(decoded: DecodedToken, resolution: KeyResolution, expectations: Expectations) -> SignatureOutcome:
    """Verify a decoded token's signature with the keys ``resolution`` holds. Never raises."""
    try:
        return _check_signature(decoded, resolution, expectations)
    except Exception:  # hostile key material or a library surprise: an answer, never a traceback
        return SignatureOutcome(SignatureStatus.NOT_CHECKED, "the signature could not be checked with these keys")


def _check_signature(decoded: DecodedToken, resolution: KeyResolution, expectations: Expectations) -> SignatureOutcome:
    if decoded.kind == "jwe":
        return SignatureOutcome(SignatureStatus.NOT_CHECKED, "an encrypted token (JWE) has no signature to check")
    header = decoded.header
    if header is None or len(decoded.segments) != 3 or any(p.cause is CauseId.MALFORMED for p in decoded.problems):
        return SignatureOutcome(
            SignatureStatus.NOT_CHECKED, "the token is malformed, so its signature cannot be checked"
        )
    alg = header.get("alg")
    if not isinstance(alg, str):
        return SignatureOutcome(SignatureStatus.NOT_CHECKED, "the header names no algorithm")
    if alg.lower() == "none":
        return SignatureOutcome(SignatureStatus.INVALID, "the token is unsigned (alg none): there is no signature")
    token = _Token(decoded.raw, decoded.segments, header, alg)
    refused = _refused_header(header)
    if refused is not None:
        finding = _finding(CauseId.SIGNATURE_INVALID, Reason.HEADER_REFUSED, refused, 0.8, "header refused")
        return SignatureOutcome(
            SignatureStatus.INVALID, "the header is refused before the signature is checked", (finding,)
        )
    if alg not in _supported_algorithms():
        detail = (
            f"alg is {show(alg)}, an algorithm no JOSE library verifies: the token was made by hand or by a "
            "broken issuer"
        )
        finding = _finding(
            CauseId.ALGORITHM_NOT_ALLOWED, Reason.UNSUPPORTED_ALG, detail, 0.8, f"{show(alg, 24)} unknown", claim="alg"
        )
        return SignatureOutcome(SignatureStatus.INVALID, f"no verifier exists for alg {show(alg, 24)}", (finding,))
    if alg in _HMAC_DIGESTS:
        return _check_hmac(token, resolution, expectations)
    return _check_public_key(token, resolution)


@dataclass(frozen=True, slots=True)
class _Token:
    raw: str = field(repr=False)
    segments: list[str] = field(repr=False)
    header: Mapping[str, JSONValue]
    alg: str

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def signing_input(self) -> bytes:
        return f"{self.segments[0]}.{self.segments[1]}".encode("ascii", "replace")

    @property
    def signature(self) -> bytes:
        segment = self.segments[2]
        try:
            return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except (binascii.Error, ValueError):
            return b""


# --- HMAC ----------------------------------------------------------------------------------------


def _check_hmac(token: _Token, resolution: KeyResolution, expectations: Expectations) -> SignatureOutcome:
    forged_with = _confusion_key(token, resolution.keys)
    if forged_with is not None:
        detail = (
            f"the {token.alg} signature verifies with the PEM text of {describe_key(forged_with)} used as the HMAC "
            "secret: this is the RS/HS key-confusion attack, a forged token. A validator that lets the token's alg "
            "choose the algorithm would accept it; allow only the asymmetric algorithms, and treat the sender as "
            "hostile"
        )
        finding = _finding(
            CauseId.ALGORITHM_NOT_ALLOWED,
            Reason.KEY_CONFUSION_FORGERY,
            detail,
            0.99,
            "forged with the public key as HMAC secret",
            claim="alg",
        )
        return SignatureOutcome(
            SignatureStatus.INVALID, f"forged: HMAC keyed with {describe_key(forged_with)}", (finding,)
        )
    if not resolution.secrets:
        if _failed(resolution, secret=True):
            return _source_failed(resolution, secret=True)
        findings: tuple[Finding, ...] = ()
        if not expectations.algorithms or token.alg in expectations.algorithms:  # else the alg check said it
            keys = _key_list(resolution.keys) or "from its key sources"
            detail = (
                f"alg is {show(token.alg)} (a shared HMAC secret), but this service verifies with public keys "
                f"({keys}): a validator refuses it. Either the issuer is misconfigured, or the token is a "
                "key-confusion forgery attempt"
            )
            findings = (
                _finding(
                    CauseId.ALGORITHM_NOT_ALLOWED,
                    Reason.HS_WITH_PUBLIC_KEYS,
                    detail,
                    0.85,
                    f"{show(token.alg, 12)} where public keys are configured",
                    claim="alg",
                ),
            )
        return SignatureOutcome(
            SignatureStatus.INVALID,
            f"{show(token.alg, 12)} needs a shared secret; this service has public keys only",
            findings,
        )

    encoded_as: tuple[HmacSecret, str] | None = None
    for secret in resolution.secrets:
        forms = _secret_forms(secret.value)
        if _verify(token, forms[0][1]) is _Check.OK:
            return SignatureOutcome(SignatureStatus.VERIFIED, f"verified with the HMAC secret in ${secret.name}")
        for label, candidate in forms[1:]:
            if encoded_as is None and _verify(token, candidate) is _Check.OK:
                encoded_as = (secret, label)
    if encoded_as is not None:
        secret, label = encoded_as
        detail = (
            f"the signature verifies with the {label} bytes of the secret in ${secret.name}, not with its text: the "
            f"issuer {label.split('-')[0]}-decodes the secret. A validator that uses the text as it stands refuses "
            "the token: make both sides use the same bytes"
        )
        finding = _finding(
            CauseId.SIGNATURE_INVALID, Reason.SECRET_ENCODING, detail, 0.85, f"the issuer uses the {label} secret"
        )
        return SignatureOutcome(
            SignatureStatus.INVALID,
            f"verifies only with the {label} secret in ${secret.name}, not with its text",
            (finding,),
        )
    if _failed(resolution, secret=True):
        return _source_failed(resolution, secret=True)
    names = ", ".join(f"${s.name}" for s in resolution.secrets)
    detail = (
        f"the signature does not verify with the HMAC secret in {names}, neither as text nor base64- or hex-decoded: "
        "the issuer signs with another secret (another environment, a rotated secret), or the token was changed "
        "after it was signed"
    )
    finding = _finding(CauseId.SIGNATURE_INVALID, Reason.WRONG_SECRET, detail, 0.9, f"not signed with {names}")
    return SignatureOutcome(SignatureStatus.INVALID, f"does not verify with the HMAC secret in {names}", (finding,))


def _secret_forms(value: str) -> list[tuple[str, bytes]]:
    """The secret as text first, then every decoding of it that is different bytes."""
    text = value.encode("utf-8", "surrogatepass")
    forms: list[tuple[str, bytes]] = [("text", text)]
    compact = value.strip()
    decoders: list[tuple[str, Callable[[str], bytes]]] = [
        ("base64-decoded", lambda v: base64.b64decode(v + "=" * (-len(v) % 4), validate=True)),
        ("base64url-decoded", lambda v: base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))),
        ("hex-decoded", bytes.fromhex),
    ]
    for label, decode in decoders:
        if label == "base64url-decoded" and not re.fullmatch(r"[A-Za-z0-9_\-]+=*", compact):
            continue
        try:
            decoded = decode(compact)
        except (binascii.Error, ValueError):
            continue
        if decoded and all(decoded != existing for _, existing in forms):
            forms.append((label, decoded))
    return forms


def _confusion_key(token: _Token, keys: Sequence[TrustedKey]) -> TrustedKey | None:
    """The public key whose PEM text, used as an HMAC secret, made this signature (the RS/HS attack)."""
    digest = _HMAC_DIGESTS.get(token.alg)
    signature = token.signature
    if digest is None or not signature or not keys:
        return None
    signing_input = token.signing_input
    for key in keys[:MAX_KEYS_TRIED]:
        for candidate in _pem_forms(key):
            # PyJWT refuses a PEM public key as an HMAC secret, which is right for validation; this check
            # computes the HMAC itself, only to recognise the attack.
            if hmac.compare_digest(hmac.new(candidate, signing_input, digest).digest(), signature):
                return key
    return None


def _pem_forms(key: TrustedKey) -> list[bytes]:
    forms: list[bytes] = []
    if key.pem:
        forms.append(key.pem)
    public = _public_key_object(key)
    if public is not None:
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        forms.append(public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        if isinstance(public, RSAPublicKey):
            forms.append(public.public_bytes(Encoding.PEM, PublicFormat.PKCS1))
    variants: list[bytes] = []
    for form in forms:
        for variant in (form, form.rstrip(b"\r\n"), form.replace(b"\n", b"\r\n")):
            if variant not in variants:
                variants.append(variant)
    return variants


def _public_key_object(key: TrustedKey) -> Any:
    from cryptography.exceptions import UnsupportedAlgorithm
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
    from jwt.exceptions import PyJWTError

    loaders: dict[str, Callable[[Any], Any]] = {
        "RSA": RSAAlgorithm.from_jwk,
        "EC": ECAlgorithm.from_jwk,
        "OKP": OKPAlgorithm.from_jwk,
    }
    loader = loaders.get(key.kty)
    if loader is None:
        return None
    try:
        return loader(dict(key.jwk))
    except (PyJWTError, ValueError, TypeError, KeyError, UnsupportedAlgorithm):
        return None


# --- public keys ---------------------------------------------------------------------------------


def _check_public_key(token: _Token, resolution: KeyResolution) -> SignatureOutcome:
    keys = list(resolution.keys[:MAX_KEYS_TRIED])
    alg, kid = token.alg, token.kid
    if not keys:
        if _failed(resolution):
            return _source_failed(resolution)
        detail = (
            f"alg is {show(alg)} (a public-key signature), but this service's only key is an HMAC secret: "
            "the issuer signs with a key pair the service does not know, or the service is set up with the wrong "
            "kind of key"
        )
        finding = _finding(
            CauseId.ALGORITHM_NOT_ALLOWED,
            Reason.PUBLIC_KEY_ALG_FOR_HMAC_SERVICE,
            detail,
            0.8,
            f"{show(alg, 12)} where only an HMAC secret is configured",
            claim="alg",
        )
        return SignatureOutcome(
            SignatureStatus.INVALID,
            f"{show(alg, 12)} needs a public key; only an HMAC secret is configured",
            (finding,),
        )
    fitting = [key for key in keys if _fits(key, alg)]
    named = [key for key in keys if kid is not None and key.kid == kid]

    if named:
        named_fitting = [key for key in named if key in fitting]
        if not named_fitting:
            key = named[0]
            detail = (
                f"kid {show(kid)} names {_kind(key)} ({describe_key(key)}), but alg is {show(alg)}: the issuer "
                "signs with another key than the one its header names, or the header's alg is wrong"
            )
            finding = _finding(
                CauseId.ALGORITHM_NOT_ALLOWED,
                Reason.ALG_KEY_MISMATCH,
                detail,
                0.8,
                f"{show(alg, 12)} with {_kind(key)}",
                claim="alg",
            )
            return SignatureOutcome(
                SignatureStatus.INVALID, f"{describe_key(key)} is not a {show(alg, 12)} key", (finding,)
            )
        good = _first_verifying(token, named_fitting)
        if good is not None:
            return _verified(token, good)
        other = _first_verifying(token, [key for key in fitting if key not in named])
        if other is not None:
            detail = (
                f"the signature does not verify with {describe_key(named_fitting[0])}, the key its kid names, "
                f"but it does with {describe_key(other)}: the issuer writes the wrong kid into the header"
            )
            finding = _finding(CauseId.SIGNATURE_INVALID, Reason.WRONG_KID, detail, 0.9, "header names the wrong kid")
            return SignatureOutcome(
                SignatureStatus.INVALID,
                f"signed with {describe_key(other)}, not with the key its kid names",
                (finding,),
            )
        return _does_not_verify(token, named_fitting[0])

    good = _first_verifying(token, fitting)
    jwks_knows_kid = kid is not None and any(key.indexed for key in keys)
    if jwks_knows_kid:
        # The token names a kid that no JWKS that answered has (static keys without a kid may still verify).
        if good is not None and not good.indexed:
            return _verified(token, good)
        if good is None and _failed(resolution):
            return _source_failed(resolution)
        return _unknown_kid(token, resolution, good)
    if good is not None:
        return _verified(token, good)
    if _failed(resolution):
        return _source_failed(resolution)
    if not fitting:
        detail = (
            f"alg is {show(alg)}, but no configured key can verify it ({_key_list(keys)}): the issuer signs "
            "with another kind of key than the service expects"
        )
        finding = _finding(
            CauseId.ALGORITHM_NOT_ALLOWED,
            Reason.NO_KEY_FOR_ALG,
            detail,
            0.8,
            f"no {show(alg, 12)} key configured",
            claim="alg",
        )
        return SignatureOutcome(SignatureStatus.INVALID, f"no configured key fits alg {show(alg, 12)}", (finding,))
    return _does_not_verify(token, fitting[0], several=len(fitting) > 1)


def _verified(token: _Token, key: TrustedKey) -> SignatureOutcome:
    if key.alg and key.alg != token.alg:
        detail = (
            f"the signature verifies with {describe_key(key)}, but that key is published for {show(key.alg)} and "
            f"the token says {show(token.alg)}: validators that honour the key's alg (PyJWT's PyJWK, jose) "
            "refuse it. Sign with the key's algorithm, or publish the key for the one in use"
        )
        finding = _finding(
            CauseId.ALGORITHM_NOT_ALLOWED,
            Reason.KEY_ALG_MISMATCH,
            detail,
            0.75,
            f"key is for {show(key.alg, 12)}",
            claim="alg",
        )
        return SignatureOutcome(
            SignatureStatus.INVALID,
            f"{describe_key(key)} is published for {show(key.alg, 12)}, not {show(token.alg, 12)}",
            (finding,),
        )
    return SignatureOutcome(SignatureStatus.VERIFIED, f"verified with {describe_key(key)}")


def _unknown_kid(token: _Token, resolution: KeyResolution, verifies: TrustedKey | None) -> SignatureOutcome:
    origins = ", ".join(resolution.answered) or ", ".join(sorted({k.origin for k in resolution.keys if k.indexed}))
    known = [key.kid for key in resolution.keys if key.indexed and key.kid]
    has = f" (it has {', '.join(show(k, 40) for k in known[:6])}{', …' if len(known) > 6 else ''})" if known else ""
    if resolution.refetched:
        when = ", even in a copy fetched just now"
    elif resolution.refetch_limited:
        when = ", fetched again less than a minute ago"
    else:
        when = ""
    detail = (
        f"kid {show(token.kid)} is not in the JWKS of {origins}{has}{when}: the issuer rotated to a key it does "
        "not publish yet, a cache is stale, or the token comes from another tenant or environment"
    )
    if verifies is not None:
        detail += f"; the signature does verify with {describe_key(verifies)}, so the issuer writes the wrong kid"
    finding = _finding(
        CauseId.UNKNOWN_KID, Reason.UNKNOWN_KID, detail, 0.9, f"{show(token.kid, 40)} not in {origins}", claim="kid"
    )
    return SignatureOutcome(
        SignatureStatus.INVALID, f"kid {show(token.kid, 40)} is not in the JWKS of {origins}", (finding,)
    )


def _does_not_verify(token: _Token, key: TrustedKey, *, several: bool = False) -> SignatureOutcome:
    reason, why = _why_not(token, key)
    which = f"any of the {show(token.alg, 12)} keys configured" if several else describe_key(key)
    if reason is Reason.ECDSA_DER:
        detail = f"the signature does not verify with {which}: {why}"
        summary = "ECDSA signature in DER form"
    else:
        detail = f"the signature does not verify with {which}: {why or _WRONG_KEY}"
        summary = f"not signed with {which}"
    finding = _finding(CauseId.SIGNATURE_INVALID, reason, detail, 0.9, summary)
    return SignatureOutcome(SignatureStatus.INVALID, f"does not verify with {which}", (finding,))


_WRONG_KEY = (
    "the token was signed with another key (another environment or tenant, or a rotated key that kept its "
    "kid), or it was changed after it was signed"
)


def _why_not(token: _Token, key: TrustedKey) -> tuple[Reason, str]:
    """A likelier reason than "wrong key or altered", from lengths only."""
    length = len(token.signature)
    if key.kty == "RSA":
        modulus = _b64_length(key.jwk.get("n", ""))
        if modulus and length != modulus:
            return Reason.WRONG_KEY, (
                f"the signature is {length * 8} bits long, and this key is a {modulus * 8}-bit RSA "
                f"key: the token was signed with another ({length * 8}-bit) key"
            )
    if key.kty == "EC" and token.alg in _EC_CURVES:
        expected = 2 * _EC_CURVES[token.alg][1]
        if length != expected and token.signature[:1] == b"\x30":
            return Reason.ECDSA_DER, (
                f"the signature is {length} bytes of DER, as Java's SHA256withECDSA or OpenSSL make "
                f"it; JOSE wants the raw r||s form ({expected} bytes). The issuer must convert it"
            )
        if length != expected:
            return Reason.WRONG_LENGTH, (
                f"a {token.alg} signature is {expected} bytes, this one is {length}: it was cut or "
                "made by another algorithm"
            )
    return Reason.WRONG_KEY_OR_ALTERED, ""


def _b64_length(value: str) -> int:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).lstrip(b"\x00"))
    except (binascii.Error, ValueError):
        return 0


def _first_verifying(token: _Token, keys: Iterable[TrustedKey]) -> TrustedKey | None:
    for key in keys:
        jwk = _pyjwk(key, token.alg)
        if jwk is not None and _verify(token, jwk) is _Check.OK:
            return key
    return None


def _fits(key: TrustedKey, alg: str) -> bool:
    if key.jwk.get("use") not in (None, "sig"):
        return False
    if alg[:2] in ("RS", "PS"):
        return key.kty == "RSA"
    if alg in _EC_CURVES:
        return key.kty == "EC" and key.jwk.get("crv") == _EC_CURVES[alg][0]
    if alg == "EdDSA":
        return key.kty == "OKP" and key.jwk.get("crv") in ("Ed25519", "Ed448")
    return False


def _pyjwk(key: TrustedKey, alg: str) -> PyJWK | None:
    from cryptography.exceptions import UnsupportedAlgorithm
    from jwt import PyJWK
    from jwt.exceptions import PyJWTError

    try:
        return PyJWK(dict(key.jwk), algorithm=alg)
    except (PyJWTError, ValueError, TypeError, KeyError, UnsupportedAlgorithm):
        return None


def _verify(token: _Token, key: PyJWK | bytes) -> _Check:
    """PyJWT's JWS layer, the algorithm pinned to the header's and the key given: nothing else is trusted."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from jwt.api_jws import PyJWS
    from jwt.exceptions import InvalidAlgorithmError, InvalidKeyError, InvalidSignatureError, PyJWTError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InsecureKeyLengthWarning: a short secret is still the issuer's secret
        try:
            PyJWS().decode_complete(token.raw, key=key, algorithms=[token.alg], options={"verify_signature": True})
        except InvalidSignatureError:
            return _Check.BAD
        except (InvalidKeyError, InvalidAlgorithmError):
            return _Check.UNUSABLE
        except PyJWTError:
            return _Check.REFUSED
        except (ValueError, TypeError, UnsupportedAlgorithm):
            return _Check.UNUSABLE
    return _Check.OK


def _refused_header(header: Mapping[str, JSONValue]) -> str | None:
    """What makes every validator refuse the header before looking at the signature (RFC 7515 §4.1.11)."""
    crit = header.get("crit")
    if crit is not None:
        listed = ", ".join(show(item, 24) for item in crit[:4]) if isinstance(crit, list) else show(crit, 40)
        return (
            f"the header marks extensions as critical (crit: {listed}): a validator must understand each of them "
            "or refuse the token, and the common libraries understand none but b64"
        )
    if header.get("b64") is False:
        return "the header sets b64 to false (an unencoded, detached payload), which a JWT cannot use"
    if "kid" in header and not isinstance(header.get("kid"), str):
        return f"kid is {show(header.get('kid'), 40)}, not a string: validators refuse the header"
    return None


def _supported_algorithms() -> frozenset[str]:
    from jwt.algorithms import get_default_algorithms

    return frozenset(name for name in get_default_algorithms() if name != "none")


def _failed(resolution: KeyResolution, *, secret: bool = False) -> list[SourceFailure]:
    """The failures that matter for this kind of token: HMAC secrets for HS*, the others for public keys."""
    return [failure for failure in resolution.failures if failure.secret is secret]


def _source_failed(resolution: KeyResolution, *, secret: bool = False) -> SignatureOutcome:
    details = "; ".join(failure.detail for failure in _failed(resolution, secret=secret)[:3])
    return SignatureOutcome(SignatureStatus.KEY_SOURCE_FAILED, details or "no key source answered")


def _finding(
    cause: CauseId, reason: Reason, detail: str, likelihood: float, summary: str, claim: str | None = None
) -> Finding:
    return Finding(cause, Evidence(claim, reason, detail), likelihood, summary)


def describe_key(key: TrustedKey) -> str:
    """``key k-2026 from login.acme.test``, ``the key in keys/orders.pem``: what was verified with."""
    kid = key.kid
    if kid:
        name = f"key {kid}" if _PLAIN_KID.fullmatch(kid) else f"key {show(kid, 40)}"
    else:
        name = f"the {key.kty} key {thumbprint(key)[:8]}" if key.indexed else "the key"
    place = printable(key.origin)[:120]
    return f"{name} from {place}" if key.indexed else (f"{name} in {place}")


def _kind(key: TrustedKey) -> str:
    crv = key.jwk.get("crv")
    return f"an {key.kty} {crv} key" if crv and key.kty in ("EC", "OKP") else f"an {key.kty} key"


def _key_list(keys: Sequence[TrustedKey]) -> str:
    shown = [describe_key(key) for key in keys[:4]]
    return ", ".join(shown) + (", …" if len(keys) > 4 else "")


def thumbprint(key: TrustedKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url): names a key that has no kid."""
    members = _THUMBPRINT_MEMBERS.get(key.kty, ("kty",))
    canonical = json.dumps({name: key.jwk.get(name, "") for name in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
