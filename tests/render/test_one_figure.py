"""One true story per card, over generated tokens, on the Block Kit card, the JSON document and the terminal:

- every leeway figure on a card is the card's one recommended figure, or this token's own need, labelled
  as such ("this token needs a leeway of at least 67 s");
- no recommended leeway is above the skew window (nor the knowledge base's small range); beyond it, the
  card says "beyond any safe leeway: fix the clock" instead of a number;
- no snippet's algorithm differs from the token's (an HS* token gets a secret, never a public key);
- nothing shown as a fix is also shown as a dead end.

The cards are drawn as ``bot.chat.answer.Chat.make_cards`` draws them: fitted with
``bot.render.snippets.fit_for`` (the report's expectations, and what clock evidence needs).
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.clocks import ClockReading, clock_note
from bot.diagnosis.clock import estimate, token_seen
from bot.diagnosis.leeway import BEYOND_SAFE, safe_limit
from bot.diagnosis.model import Diagnosis, Expectations, Report, Source
from bot.knowledge import ANY_LIBRARY, default_knowledge
from bot.pipeline import diagnose_text
from bot.render.blocks import CardOptions, render_card
from bot.render.json import report_to_dict
from bot.render.mrkdwn import unescape
from bot.render.snippets import Fit, fit_for, fix_title, snippet_code
from bot.render.text import Style, render_diagnosis
from tests.support.tokens import AUDIENCE, ISSUER, NOW, T, raw_token

KNOWLEDGE = default_knowledge()
SMALL = KNOWLEDGE.small_leeway
ALGS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
ERROR_TEXTS = (
    "",
    "jwt.exceptions.ImmatureSignatureError: The token is not yet valid (nbf)",
    "UnauthorizedError: jwt not active",
    "JsonWebTokenError: jwt audience invalid. expected: orders-api",
)

# A number of seconds that sets or states a leeway, in words or in a snippet of any library.
FIGURE = re.compile(
    r"leeway of (at least )?(\d+) s"
    r"|leeway=(\d+)"
    r"|clockTolerance: (\d+)"
    r"|JwtTimestampValidator\(Duration\.ofSeconds\((\d+)\)"
    r"|ClockSkew = TimeSpan\.FromSeconds\((\d+)\)"
    r"|WithLeeway\((\d+)\*time\.Second\)"
)
RANGE = re.compile(r"\b\d+\s*[–-]\s*\d+ s\b")
# Where a snippet names its algorithm, in any library.
ALGORITHM = re.compile(
    r"algorithms=\[\"(\w+)\"\]|algorithms: \[\"(\w+)\"\]|algorithm=\"(\w+)\"|algorithm: \"(\w+)\""
    r"|new\[\] \{ \"(\w+)\" \}|\[\]string\{\"(\w+)\"\}|SignatureAlgorithm\.(\w+)|MacAlgorithm\.(\w+)"
    r"|importSPKI\(publicKeyPem, \"(\w+)\"\)"
)
PUBLIC_KEY = re.compile(r"public_key_pem|publicKeyPem|private_key_pem|privateKeyPem|withJwkSetUri|signingKeys")
SECRET = re.compile(r"JWT_SECRET|SymmetricSecurityKey|withSecretKey")

offsets = st.one_of(st.integers(-420, 420), st.sampled_from([-86400, -10800, 10800, 86400]))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, Expectations, int | None]:
    alg = draw(st.sampled_from(ALGS))
    claims: dict[str, Any] = {"iss": ISSUER, "aud": draw(st.sampled_from([AUDIENCE, "billing-api"])), "sub": "u1"}
    for name in ("iat", "nbf", "exp"):
        if name == "exp" or draw(st.booleans()):
            value = T + draw(offsets)
            claims[name] = value * 1000 if draw(st.integers(0, 15)) == 0 else value  # now and then milliseconds
    if draw(st.integers(0, 5)) == 0:
        del claims["sub"]
    window = draw(st.sampled_from([60.0, 90.0, 120.0, 300.0, 600.0]))
    expectations = Expectations(
        audiences=draw(st.sampled_from([(), (AUDIENCE,)])),
        issuers=draw(st.sampled_from([(), (ISSUER,)])),
        algorithms=draw(st.sampled_from([(), (alg,), ("RS256",), ("HS256",)])),
        required_claims=draw(st.sampled_from([(), ("sub",), ("exp", "sub")])),
        leeway=draw(st.sampled_from([0.0, 0.0, 30.0, 60.0])),
        skew_window=window,
    )
    token = raw_token({"alg": alg, "typ": "JWT"}, claims)
    text = f"{token}\n{draw(st.sampled_from(ERROR_TEXTS))}".strip()
    evidence = draw(st.one_of(st.none(), st.integers(2, 400)))  # what an issuer's clock estimate needs
    return text, expectations, evidence


def token_diagnoses(report: Report) -> list[Diagnosis]:
    return [d for d in report.diagnoses if d.source is Source.TOKEN and d.token is not None and d.token.header]


def own_needs(diagnosis: Diagnosis) -> set[int]:
    return {e.leeway_needed for c in diagnosis.causes for e in c.evidence if e.leeway_needed is not None}


def assert_one_figure(text: str, diagnosis: Diagnosis, fit: Fit, window: float, where: str) -> None:
    """Every leeway figure in ``text`` is the recommended one, or this token's own need labelled as such."""
    figure = fit.leeway
    if figure is not None and figure.recommended is not None:
        assert figure.recommended <= window and figure.recommended <= safe_limit(SMALL, window), (where, figure)
        assert figure.recommended >= figure.needed, (where, figure)
    for match in FIGURE.finditer(text):
        labelled, value = match.group(1), int(next(group for group in match.groups()[1:] if group))
        if labelled:
            assert value in own_needs(diagnosis), (where, match.group(0), own_needs(diagnosis))
        else:
            assert figure is not None and value == figure.recommended, (where, match.group(0), figure)
    if figure is not None:
        assert not RANGE.search(text), (where, RANGE.search(text))


