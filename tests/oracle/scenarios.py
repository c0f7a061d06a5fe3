"""A seeded, deterministic generator of scenarios: a signed token, what the API expects, and an instant.

The same seed gives the same scenarios (and, with the fixed keys of ``tokens``, the same tokens). Nothing here
says what a library does with a scenario: the libraries themselves are asked (``libraries``).

``ERROR_CASES`` are the scenarios whose errors are captured from each library, to feed the library's own
words to jwtcheck (``test_error_texts_real``); each names the causes that fit it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.oracle.tokens import sign

SEED = 20261118
BASE = 1_795_000_000  # 2026-11-18T11:06:40Z; the numeric strings below ("1795003600") are an hour later
ISS = "https://login.acme.test/"
AUD = "orders-api"
MISSING = object()  # a claim left out of the token


@dataclass(frozen=True)
class Scenario:
    id: str
    group: str
    description: str
    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    key: str  # the key the API verifies with: "hs" (the HMAC secret) or "rsa" (the test public key)
    algorithms: tuple[str, ...]
    audiences: tuple[str, ...] | None  # None: no audience configured
    issuer: str | None  # None: no issuer configured
    leeway: float
    at_ms: int  # the instant the API judges at, in Unix milliseconds
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def at(self) -> float:
        return self.at_ms / 1000

    @property
    def at_iso(self) -> str:
        return datetime.fromtimestamp(self.at_ms / 1000, UTC).isoformat(timespec="milliseconds")

    def expectations(self) -> str:
        aud = "none" if self.audiences is None else "|".join(self.audiences)
        iss = self.issuer if self.issuer is not None else "none"
        return f"aud={aud} iss={iss} alg={','.join(self.algorithms)} leeway={self.leeway:g}s key={self.key}"

    def for_runner(self) -> dict[str, Any]:
        """What a library runner needs: the token, the API's key and options, and the instant."""
        return {
            "id": self.id,
            "token": self.token,
            "key": self.key,
            "algorithms": list(self.algorithms),
            "audience": None if self.audiences is None else list(self.audiences),
            "issuer": self.issuer,
            "leeway": self.leeway,
            "at_ms": self.at_ms,
        }


def _fmt(value: Any) -> str:
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _delta(seconds: float) -> str:
    if seconds == 0:
        return "= now"
    way = "ahead" if seconds > 0 else "ago"
    return f"{abs(seconds):g} s {way}"


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.scenarios: list[Scenario] = []
        self.counts: dict[str, int] = {}

    def instant(self, fraction: int | None = None) -> tuple[int, int]:
        """(whole second, instant in ms): a random day in the 30 after BASE, sometimes mid-second."""
        second = BASE + self.rng.randrange(0, 30 * 86400)
        if fraction is None:
            fraction = self.rng.choice((0, 0, 0, 400, 600))
        return second, second * 1000 + fraction

    def expectations(self) -> tuple[str, tuple[str, ...] | None, str | None]:
        """A drawn algorithm (the API's key follows from it), audiences (or none) and issuer (or none)."""
        alg = self.rng.choice(("HS256", "RS256"))
        audiences = self.rng.choice(((AUD,), (AUD, "billing-api"), None))
        issuer = self.rng.choice((ISS, None))
        return alg, audiences, issuer

    def add(
        self,
        group: str,
        description: str,
        claims: dict[str, Any],
        *,
        at_ms: int,
        alg: str | None = None,
        key: str | None = None,
        algorithms: tuple[str, ...] | None = None,
        audiences: tuple[str, ...] | object | None = MISSING,
        issuer: str | object | None = MISSING,
        leeway: float = 0,
        signer: str | None = None,
        header: dict[str, Any] | None = None,
        tags: frozenset[str] = frozenset(),
    ) -> None:
        """One scenario; what is not given is drawn (alg and key match, aud and iss are consistent)."""
        drawn_alg, drawn_auds, drawn_iss = self.expectations()
        alg = alg or drawn_alg
        key = key or ("hs" if alg.startswith("HS") else "rsa")
        algorithms = algorithms or (alg,)
        body = {name: value for name, value in claims.items() if value is not MISSING}
        if audiences is MISSING:
            audiences = drawn_auds
            if "aud" not in claims:
                body = {"aud": AUD, **body} if audiences is not None else body
        if issuer is MISSING:
            issuer = drawn_iss
            if "iss" not in claims:
                body = {"iss": ISS, **body} if issuer is not None else body
        body.setdefault("sub", "user-42")
        head = header or {"alg": alg, "typ": "JWT"}
        signer = signer or ("hs" if alg.startswith("HS") else "rsa")
        self.counts[group] = self.counts.get(group, 0) + 1
        scenario = Scenario(
            id=f"{group}-{self.counts[group]:03d}",
            group=group,
            description=description,
            token=sign(head, body, signer),
            header=head,
            claims=body,
            key=key,
            algorithms=algorithms,
            audiences=audiences,  # type: ignore[arg-type]
            issuer=issuer,  # type: ignore[arg-type]
            leeway=leeway,
            at_ms=at_ms,
            tags=tags,
        )
        self.scenarios.append(scenario)


