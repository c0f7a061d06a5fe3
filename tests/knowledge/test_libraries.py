"""The per-library behaviour table (bot/knowledge/data/error_texts/libraries.toml) and its model.

The table's facts are pinned here, and the model is checked against the real libraries: a seeded set
of a few hundred scenarios (time claims at many offsets, fractions of a second, exactly on each
boundary, milliseconds, negative values, numeric strings, floats, booleans, null, arrays, aud and iss
right, wrong, missing and unconfigured, algorithms allowed or not) goes to PyJWT 2.8.0, jsonwebtoken
9.0.0 and jose 6 through the oracle harness of tests/oracle (its install script and runners), and
``accepts`` must give each library's own verdict and error on every one of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.model import Expectations
from bot.knowledge.advise import NAMED
from bot.knowledge.libraries import (
    AUDIENCE_NOT_CONFIGURED,
    LIBRARIES_PATH,
    LibrariesError,
    LibraryFacts,
    Outcome,
    accepts,
    audience_split,
    default_libraries,
    describe_library,
    describe_split,
    load_libraries,
    may_differ,
    split,
)

NOW = 1_795_000_000  # 2026-11-18T11:06:40Z, a whole second
HS = {"alg": "HS256", "typ": "JWT"}
ORACLE_LIBRARIES = ("pyjwt", "jsonwebtoken", "jose")


@pytest.fixture(scope="module")
def table() -> dict[str, LibraryFacts]:
    return dict(default_libraries())


def expect(
    *, aud: tuple[str, ...] = (), iss: tuple[str, ...] = (), alg: tuple[str, ...] = ("HS256",), leeway: float = 0
) -> Expectations:
    return Expectations(audiences=aud, issuers=iss, algorithms=alg, leeway=leeway)


def verdicts(claims: dict[str, Any], expectations: Expectations | None = None, now: float = NOW) -> dict[str, str]:
    outcomes = split(HS, claims, expectations or expect(), now)
    return {library: outcome.status for library, outcome in outcomes.items()}


# --- the table ---------------------------------------------------------------------------------


def test_the_table_loads_with_every_named_library(table: dict[str, LibraryFacts]) -> None:
    assert set(table) >= {
        "pyjwt",
        "jsonwebtoken",
        "express-jwt",
        "jose",
        "spring-security",
        "microsoft-identitymodel",
        "golang-jwt",
    }
    assert table["pyjwt"].version == "2.8.0"
    assert table["jsonwebtoken"].version == "9.0.0"
    assert table["express-jwt"].version == "8.4.0"
    assert table["jose"].version.startswith("6.")
    assert table["spring-security"].version == "6.2.0"


def test_the_library_ids_are_the_diagnosis_ids(table: dict[str, LibraryFacts]) -> None:
    from bot.diagnosis.ids import Library

    assert set(table) <= {library.value for library in Library}


def test_every_row_cites_its_source(table: dict[str, LibraryFacts]) -> None:
    for library, facts in table.items():
        rows = facts.rows()
        assert rows["library"].strip(), library
        if facts.delegates_to is None:
            assert set(rows) >= {"leeway", "clock", "numeric_date", "exp", "nbf", "iat", "audience", "issuer"}
        for row, source in rows.items():
            assert len(source) > 20, f"{library}.{row} cites no source"
            if facts.verified == "reference":
                assert source.startswith("reference note jwt-library-errors.md"), f"{library}.{row}"
            elif facts.verified == "oracle":
                assert any(part in source for part in (".py", ".js")), f"{library}.{row} names no source file"


def test_the_default_leeways(table: dict[str, LibraryFacts]) -> None:
    defaults = {library: facts.leeway.default for library, facts in table.items()}
    assert defaults == {
        "pyjwt": 0,
        "jsonwebtoken": 0,
        "express-jwt": 0,
        "jose": 0,
        "spring-security": 60,
        "microsoft-identitymodel": 300,
        "golang-jwt": 0,
    }


def test_the_clock_resolution(table: dict[str, LibraryFacts]) -> None:
    assert (table["pyjwt"].clock.now, table["pyjwt"].clock.claim) == ("exact", "truncate")
    assert (table["jsonwebtoken"].clock.now, table["jsonwebtoken"].clock.claim) == ("floor", "as_is")
    assert (table["jose"].clock.now, table["jose"].clock.claim) == ("floor", "as_is")
    assert table["pyjwt"].clock.whole_seconds and table["jose"].clock.whole_seconds
    assert table["spring-security"].clock.whole_seconds is None


def test_express_jwt_is_jsonwebtoken_wrapped(table: dict[str, LibraryFacts]) -> None:
    facts = table["express-jwt"]
    assert facts.delegates_to == "jsonwebtoken"
    assert facts.claims == table["jsonwebtoken"].claims
    outcome = accepts("express-jwt", HS, {"exp": NOW - 1}, expect(), NOW)
    assert outcome.error is not None
    assert (outcome.error.name, outcome.error.message) == ("UnauthorizedError", "jwt expired")
    assert (outcome.error.code, outcome.error.inner) == ("invalid_token", "TokenExpiredError")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "libraries.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_row_names_the_file_the_line_and_the_key(tmp_path: Path) -> None:
    text = LIBRARIES_PATH.read_text(encoding="utf-8").replace(
        'refused_if = "claim <= now - leeway"', 'refused_if = "claim =< now - leeway"', 1
    )
    with pytest.raises(LibrariesError) as caught:
        load_libraries(_write(tmp_path, text))
    (line,) = caught.value.problems
    assert line.startswith("libraries.toml:")
    assert ": pyjwt.exp.refused_if: " in line
    number = int(line.split(":")[1])
    assert "claim =< now" in text.splitlines()[number - 1]


def test_more_bad_rows(tmp_path: Path) -> None:
    original = LIBRARIES_PATH.read_text(encoding="utf-8")
    cases = {
        'checked = "always"\ntype_checked': ('checked = "sometimes"\ntype_checked', "pyjwt.exp.checked"),
        'integer_strings = "int"': ('integer_strings = "maybe"', "pyjwt.numeric_date.integer_strings"),
        "default = 60": ("default = -1", "spring-security.leeway.default"),
        'delegates_to = "jsonwebtoken"': ('delegates_to = "nobody"', "express-jwt.delegates_to"),
    }
    for old, (new, key) in cases.items():
        assert old in original, old
        with pytest.raises(LibrariesError) as caught:
            load_libraries(_write(tmp_path, original.replace(old, new, 1)))
        assert any(f": {key}: " in problem for problem in caught.value.problems), caught.value.problems
    spring_source = 'source = "reference note jwt-library-errors.md, Spring Security 6.2.0: J/JwtValidators.java'
    assert spring_source in original
    with pytest.raises(LibrariesError, match=r"spring-security\.iat\.source: a reference library"):
        load_libraries(_write(tmp_path, original.replace(spring_source, 'source = "from memory: J/JwtValidators.java')))
    with pytest.raises(LibrariesError, match=r"libraries\.toml:1: not valid TOML"):
        load_libraries(_write(tmp_path, "[pyjwt\n"))
    with pytest.raises(LibrariesError, match=r"pyjwt\.exp\.source: missing"):
        load_libraries(_write(tmp_path, original.replace('source = "jwt/api_jwt.py PyJWT._validate_exp', 'x = "', 1)))


# --- what the libraries do (the facts behind the card's sentences) -------------------------------


def test_pyjwt_truncates_a_fraction_of_a_second() -> None:
    """An nbf 0.4 s ahead: PyJWT reads int(nbf) and accepts; jsonwebtoken and jose refuse."""
    now = NOW + 0.3
    claims = {"exp": NOW + 3600, "nbf": NOW + 0.7}
    result = verdicts(claims, now=now)
    assert (result["pyjwt"], result["jsonwebtoken"], result["jose"]) == ("accepted", "refused", "refused")
    claims = {"exp": NOW + 3600, "iat": NOW + 0.7}  # iat a fraction ahead: PyJWT truncates it too
    assert accepts("pyjwt", HS, claims, expect(), now).accepted


def test_pyjwt_expires_a_float_exp_early() -> None:
    """exp = now + 0.4 as a float: int(exp) is already past for PyJWT; jsonwebtoken and jose accept."""
    now = NOW + 0.3
    result = verdicts({"exp": NOW + 0.7}, now=now)
    assert (result["pyjwt"], result["jsonwebtoken"], result["jose"]) == ("refused", "accepted", "accepted")


def test_numeric_strings() -> None:
    at = NOW
    integer = verdicts({"exp": "1795003600"}, now=at)
    assert (integer["pyjwt"], integer["jsonwebtoken"], integer["jose"]) == ("accepted", "refused", "refused")
    decimal = split(HS, {"exp": "1795003600.5"}, expect(), at)
    assert decimal["pyjwt"].error is not None
    assert decimal["pyjwt"].error.one_line == "DecodeError: Expiration Time claim (exp) must be an integer."
    assert all(decimal[library].refused for library in ORACLE_LIBRARIES)


def test_iat_is_read_by_pyjwt_only_and_typed_by_jose() -> None:
    ahead = split(HS, {"exp": NOW + 3600, "iat": NOW + 60}, expect(), NOW)
    assert ahead["pyjwt"].refused and ahead["jsonwebtoken"].accepted and ahead["jose"].accepted
    assert ahead["spring-security"].accepted
    string = split(HS, {"exp": NOW + 3600, "iat": "1794999000"}, expect(), NOW)
    assert string["jsonwebtoken"].accepted  # jsonwebtoken never reads iat
    assert string["jose"].refused  # jose checks iat's type on every token
    assert string["jose"].error is not None and string["jose"].error.message == '"iat" claim must be a number'
    assert string["pyjwt"].accepted  # int("1794999000")


def test_every_validator_does_not_reject_an_nbf_66_s_ahead() -> None:
    claims = {"exp": NOW + 3600, "nbf": NOW + 66}
    times = split(HS, claims, expect(), NOW, checks={"time"})
    assert times["microsoft-identitymodel"].accepted  # ClockSkew 300 s
    assert times["spring-security"].refused  # 60 s
    assert times["pyjwt"].refused and times["jsonwebtoken"].refused and times["jose"].refused


def test_milliseconds_and_negative_values() -> None:
    assert set(verdicts({"exp": (NOW + 3600) * 1000}).values()) >= {"accepted"}
    for library in ORACLE_LIBRARIES:
        assert accepts(library, HS, {"exp": (NOW + 3600) * 1000}, expect(), NOW).accepted
        assert accepts(library, HS, {"exp": NOW + 3600, "nbf": -1}, expect(), NOW).accepted
    assert accepts("pyjwt", HS, {"exp": NOW + 3600, "iat": NOW * 1000}, expect(), NOW).refused


def test_aud_without_a_configured_audience() -> None:
    outcomes = split(HS, {"exp": NOW + 3600, "aud": "orders-api"}, expect(), NOW)
    assert outcomes["pyjwt"].error is not None
    assert outcomes["pyjwt"].error.one_line == "InvalidAudienceError: Invalid audience"
    assert outcomes["jsonwebtoken"].accepted and outcomes["jose"].accepted
    assert outcomes["microsoft-identitymodel"].status == "unknown"
    assert accepts("pyjwt", HS, {"exp": NOW + 3600, "aud": []}, expect(), NOW).accepted  # an empty aud is falsy


def test_audiences_and_issuers() -> None:
    wanted = expect(aud=("orders-api", "billing-api"), iss=("https://login.acme.test/",))
    good = {"exp": NOW + 3600, "aud": ["x", "billing-api"], "iss": "https://login.acme.test/"}
    assert all(accepts(library, HS, good, wanted, NOW).accepted for library in ORACLE_LIBRARIES)
    case = {**good, "aud": "Orders-API"}
    wrong = split(HS, case, wanted, NOW)
    assert wrong["jsonwebtoken"].error is not None
    assert wrong["jsonwebtoken"].error.message == "jwt audience invalid. expected: orders-api or billing-api"
    assert wrong["microsoft-identitymodel"].status == "unknown"  # near misses are not recorded for .NET
    two_issuers = expect(iss=("https://login.acme.test/", "https://other.test/"))
    pyjwt = accepts("pyjwt", HS, good, two_issuers, NOW)
    assert pyjwt.refused and any("whole list" in note for note in pyjwt.notes)  # PyJWT 2.8.0: iss != [list]
    assert accepts("jose", HS, good, two_issuers, NOW).accepted


def test_required_claims_and_the_algorithm() -> None:
    wanted = Expectations(algorithms=("HS256",), required_claims=("sub",))
    outcomes = split(HS, {"exp": NOW + 3600}, wanted, NOW)
    assert outcomes["pyjwt"].error is not None
    assert outcomes["pyjwt"].error.message == 'Token is missing the "sub" claim'
    assert outcomes["jose"].error is not None and outcomes["jose"].error.message == 'missing required "sub" claim'
    assert outcomes["jsonwebtoken"].accepted
    assert any("no option for required claims" in note for note in outcomes["jsonwebtoken"].notes)
    header = {"alg": "HS384"}
    assert (
        accepts("jsonwebtoken", header, {}, wanted, NOW).error
        == accepts("jsonwebtoken", header, {"exp": "x"}, wanted, NOW).error
    )
    golang = accepts("golang-jwt", header, {}, wanted, NOW)
    assert golang.error is not None
    assert golang.error.message == "token signature is invalid: signing method HS384 is invalid"


def test_the_leeway_in_force() -> None:
    claims = {"exp": NOW - 30}
    assert accepts("spring-security", HS, claims, expect(), NOW).accepted  # its own 60 s
    assert accepts("spring-security", HS, claims, expect(leeway=10), NOW).refused  # the service's
    assert accepts("pyjwt", HS, claims, expect(), NOW, leeway=31).accepted
    assert accepts("pyjwt", HS, {"exp": NOW - 30}, expect(), NOW, leeway=30).refused  # exp <= now - leeway


def test_golang_joins_several_failures() -> None:
    outcome = accepts("golang-jwt", HS, {"exp": NOW - 10, "nbf": NOW + 10}, expect(), NOW)
    assert outcome.error is not None
    assert outcome.error.message == "token has invalid claims: token is expired, token is not valid yet"


def test_describe_split() -> None:
    outcomes = split(HS, {"exp": NOW + 3600, "iat": NOW + 60}, expect(), NOW, libraries=ORACLE_LIBRARIES)
    assert describe_split(outcomes) == (
        "PyJWT refuses it (ImmatureSignatureError: The token is not yet valid (iat)); "
        "jsonwebtoken (never checks iat) and jose (checks iat only with maxTokenAge) accept it"
    )
    fine = split(HS, {"exp": NOW + 3600}, expect(), NOW, libraries=ORACLE_LIBRARIES)
    assert describe_split(fine) == "PyJWT, jsonwebtoken and jose all accept it"
    expired = split(HS, {"exp": NOW - 1}, expect(), NOW, libraries=("pyjwt", "jose", "microsoft-identitymodel"))
    assert describe_split(expired) == (
        'PyJWT (ExpiredSignatureError: Signature has expired) and jose (JWTExpired: "exp" claim timestamp check '
        "failed) refuse it; not recorded for .NET (Microsoft.IdentityModel)"
    )


def test_describe_library() -> None:
    pyjwt = describe_library("pyjwt")
    assert pyjwt["clock"] == "PyJWT truncates exp, nbf and iat to whole seconds and compares them with the exact clock"
    assert pyjwt["numeric_strings"].startswith("PyJWT accepts a time claim written as an integer string")
    assert describe_library("jsonwebtoken")["iat"] == "jsonwebtoken never checks iat"
    assert "clock" not in describe_library("spring-security")  # not recorded
    assert describe_library("microsoft-identitymodel")["leeway"].startswith(
        ".NET (Microsoft.IdentityModel) allows 300 s"
    )


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown library"):
        accepts("nope", HS, {}, expect(), NOW)
    with pytest.raises(ValueError, match="unknown checks"):
        accepts("pyjwt", HS, {}, expect(), NOW, checks={"signature"})


# --- the real libraries ---------------------------------------------------------------------------

BASE = NOW
AUD = "orders-api"
ISS = "https://login.acme.test/"


def _scenarios() -> list[Any]:
    """A few hundred scenarios, the same on every run (seeded), all signed so the signature verifies."""
    from tests.oracle.scenarios import Scenario
    from tests.oracle.tokens import sign

    rng = random.Random(20261119)
    made: list[Scenario] = []

    def add(
        group: str,
        claims: dict[str, Any],
        *,
        at_ms: int,
        header: dict[str, Any] | None = None,
        algorithms: tuple[str, ...] = ("HS256",),
        audiences: tuple[str, ...] | None = None,
        issuer: str | None = None,
        leeway: float = 0,
    ) -> None:
        head = header or dict(HS)
        key = "rsa" if head["alg"] == "RS256" else "hs"
        body = {"sub": "user-42", **claims}
        made.append(
            Scenario(
                id=f"k-{group}-{len(made):04d}",
                group=group,
                description=f"{claims} at {at_ms} ms, aud={audiences} iss={issuer} alg={algorithms} leeway={leeway}",
                token=sign(head, body, "rsa" if key == "rsa" else "hs"),
                header=head,
                claims=body,
                key=key,
                algorithms=algorithms,
                audiences=audiences,
                issuer=issuer,
                leeway=leeway,
                at_ms=at_ms,
            )
        )

    def instant(fraction: int) -> tuple[int, int]:
        second = BASE + rng.randrange(0, 30 * 86400)
        return second, second * 1000 + fraction

    def fine(claim: str, second: int) -> dict[str, Any]:
        return {"iat": second - 60, "exp": second + 3600} if claim != "exp" else {"iat": second - 7200}

    leeways = (0, 0, 0, 1, 0.5, 30, 60)
    for claim in ("exp", "nbf", "iat"):
        for fraction in (0, 1, 400, 500, 999):
            for delta in (-3601, -61, -60, -59, -2, -1, 0, 1, 2, 59, 60, 61, 3600):
                second, at_ms = instant(fraction)
                add("time", {**fine(claim, second), claim: second + delta}, at_ms=at_ms, leeway=rng.choice(leeways))
        for fraction in (0, 300, 500):
            for offset in (-1.5, -0.6, -0.5, -0.4, -0.001, 0.0, 0.001, 0.4, 0.5, 0.6, 1.5):
                second, at_ms = instant(fraction)
                value = at_ms / 1000 + offset
                add("fraction", {**fine(claim, second), claim: value}, at_ms=at_ms, leeway=rng.choice((0, 0, 1, 0.5)))
        for leeway in (1, 0.5, 30, 60):
            edge = -leeway if claim == "exp" else leeway
            for fraction in (0, 600):
                for extra in (-1, 0, 1):
                    second, at_ms = instant(fraction)
                    value = second + edge + extra
                    add("boundary", {**fine(claim, second), claim: value}, at_ms=at_ms, leeway=leeway)
        odd: list[Any] = [
            (BASE + 3600) * 1000,
            (BASE - 3600) * 1000,
            -1,
            -1.5,
            -0.5,
            0,
            "1795003600",
            "1795003600.5",
            " 1795003600",
            "1_795_003_600",
            "+1795003600",
            "\u0661\u0667\u0669\u0665\u0660\u0660\u0663\u0666\u0660\u0660",  # Arabic-Indic digits
            "1e9",
            "",
            "tomorrow",
            True,
            False,
            None,
            [BASE + 3600],
            {"value": BASE + 3600},
            10**20,
            10**400,
            1_795_003_600.0,
        ]
        for value in odd:
            for at_ms in (BASE * 1000, (BASE + 7200) * 1000 + 500):
                add("types", {**fine(claim, at_ms // 1000), claim: value}, at_ms=at_ms)

    configured: list[Any] = [
        AUD,
        [AUD],
        ["other-api", AUD],
        ["other-api"],
        [],
        "",
        None,
        0,
        False,
        123,
        {"id": AUD},
        [AUD, 7],
        [7, AUD],
        "Orders-API",
        "orders-api/",
    ]
    for expected in ((AUD,), (AUD, "billing-api"), ("billing-api", AUD)):
        for aud in [*configured, "MISSING"]:
            second, at_ms = instant(0)
            claims: dict[str, Any] = {"iat": second - 60, "exp": second + 3600}
            if aud != "MISSING":
                claims["aud"] = aud
            add("aud", claims, at_ms=at_ms, audiences=expected)
    for aud in [AUD, "somebody-else", [AUD, "x"], [], "", None, 0, False, 1, 123, {"id": AUD}, [0], "MISSING"]:
        second, at_ms = instant(0)
        claims = {"iat": second - 60, "exp": second + 3600}
        if aud != "MISSING":
            claims["aud"] = aud
        add("aud-unconfigured", claims, at_ms=at_ms)

    for iss in [
        ISS,
        "https://login.acme.test",
        "HTTPS://login.acme.test/",
        "",
        None,
        123,
        [ISS],
        {"i": ISS},
        "MISSING",
    ]:
        for issuer in (ISS, None):
            second, at_ms = instant(0)
            claims = {"iat": second - 60, "exp": second + 3600}
            if iss != "MISSING":
                claims["iss"] = iss
            add("iss", claims, at_ms=at_ms, issuer=issuer)

    algs: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        ({"alg": "HS256", "typ": "JWT"}, ("HS256",)),
        ({"alg": "HS256"}, ("HS256", "HS384")),
        ({"alg": "HS384", "typ": "JWT"}, ("HS256",)),
        ({"alg": "HS512"}, ("HS256", "HS384")),
        ({"alg": "HS384"}, ("HS384", "HS256")),
        ({"alg": "RS256", "typ": "JWT"}, ("RS256",)),
        ({"alg": "RS256"}, ("HS256",)),
        ({"alg": "HS256"}, ("RS256",)),
    ]
    for header, allowed in algs:
        for late in (False, True):
            second, at_ms = instant(0)
            exp = second - 10 if late else second + 3600
            add("alg", {"iat": exp - 7200, "exp": exp}, at_ms=at_ms, header=header, algorithms=allowed)

    for _ in range(80):
        second, at_ms = instant(rng.choice((0, 0, 250, 999)))
        claims = {}
        for claim in ("iat", "nbf", "exp"):
            choice = rng.choice(("absent", "past", "near", "future", "fraction"))
            if choice == "absent":
                continue
            if choice == "fraction":
                claims[claim] = at_ms / 1000 + rng.choice((-0.7, -0.2, 0.2, 0.7))
            else:
                low, high = {"past": (-7200, -400), "near": (-70, 70), "future": (400, 7200)}[choice]
                claims[claim] = second + rng.randint(low, high)
        audiences = rng.choice(((AUD,), (AUD, "billing-api"), None))
        aud = rng.choice((AUD, "billing-api", "orders-api/", [AUD, "x"], "MISSING"))
        if aud != "MISSING":
            claims["aud"] = aud
        issuer = rng.choice((ISS, None))
        iss = rng.choice((ISS, ISS, "https://login.acme.test", "MISSING"))
        if iss != "MISSING":
            claims["iss"] = iss
        add(
            "mixed",
            claims,
            at_ms=at_ms,
            audiences=audiences,
            issuer=issuer,
            leeway=rng.choice((0, 0, 1, 10, 30, 60)),
        )
    return made


def _signature_holds(scenario: Any) -> bool:
    """Whether the signature verifies with the API's key, or the alg is refused before any key is used:
    the model assumes the signature verifies, so tokens signed otherwise are left out."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from tests.oracle.tokens import HS_SECRET, public_pem

    head, payload, signature = scenario.token.split(".")
    if not signature:
        return False
    alg = scenario.header.get("alg")
    if alg not in scenario.algorithms:
        return True
    data = f"{head}.{payload}".encode()
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    if scenario.key == "hs" and alg in digests:
        return hmac.compare_digest(hmac.new(HS_SECRET.encode(), data, digests[alg]).digest(), raw)
    if scenario.key == "rsa" and alg == "RS256":
        key = serialization.load_pem_public_key(public_pem().encode())
        assert isinstance(key, rsa.RSAPublicKey)
        try:
            key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True
    return False