def assert_snippet_fits(code: str, alg: str, where: str) -> None:
    named = [next(group for group in match.groups() if group) for match in ALGORITHM.finditer(code)]
    assert all(found == alg for found in named), (where, alg, named, code)
    bits = re.findall(r"HmacSHA(\d+)", code)
    assert all(found == alg[2:] for found in bits), (where, alg, bits)
    if alg.startswith("HS"):
        assert not PUBLIC_KEY.search(code), (where, code)
    else:
        assert not SECRET.search(code), (where, code)


def assert_no_fix_is_a_dead_end(diagnosis: Diagnosis, fit: Fit) -> None:
    fixes = {w.id for w in diagnosis.workarounds}
    titles = {fix_title(w, fit).casefold() for w in diagnosis.workarounds} | {
        w.title.casefold() for w in diagnosis.workarounds
    }
    for dead_end in diagnosis.dead_ends:
        assert dead_end.same_as not in fixes, (dead_end.id, fixes)
        assert dead_end.title.casefold() not in titles, dead_end.id


def card_text(blocks: list[dict[str, Any]]) -> str:
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if item.get("type") in ("mrkdwn", "plain_text") and isinstance(item.get("text"), str):
                found.append(unescape(item["text"]))
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(blocks)
    return "\n".join(found)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_block_kit_card_tells_one_story(scenario: tuple[str, Expectations, int | None]) -> None:
    text, expectations, evidence = scenario
    report = diagnose_text(text, expectations, NOW, knowledge=KNOWLEDGE)
    for diagnosis in token_diagnoses(report):
        fit = fit_for(diagnosis, report.expectations, KNOWLEDGE, evidence_needs=(evidence,))
        note = None
        if evidence is not None:  # an issuer's clock estimate needs this much: the 🕒 note shows the same figure
            [ahead] = estimate([token_seen("login.acme.test", T + evidence, T)])
            note = clock_note(ClockReading(ahead, False, evidence), fit.leeway)
        assert_no_fix_is_a_dead_end(diagnosis, fit)
        window = report.expectations.skew_window
        libraries = [lib.library for lib in KNOWLEDGE.libraries_for(diagnosis.library)]
        for expanded in [None, *libraries]:
            options = CardOptions("c0ffee", expanded_library=expanded, fit=fit, clock_note=note)
            card = render_card(diagnosis, T, KNOWLEDGE, options)
            shown = card_text(card.blocks)
            assert_one_figure(shown, diagnosis, fit, window, f"card/{expanded}")
            for code in re.findall(r"```\n(.*?)```", shown, re.DOTALL):
                assert_snippet_fits(code, str(diagnosis.token.header["alg"]), f"card/{expanded}")  # type: ignore[union-attr]
            if (
                fit.leeway is not None
                and fit.leeway.recommended is None
                and "clock_leeway" in {w.id for w in diagnosis.workarounds[:5]}
            ):
                assert BEYOND_SAFE in shown


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_json_document_and_the_terminal_tell_the_same_story(scenario: tuple[str, Expectations, int | None]) -> None:
    text, expectations, _ = scenario
    # The JSON document fits its snippets to the token alone (bot/render/json.py): the default skew window
    expectations = Expectations(
        expectations.audiences,
        expectations.issuers,
        expectations.algorithms,
        expectations.required_claims,
        expectations.leeway,
        max(expectations.skew_window, float(SMALL.high)),
    )
    report = diagnose_text(text, expectations, NOW, knowledge=KNOWLEDGE)
    document = report_to_dict(report, KNOWLEDGE)
    for diagnosis, item in zip(report.diagnoses, document["diagnoses"], strict=True):
        if diagnosis not in token_diagnoses(report):
            continue
        fit = fit_for(diagnosis, report.expectations, KNOWLEDGE)
        alg = str(diagnosis.token.header["alg"])  # type: ignore[union-attr]
        window = report.expectations.skew_window
        assert_no_fix_is_a_dead_end(diagnosis, fit)
        assert not {d["id"] for d in item["dead_ends"]} & {w["id"] for w in item["workarounds"]}
        evidence = json.dumps([c["evidence"] for c in item["causes"]], ensure_ascii=False)
        assert_one_figure(evidence, diagnosis, fit, window, "json/evidence")
        for workaround in item["workarounds"]:
            if "snippet" in workaround:
                code = workaround["snippet"]["code"]
                assert_one_figure(code, diagnosis, fit, window, f"json/{workaround['id']}")
                assert_snippet_fits(code, alg, f"json/{workaround['id']}")
        terminal = render_diagnosis(diagnosis, T, Style(), fit=fit)
        assert_one_figure(terminal, diagnosis, fit, window, "terminal")
        for dead_end in diagnosis.dead_ends:
            assert f"{dead_end.title}" in terminal and dead_end.why_for(diagnosis.cause_ids) in terminal


@settings(max_examples=80, deadline=None)
@given(alg=st.sampled_from(ALGS), library=st.sampled_from([lib.library for lib in KNOWLEDGE.libraries_for("jose")]))
def test_every_snippet_of_every_fix_fits_the_tokens_algorithm(alg: str, library: str) -> None:
    token = raw_token({"alg": alg, "typ": "JWT"}, {"iss": ISSUER, "aud": AUDIENCE, "nbf": T + 45, "exp": T + 600})
    [diagnosis] = diagnose_text(token, Expectations(), NOW, knowledge=KNOWLEDGE).diagnoses
    fit = fit_for(diagnosis, Expectations(), KNOWLEDGE)
    for workaround in KNOWLEDGE.workarounds.values():
        snippet = workaround.snippets.get(library) or workaround.snippets.get(ANY_LIBRARY)
        if snippet is not None:
            code = snippet_code(snippet, diagnosis, fit)
            assert "{{" not in code, (workaround.id, library)
            assert_snippet_fits(code, alg, f"{workaround.id}/{library}")