def _frac(at_ms: int) -> str:
    return f" (instant +0.{at_ms % 1000:03d} s)" if at_ms % 1000 else ""


def _time_claim(builder: _Builder, claim: str, deltas: list[int], leeways: tuple[int, ...], extra: int) -> None:
    """exp/nbf/iat at many offsets from the instant, around each leeway, plus ``extra`` random ones."""
    rng = builder.rng
    plans: list[tuple[int, int]] = []
    for leeway in leeways:
        for delta in deltas:
            plans.append((leeway, delta))
        edge = -leeway if claim == "exp" else leeway  # the leeway's own boundary, then one second either side
        plans += [(leeway, edge - 1), (leeway, edge), (leeway, edge + 1)]
    for _ in range(extra):
        plans.append((rng.choice((0, 0, 5, 10, 30, 60, 120)), rng.randint(-400, 400)))
    seen: set[tuple[int, int]] = set()
    for leeway, delta in plans:
        if (leeway, delta) in seen:
            continue
        seen.add((leeway, delta))
        second, at_ms = builder.instant()
        claims: dict[str, Any] = {"iat": second - 120, "exp": second + 3600}
        if claim == "exp":
            claims = {"iat": second + min(delta, 0) - 3600, "exp": second + delta}
        elif claim == "nbf":
            claims["nbf"] = second + delta
        else:  # iat
            claims["iat"] = second + delta
        builder.add(
            claim,
            f"{claim} {_delta(delta)} (whole seconds), leeway {leeway} s{_frac(at_ms)}",
            claims,
            at_ms=at_ms,
            leeway=leeway,
        )


def _fractions(builder: _Builder) -> None:
    """Fractions of a second: a whole-second claim less than a second ahead, and float claims."""
    for claim in ("exp", "nbf", "iat"):
        for fraction, delta in ((600, 1), (600, 0), (400, 1), (999, 1), (1, 0)):
            second, at_ms = builder.instant(fraction)
            claims: dict[str, Any] = {"iat": second - 120, "exp": second + 3600}
            claims[claim] = second + delta
            ahead = (second + delta) * 1000 - at_ms
            builder.add(
                "fraction",
                f"{claim} = whole second {ahead / 1000:+.3f} s from an instant at +0.{fraction:03d} s",
                claims,
                at_ms=at_ms,
            )
        for offset in (0.4, -0.4, 0.9, 1.5):
            second, at_ms = builder.instant(0)
            claims = {"iat": second - 120, "exp": second + 3600}
            claims[claim] = second + offset
            builder.add("fraction", f"{claim} a float {offset:+g} s from a whole-second instant", claims, at_ms=at_ms)


def _milliseconds(builder: _Builder) -> None:
    for claim, delta in (("exp", 3600), ("exp", -3600), ("exp", -86400 * 400), ("iat", -60), ("nbf", -60)):
        second, at_ms = builder.instant()
        claims: dict[str, Any] = {"iat": second - 120, "exp": second + 3600}
        claims[claim] = (second + delta) * 1000
        builder.add("ms", f"{claim} in milliseconds ({_delta(delta)} in seconds)", claims, at_ms=at_ms)
    second, at_ms = builder.instant()
    claims = {"iat": (second - 60) * 1000, "exp": (second + 3600) * 1000}
    builder.add("ms", "iat and exp both in milliseconds", claims, at_ms=at_ms)
    second, at_ms = builder.instant()
    claims = {"iat": (second - 60) * 1000, "nbf": (second - 60) * 1000, "exp": (second + 3600) * 1000}
    builder.add("ms", "iat, nbf and exp all in milliseconds", claims, at_ms=at_ms)