def _model(library: str, scenario: Any) -> Outcome:
    expectations = Expectations(
        audiences=scenario.audiences or (),
        issuers=(scenario.issuer,) if scenario.issuer is not None else (),
        algorithms=tuple(scenario.algorithms),
    )
    return accepts(
        library, scenario.header, scenario.claims, expectations, scenario.at_ms / 1000, leeway=scenario.leeway
    )


def _disagreements(scenarios: list[Any], runs: dict[str, Any]) -> Iterator[str]:
    for scenario in scenarios:
        for library in ORACLE_LIBRARIES:
            real = runs[library].answers[scenario.id]
            model = _model(library, scenario)
            if model.status == "unknown":
                yield f"{library} {scenario.id}: the model does not know ({model.notes}); {scenario.description}"
                continue
            if model.accepted != real.accepted:
                said = model.error.one_line if model.error else "accept"
                truth = real.error.one_line if real.error else "accept"
                yield f"{library} {scenario.id}: model {said!r}, real {truth!r}; {scenario.description}"
                continue
            if real.error is not None and model.error is not None:
                if (model.error.name, model.error.message) != (real.error.name, real.error.message):
                    yield (
                        f"{library} {scenario.id}: model {model.error.one_line!r}, real {real.error.one_line!r}; "
                        f"{scenario.description}"
                    )
                elif library == "jose" and model.error.code != real.error.code:
                    yield f"jose {scenario.id}: code {model.error.code!r}, real {real.error.code!r}"


