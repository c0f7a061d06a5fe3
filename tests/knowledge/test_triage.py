"""The next steps for a refusal that names no claim and no library: data with its sources, checked at load
time with problems named ``FILE:LINE: KEY: MESSAGE``, and given by the advise step only where they help."""

from __future__ import annotations

import pytest

from bot.diagnosis import Expectations, Source
from bot.diagnosis.ids import Library
from bot.knowledge import DATA_DIR, default_knowledge
from bot.knowledge.advise import next_steps
from bot.knowledge.triage import TRIAGE_PATH, TriageError, default_triage, load_triage
from bot.pipeline import diagnose_text
from tests.support.tokens import NOW, T, claims, make_token

KNOWLEDGE = default_knowledge()
GOOD = """
[[step]]
id = "validator_error_line"
text = "Get the validator's own error line."

[[step.library]]
library = "pyjwt"
display = "PyJWT"
how = "log the exception."
sources = ["https://github.com/jpadilla/pyjwt/blob/2.8.0/jwt/exceptions.py"]

[[step]]
id = "share_token"
text = "Share the token safely."
"""


def test_the_packaged_steps_load_with_a_source_for_every_library() -> None:
    triage = default_triage()
    assert [step.id for step in triage.steps] == ["validator_error_line", "share_token"]
    hints = triage.steps[0].libraries
    assert {hint.library for hint in hints} == {
        Library.PYJWT,
        Library.JSONWEBTOKEN,
        Library.EXPRESS_JWT,
        Library.SPRING_SECURITY,
        Library.MICROSOFT_IDENTITYMODEL,
        Library.JOSE,
        Library.GOLANG_JWT,
    }
    assert all(hint.sources and all(s.startswith("https://") for s in hint.sources) for hint in hints)
    assert len(triage.lines) == 2 + len(hints) and triage.lines[1].startswith("PyJWT: ")
    assert load_triage(TRIAGE_PATH.read_text(encoding="utf-8"), source="triage.toml") == triage


def test_the_steps_name_the_settings_that_show_each_validators_own_line() -> None:
    lines = {hint.library: hint.line for hint in default_triage().steps[0].libraries}
    assert "logging.level.org.springframework.security=TRACE" in lines[Library.SPRING_SECURITY]
    assert "IdentityModelEventSource.ShowPII" in lines[Library.MICROSOFT_IDENTITYMODEL]
    assert "Microsoft.AspNetCore.Authentication" in lines[Library.MICROSOFT_IDENTITYMODEL]
    assert "jwt.InvalidTokenError" in lines[Library.PYJWT]
    assert "err.message" in lines[Library.EXPRESS_JWT] and "err.message" in lines[Library.JSONWEBTOKEN]
    assert "err.code" in lines[Library.JOSE] and "errors.Is" in lines[Library.GOLANG_JWT]
    share = default_triage().lines[-1]
    assert "/jwtcheck <token> private" in share and "pbpaste | jwtcheck" in share


def test_the_steps_are_not_a_failure_card() -> None:
    assert TRIAGE_PATH.parent != DATA_DIR and TRIAGE_PATH not in DATA_DIR.glob("*.toml")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ('library = "pyjwt"', 'library = "pyjw"'),
            "<string>:7: step['validator_error_line'].library[0].library: unknown library 'pyjw'",
        ),
        (
            ('sources = ["https://github.com', 'sources = ["http://github.com'),
            "<string>:10: step['validator_error_line'].library[0].sources: 'http://github.com/jpadilla/pyjwt/blob/2.8.0/"
            "jwt/exceptions.py' is not an https address",
        ),
        (("sources = [", "source = ["), "<string>:10: step['validator_error_line'].library[0].source: unknown key"),
        (
            ('id = "share_token"', 'id = "validator_error_line"'),
            "<string>:13: step['validator_error_line'].id: step id 'validator_error_line' is used twice",
        ),
        (('id = "share_token"', 'id = "Share token"'), "<string>:13: step['Share token'].id: ids are lower-case"),
        (
            ('text = "Share the token safely."', 'text = ""'),
            "<string>:14: step['share_token'].text: must be a non-empty string",
        ),
        (("\n[[step]]\n", '\ntitle = "Next"\n[[step]]\n'), "<string>:2: title: unknown key; known: ['step']"),
    ],
)
def test_a_mistake_is_one_line_naming_the_file_the_line_and_the_key(change: tuple[str, str], problem: str) -> None:
    assert change[0] in GOOD
    with pytest.raises(TriageError) as raised:
        load_triage(GOOD.replace(*change, 1))
    assert str(raised.value).startswith(problem), str(raised.value)


def test_a_library_twice_under_one_step_and_broken_toml_are_refused() -> None:
    hint = "[[step.library]]" + GOOD.split("[[step.library]]")[1].split("[[step]]")[0]
    twice = GOOD.replace('[[step]]\nid = "share_token"', hint + '[[step]]\nid = "share_token"')
    with pytest.raises(TriageError, match="library 'pyjwt' is listed twice"):
        load_triage(twice)
    with pytest.raises(TriageError, match=r"^<string>:\d+: not valid TOML"):
        load_triage("[[step]\n")


# --- the advise step -------------------------------------------------------------------------------


def advised(text: str) -> list[tuple[Source, tuple[str, ...]]]:
    report = diagnose_text(text, Expectations(), NOW, knowledge=KNOWLEDGE)
    return [(d.source, d.next_steps) for d in report.diagnoses]


@pytest.mark.parametrize(
    "text",
    [
        "401 Unauthorized: JWT claims validation failed",
        'WWW-Authenticate: Bearer error="invalid_token"',
        'WWW-Authenticate: Bearer realm="example", error="invalid_token", error_description="The access token expired"',
    ],
)
def test_an_error_text_with_no_library_gets_the_next_steps(text: str) -> None:
    assert advised(text) == [(Source.ERROR_TEXT, default_triage().lines)]


@pytest.mark.parametrize(
    "text",
    [
        "jwt.exceptions.ExpiredSignatureError: Signature has expired",  # the library's own line is here
        make_token(claims(exp=T - 7200)),  # the token itself
        "Authorization: Bearer 2YotnFZFEjr1zCsicMWpAA",  # an opaque token: its card says what it is
    ],
)
def test_a_library_line_a_token_and_an_opaque_token_get_none(text: str) -> None:
    [(_, steps)] = advised(text)
    assert steps == ()


def test_next_steps_follow_the_diagnosis_not_the_report() -> None:
    [diagnosis] = diagnose_text("invalid_token", Expectations(), NOW, knowledge=KNOWLEDGE).diagnoses
    assert next_steps(diagnosis) == default_triage().lines
    assert next_steps(diagnosis._replace(library=Library.PYJWT)) == ()