def _odd_values(builder: _Builder) -> None:
    """Negative and zero values, numeric strings, floats, booleans, null, arrays, far-future dates."""
    at_ms = BASE * 1000  # the numeric strings are an hour after BASE
    values: list[tuple[str, Any, int]] = [
        ("nbf", -1, at_ms),
        ("nbf", 0, at_ms),
        ("nbf", -86400, at_ms),
        ("iat", 0, at_ms),
        ("iat", -1, at_ms),
        ("exp", 0, at_ms),
        ("exp", -1, at_ms),
        ("exp", -1_795_003_600, at_ms),
        ("exp", 253_402_300_799, at_ms),  # 9999-12-31T23:59:59Z
        ("exp", 32_503_680_000, at_ms),  # year 3000
        ("exp", "1795003600", at_ms),
        ("exp", "1795003600.5", at_ms),
        ("exp", "1795003600", (BASE + 7200) * 1000),
        ("exp", " 1795003600", at_ms),
        ("exp", "tomorrow", at_ms),
        ("nbf", "1795000000", (BASE + 60) * 1000),
        ("nbf", "1795003600", at_ms),
        ("iat", "1795000000", (BASE + 60) * 1000),
        ("iat", "1794999999.9", at_ms),
        ("exp", 1_795_003_600.5, at_ms),
        ("exp", 1_794_999_999.5, at_ms),
        ("exp", 1_795_000_000.5, at_ms),
        ("nbf", 1_794_999_940.25, at_ms),
        ("nbf", 1_795_000_000.5, at_ms),
        ("iat", 1_794_999_940.75, at_ms),
        ("exp", True, at_ms),
        ("exp", False, at_ms),
        ("nbf", True, at_ms),
        ("nbf", False, at_ms),
        ("iat", True, at_ms),
        ("exp", None, at_ms),
        ("nbf", None, at_ms),
        ("iat", None, at_ms),
        ("exp", [1_795_003_600], at_ms),
        ("exp", {"value": 1_795_003_600}, at_ms),
    ]
    for claim, value, when in values:
        second = when // 1000
        claims: dict[str, Any] = {"iat": second - 60, "exp": second + 3600}
        claims[claim] = value
        builder.add(
            "types",
            f"{claim} = {_fmt(value)} at {datetime.fromtimestamp(second, UTC):%Y-%m-%dT%H:%M:%SZ}",
            claims,
            at_ms=when,
        )


def _missing(builder: _Builder) -> None:
    cases: list[tuple[str, dict[str, Any], Any, Any]] = [
        ("no exp", {"iat": -60, "exp": MISSING}, MISSING, MISSING),
        ("no iat", {"iat": MISSING, "exp": 3600}, MISSING, MISSING),
        ("no exp and no iat", {"iat": MISSING, "exp": MISSING}, MISSING, MISSING),
        ("only sub", {"iat": MISSING, "exp": MISSING, "aud": MISSING, "iss": MISSING}, None, None),
        ("no aud, audience configured", {"iat": -60, "exp": 3600, "aud": MISSING}, (AUD,), MISSING),
        ("no aud, two audiences configured", {"iat": -60, "exp": 3600, "aud": MISSING}, (AUD, "billing-api"), MISSING),
        ("no iss, issuer configured", {"iat": -60, "exp": 3600, "iss": MISSING}, MISSING, ISS),
        ("no aud and no iss, both configured", {"iat": -60, "exp": 3600, "aud": MISSING, "iss": MISSING}, (AUD,), ISS),
        ("no aud, no iss, nothing configured", {"iat": -60, "exp": 3600, "aud": MISSING, "iss": MISSING}, None, None),
        ("no sub", {"iat": -60, "exp": 3600, "sub": MISSING}, MISSING, MISSING),
    ]
    for description, relative, audiences, issuer in cases:
        second, at_ms = builder.instant()
        claims = {
            name: (second + value if isinstance(value, int) and name in ("iat", "exp") else value)
            for name, value in relative.items()
        }
        builder.add("missing", description, claims, at_ms=at_ms, audiences=audiences, issuer=issuer)