@pytest.mark.oracle
def test_the_model_agrees_with_the_real_libraries(oracle_paths: Any) -> None:
    from tests.oracle.libraries import EXPECTED_VERSIONS, ask_libraries

    scenarios = _scenarios()
    assert len(scenarios) >= 400
    assert all(_signature_holds(scenario) for scenario in scenarios)
    runs = ask_libraries(scenarios, oracle_paths)
    for library in ORACLE_LIBRARIES:
        assert runs[library].version == EXPECTED_VERSIONS[library]
        assert runs[library].version == default_libraries()[library].version
    problems = list(_disagreements(scenarios, runs))
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:40])
    split_count = sum(
        1 for s in scenarios if len({runs[library].answers[s.id].accepted for library in ORACLE_LIBRARIES}) > 1
    )
    assert split_count >= 50  # the scenarios do reach the places where the libraries part


@pytest.mark.oracle
def test_the_model_agrees_on_the_oracle_suite_scenarios(oracle_paths: Any) -> None:
    """The oracle suite's own seeded scenarios too, where the signature holds."""
    try:
        from tests.oracle.libraries import ask_libraries
        from tests.oracle.scenarios import generate
    except ImportError as problem:
        pytest.skip(f"tests/oracle has no scenario generator: {problem}")
    scenarios = [scenario for scenario in generate() if _signature_holds(scenario)]
    assert len(scenarios) >= 200
    runs = ask_libraries(scenarios, oracle_paths)
    problems = list(_disagreements(scenarios, runs))
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:40])