def _audience(builder: _Builder) -> None:
    near = [
        ("orders-api/", "trailing slash"),
        ("Orders-API", "letter case"),
        ("api://orders-api", "api:// prefix"),
        ("https://orders-api", "URL form"),
        ("orders-api ", "trailing space"),
        ("orders", "prefix only"),
        ("account", "Keycloak's account"),
        ("billing-api", "another API"),
    ]
    configs: list[tuple[str, ...]] = [(AUD,), (AUD, "billing-api"), ("https://api.acme.test/orders",)]
    for expected in configs:
        first = expected[0]
        tokens: list[tuple[Any, str]] = [
            (first, "exact"),
            ([first], "one-element array"),
            (["other-api", first], "array holding it second"),
            (["other-api", "more-api"], "array without it"),
            ([], "empty array"),
            ("", "empty string"),
        ]
        for aud, what in tokens:
            second, at_ms = builder.instant()
            builder.add(
                "aud",
                f"aud {_fmt(aud)} ({what}), expected {'|'.join(expected)}",
                {"aud": aud, "iat": second - 60, "exp": second + 3600},
                at_ms=at_ms,
                audiences=expected,
            )
    for aud, what in near:
        second, at_ms = builder.instant()
        builder.add(
            "aud",
            f"aud {_fmt(aud)} (near miss: {what}), expected {AUD}",
            {"aud": aud, "iat": second - 60, "exp": second + 3600},
            at_ms=at_ms,
            audiences=(AUD,),
        )
    for aud, what in ((123, "a number"), ({"id": AUD}, "an object"), ([AUD, 7], "array with a number")):
        second, at_ms = builder.instant()
        builder.add(
            "aud",
            f"aud {_fmt(aud)} ({what}), expected {AUD}",
            {"aud": aud, "iat": second - 60, "exp": second + 3600},
            at_ms=at_ms,
            audiences=(AUD,),
        )
    unconfigured: list[tuple[Any, str]] = [
        (AUD, "the right one"),
        ("somebody-elses-api", "a wrong one"),
        ([AUD, "billing-api"], "an array"),
        ([], "an empty array"),
        ("", "an empty string"),
    ]
    for aud, what in unconfigured:
        second, at_ms = builder.instant()
        builder.add(
            "aud",
            f"no audience configured, token aud {_fmt(aud)} ({what})",
            {"aud": aud, "iat": second - 60, "exp": second + 3600},
            at_ms=at_ms,
            audiences=None,
        )


def _issuer(builder: _Builder) -> None:
    tokens: list[tuple[Any, str]] = [
        (ISS, "exact"),
        ("https://login.acme.test", "no trailing slash"),
        ("http://login.acme.test/", "http, not https"),
        ("https://LOGIN.acme.test/", "letter case"),
        ("https://login.acme.test:443/", "explicit port"),
        ("https://login.acme.test/v2.0", "another path"),
        ("https://evil.example/", "another issuer"),
        ("", "empty string"),
        (123, "a number"),
        ([ISS], "an array"),
    ]
    for iss, what in tokens:
        second, at_ms = builder.instant()
        builder.add(
            "iss",
            f"iss {_fmt(iss)} ({what}), expected {ISS}",
            {"iss": iss, "iat": second - 60, "exp": second + 3600},
            at_ms=at_ms,
            issuer=ISS,
        )
    for iss in (ISS, "https://evil.example/"):
        second, at_ms = builder.instant()
        builder.add(
            "iss",
            f"no issuer configured, token iss {_fmt(iss)}",
            {"iss": iss, "iat": second - 60, "exp": second + 3600},
            at_ms=at_ms,
            issuer=None,
        )


def _algorithms(builder: _Builder) -> None:
    cases: list[tuple[str, dict[str, Any], str, str, tuple[str, ...], str]] = [
        # description, header, signer, key, allowed algorithms
        ("HS256 token, HS256 allowed", {"alg": "HS256", "typ": "JWT"}, "hs", "hs", ("HS256",), ""),
        ("RS256 token, RS256 allowed", {"alg": "RS256", "typ": "JWT"}, "rsa", "rsa", ("RS256",), ""),
        ("RS256 token with a kid, RS256 allowed", {"alg": "RS256", "kid": "k-1"}, "rsa", "rsa", ("RS256",), ""),
        ("HS256 token without typ", {"alg": "HS256"}, "hs", "hs", ("HS256",), ""),
        ("HS256 token, RS256 allowed (RSA key)", {"alg": "HS256", "typ": "JWT"}, "hs", "rsa", ("RS256",), ""),
        ("RS256 token, HS256 allowed (secret)", {"alg": "RS256", "typ": "JWT"}, "rsa", "hs", ("HS256",), ""),
        ("HS384 token, HS256 allowed", {"alg": "HS384", "typ": "JWT"}, "hs", "hs", ("HS256",), ""),
        ("HS512 token, HS256 allowed", {"alg": "HS512", "typ": "JWT"}, "hs", "hs", ("HS256",), ""),
        ("HS384 token, HS256 and HS384 allowed", {"alg": "HS384", "typ": "JWT"}, "hs", "hs", ("HS256", "HS384"), ""),
        ("alg none, HS256 allowed", {"alg": "none", "typ": "JWT"}, "none", "hs", ("HS256",), ""),
        ("HS256 signed with another secret", {"alg": "HS256", "typ": "JWT"}, "hs_other", "hs", ("HS256",), ""),
        ("HS256 payload changed after signing", {"alg": "HS256", "typ": "JWT"}, "tampered_hs", "hs", ("HS256",), ""),
        ("RS256 payload changed after signing", {"alg": "RS256", "typ": "JWT"}, "tampered_rsa", "rsa", ("RS256",), ""),
        ("HS256 token, HS256 allowed, expired 1 h", {"alg": "HS256"}, "hs", "hs", ("HS256",), "expired"),
        ("RS256 token, HS256 allowed, expired 1 h", {"alg": "RS256"}, "rsa", "hs", ("HS256",), "expired"),
    ]
    for description, header, signer, key, allowed, variant in cases:
        second, at_ms = builder.instant()
        exp = second - 3600 if variant == "expired" else second + 3600
        builder.add(
            "alg",
            description,
            {"iat": exp - 7200, "exp": exp},
            at_ms=at_ms,
            alg=header["alg"] if header["alg"] != "none" else "HS256",
            key=key,
            algorithms=allowed,
            signer=signer,
            header=header,
        )


def _mixed(builder: _Builder, count: int) -> None:
    """Random combinations: time claims, audience and issuer, each right or wrong, in one token."""
    rng = builder.rng
    for _ in range(count):
        second, at_ms = builder.instant()
        leeway = rng.choice((0, 0, 10, 30, 60))
        claims: dict[str, Any] = {}
        parts: list[str] = []
        for claim in ("iat", "nbf", "exp"):
            choice = rng.choice(("absent", "past", "near", "future"))
            if claim == "exp" and choice == "absent":
                choice = "future"
            if choice == "absent":
                continue
            delta = {
                "past": rng.randint(-7200, -400),
                "near": rng.randint(-90, 90),
                "future": rng.randint(400, 7200),
            }[choice]
            if claim == "exp" and choice == "past":
                delta = rng.randint(-7200, -1)
            claims[claim] = second + delta
            parts.append(f"{claim} {_delta(delta)}")
        audiences = rng.choice(((AUD,), (AUD, "billing-api"), None))
        if audiences is not None:
            aud = rng.choice((AUD, AUD, "billing-api", "orders-api/", [AUD, "x"], MISSING))
            claims["aud"] = aud
            parts.append(f"aud {_fmt(aud)} vs {'|'.join(audiences)}")
        issuer = rng.choice((ISS, ISS, None))
        if issuer is not None:
            iss = rng.choice((ISS, ISS, "https://login.acme.test", MISSING))
            claims["iss"] = iss
            parts.append(f"iss {_fmt(iss)} vs {issuer}")
        builder.add(
            "mixed",
            ", ".join(parts) + f", leeway {leeway} s{_frac(at_ms)}",
            claims,
            at_ms=at_ms,
            audiences=audiences,
            issuer=issuer,
            leeway=leeway,
        )


def generate(seed: int = SEED) -> list[Scenario]:
    """About 300 scenarios, the same ones for the same seed."""
    builder = _Builder(seed)
    offsets = [-86400, -3600, -301, -61, -1, 0, 1, 59, 61, 3600]
    _time_claim(builder, "exp", offsets, (0, 30, 60), extra=14)
    _time_claim(builder, "nbf", offsets, (0, 30, 60), extra=14)
    _time_claim(builder, "iat", [-3600, -1, 0, 1, 5, 61, 3600], (0, 60), extra=8)
    _fractions(builder)
    _milliseconds(builder)
    _odd_values(builder)
    _missing(builder)
    _audience(builder)
    _issuer(builder)
    _algorithms(builder)
    _mixed(builder, 40)
    return builder.scenarios


@dataclass(frozen=True)
class ErrorCase:
    """A token each named library refuses; its error, in the library's own words, goes to jwtcheck."""

    id: str
    scenario: Scenario
    causes: frozenset[str]  # the cause ids that fit
    libraries: tuple[str, ...] = ("jsonwebtoken", "jose", "pyjwt")