# ---------------------------------------------------------------- the fast path's invariant: may_differ


_CLAIM_VALUES = st.one_of(
    st.integers(min_value=-10, max_value=2 * 10**9),
    st.integers(min_value=NOW - 4000, max_value=NOW + 4000),
    st.floats(min_value=NOW - 600, max_value=NOW + 600),
    st.sampled_from([str(NOW), f"{NOW}.5", True, None, [NOW]]),
)


@settings(max_examples=400, deadline=None)
@given(
    claims=st.fixed_dictionaries(
        {},
        optional={
            "exp": _CLAIM_VALUES,
            "nbf": _CLAIM_VALUES,
            "iat": _CLAIM_VALUES,
            "aud": st.sampled_from(["orders-api", "billing-api", ["orders-api", "x"], "", 7]),
            "iss": st.sampled_from(["https://login.acme.test/", "https://evil.test/", 3]),
        },
    ),
    audiences=st.sampled_from([(), ("orders-api",)]),
    issuers=st.sampled_from([(), ("https://login.acme.test/",), ("https://login.acme.test/", "https://b.test/")]),
    leeway=st.sampled_from([0.0, 30.0]),
    now=st.floats(min_value=NOW - 1, max_value=NOW + 1),
    libraries=st.sampled_from([None, NAMED]),
)
def test_when_may_differ_says_no_every_library_gives_the_same_answer(
    claims: dict[str, Any],
    audiences: tuple[str, ...],
    issuers: tuple[str, ...],
    leeway: float,
    now: float,
    libraries: tuple[str, ...] | None,
) -> None:
    expectations = Expectations(audiences=audiences, issuers=issuers, algorithms=("HS256",), leeway=leeway)
    header = {"alg": "HS256"}
    if may_differ(header, claims, expectations, now, libraries=libraries):
        return
    outcomes = split(header, claims, expectations, now, libraries=libraries)
    answers = {outcome.status for outcome in outcomes.values()} - {"unknown"}
    assert len(answers) <= 1, {name: outcome.status for name, outcome in outcomes.items()}