def error_cases() -> list[ErrorCase]:
    second = BASE
    at_ms = second * 1000

    def scenario(
        name: str,
        claims: dict[str, Any],
        *,
        alg: str = "HS256",
        key: str = "hs",
        algorithms: tuple[str, ...] = ("HS256",),
        audiences: tuple[str, ...] | None = None,
        issuer: str | None = None,
        signer: str | None = None,
        token: str | None = None,
    ) -> Scenario:
        body = {"sub": "user-42", **claims}
        head = {"alg": alg, "typ": "JWT"}
        return Scenario(
            id=f"error-{name}",
            group="error",
            description=name,
            token=token or sign(head, body, signer or ("hs" if alg.startswith("HS") else "rsa")),
            header=head,
            claims=body,
            key=key,
            algorithms=algorithms,
            audiences=audiences,
            issuer=issuer,
            leeway=0,
            at_ms=at_ms,
        )

    fine = {"iat": second - 60, "exp": second + 3600}
    return [
        ErrorCase("expired", scenario("expired", {"iat": second - 7200, "exp": second - 3600}), frozenset({"expired"})),
        ErrorCase(
            "expired_seconds_ago",
            scenario("expired_seconds_ago", {"iat": second - 3600, "exp": second - 20}),
            frozenset({"expired", "clock_skew"}),
        ),
        ErrorCase(
            "nbf_future",
            scenario("nbf_future", {**fine, "nbf": second + 45}),
            frozenset({"not_yet_valid", "clock_skew"}),
        ),
        ErrorCase(
            "iat_future",
            scenario("iat_future", {"iat": second + 45, "exp": second + 3600}),
            frozenset({"issued_in_future", "clock_skew", "not_yet_valid"}),
            libraries=("pyjwt",),  # the JS libraries do not check iat against the clock (asked, not assumed)
        ),
        ErrorCase(
            "audience_mismatch",
            scenario("audience_mismatch", {**fine, "aud": "billing-api"}, audiences=(AUD,)),
            frozenset({"audience_mismatch"}),
        ),
        ErrorCase(
            "audience_missing",
            scenario("audience_missing", dict(fine), audiences=(AUD,)),
            frozenset({"missing_claim", "audience_mismatch"}),
        ),
        ErrorCase(
            "audience_unconfigured",
            scenario("audience_unconfigured", {**fine, "aud": "billing-api"}, audiences=None),
            frozenset({"audience_mismatch"}),
            libraries=("pyjwt",),  # PyJWT refuses a token with aud when no audience= was passed
        ),
        ErrorCase(
            "issuer_mismatch",
            scenario("issuer_mismatch", {**fine, "iss": "https://evil.example/"}, issuer=ISS),
            frozenset({"issuer_mismatch"}),
        ),
        ErrorCase(
            "issuer_missing",
            scenario("issuer_missing", dict(fine), issuer=ISS),
            frozenset({"missing_claim", "issuer_mismatch"}),
        ),
        ErrorCase(
            "exp_not_a_number",
            scenario("exp_not_a_number", {"iat": second - 60, "exp": "1795003600.5"}),
            frozenset({"invalid_claim_type"}),
        ),
        ErrorCase(
            "alg_not_allowed",
            scenario("alg_not_allowed", dict(fine), key="rsa", algorithms=("RS256",)),
            frozenset({"algorithm_not_allowed"}),
        ),
        ErrorCase(
            "signature_invalid",
            scenario("signature_invalid", dict(fine), signer="hs_other"),
            frozenset({"signature_invalid"}),
        ),
        ErrorCase(
            "malformed",
            scenario("malformed", dict(fine), token="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0"),
            frozenset({"malformed"}),
        ),
        ErrorCase(
            # PyJWT 2.8.0: InvalidKeyError; jsonwebtoken: a symmetric key is needed; jose: key type
            "hs256_with_rsa_public_key",
            scenario("hs256_with_rsa_public_key", dict(fine), key="rsa", algorithms=("HS256",)),
            frozenset({"algorithm_not_allowed"}),
        ),
        ErrorCase(
            # jose: an RS256 verify given a Uint8Array secret; jsonwebtoken: an asymmetric key is needed.
            # PyJWT 2.8.0 lets cryptography's PEM loader fail here (a ValueError naming no JWT library).
            "rs256_with_secret",
            scenario("rs256_with_secret", dict(fine), alg="RS256", key="hs", algorithms=("RS256",)),
            frozenset({"algorithm_not_allowed"}),
            libraries=("jsonwebtoken", "jose"),
        ),
    ]