@settings(max_examples=200, deadline=None)
@given(
    aud=st.sampled_from(["orders-api", ["orders-api", "billing-api"], "x"]),
    iss=st.sampled_from([None, "https://login.acme.test/"]),
    issuers=st.sampled_from([(), ("https://login.acme.test/",)]),
    exp=st.integers(min_value=NOW + 400, max_value=NOW + 10**6),
    iat=st.integers(min_value=NOW - 10**6, max_value=NOW),
)
def test_the_audience_shortcut_equals_the_full_split(
    aud: Any, iss: str | None, issuers: tuple[str, ...], exp: int, iat: int
) -> None:
    """advise uses audience_split when may_differ says only 'aud with no audience configured' and the
    core found nothing wrong: it must be what split says of the whole token."""
    claims: dict[str, Any] = {"aud": aud, "exp": exp, "iat": iat, **({"iss": iss} if iss else {})}
    expectations = Expectations(issuers=issuers, algorithms=("HS256",))
    assert may_differ(HS, claims, expectations, NOW) == AUDIENCE_NOT_CONFIGURED
    whole = split(HS, claims, expectations, NOW)
    if any(outcome.status == "refused" and outcome.library != "pyjwt" for outcome in whole.values()):
        return  # refused for another reason too: advise never takes the shortcut then
    short = audience_split("HS256", tuple(aud) if isinstance(aud, list) else aud, iss, expectations)
    assert {k: (o.status, o.error) for k, o in short.items()} == {k: (o.status, o.error) for k, o in whole.items()}


@pytest.mark.parametrize("value", [10**400, -(10**400), 2**1100, 1e308, "1e400"])
def test_a_time_claim_beyond_any_float_is_unknown_not_a_crash(value: Any) -> None:
    outcomes = split(HS, {"exp": value, "nbf": value, "iat": value}, expect(), NOW)
    assert set(outcomes) == set(default_libraries())
