"""The terminal face of a Diagnosis: its headline, what was and was not checked, and the sections."""

from __future__ import annotations

from bot.diagnosis import Expectations, Report
from bot.diagnosis.signature import HmacSecret, KeyResolution
from bot.knowledge import default_knowledge
from bot.pipeline import diagnose_text
from bot.render.text import HOW_TO_CHECK, NOT_FULLY_CHECKED, Style, render_diagnosis, render_report, render_summary
from tests.support.tokens import AUDIENCE, ISSUER, NOW, SECRET, T, claims, make_token, raw_token, signature_of

EXPECT = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=("HS256",))
SECRET_KEYS = KeyResolution(secrets=(HmacSecret("S", SECRET),))


def report(text: str, expectations: Expectations = EXPECT, *, keys: bool = False) -> Report:
    return diagnose_text(text, expectations, NOW, keys=(lambda _raw: SECRET_KEYS) if keys else None)


def test_valid_only_with_audience_issuer_and_signature_checked() -> None:
    checked = render_diagnosis(report(make_token(), keys=True).diagnoses[0], T, Style())
    assert checked.startswith("VALID token")
    unchecked = render_diagnosis(report(make_token()).diagnoses[0], T, Style())
    assert unchecked.startswith(
        f"{NOT_FULLY_CHECKED} in this token: checked format, algorithm, audience, issuer, times"
    )
    assert "not checked: signature" in unchecked.splitlines()[0]
    assert HOW_TO_CHECK[next(iter(HOW_TO_CHECK))] not in unchecked  # only what is missing: a key
    assert "a key (--jwks URL" in unchecked


def test_warnings_have_their_own_section_and_refuse_nothing() -> None:
    text = render_diagnosis(report(make_token(claims(exp=(T + 600) * 1000)), keys=True).diagnoses[0], T, Style())
    assert text.startswith("VALID token") and "Worth knowing (refuses nothing)" in text
    assert "[milliseconds_timestamp]" in text and "What fixes it" not in text


def test_where_libraries_differ_the_terminal_says_so() -> None:
    text = render_diagnosis(report(make_token(claims(iat=T + 66))).diagnoses[0], T, Style())
    assert "Libraries differ" in text and "PyJWT refuses it" in text


def test_a_token_with_its_error_text_is_one_block_saying_both() -> None:
    [diagnosis] = report(f"{make_token(claims(exp=T - 7200))}\nSignature has expired").diagnoses
    text = render_diagnosis(diagnosis, T, Style())
    assert "error text   " in text and "Signature has expired" in text and "token        " in text


def test_the_summary_does_not_count_an_unchecked_token_as_valid() -> None:
    both = report(f"{make_token()} {make_token(claims(exp=T - 7200))}", Expectations())
    assert render_summary(both).splitlines()[0] == (
        "2 diagnoses: 0 valid, 1 invalid, 0 malformed, 0 unverifiable, "
        "1 with no problem found but audience, issuer or signature not checked"
    )


def test_no_colour_unless_asked_and_no_signature_ever() -> None:
    token = make_token(claims(exp=T - 7200))
    plain = render_report(report(token), default_knowledge(), Style())
    coloured = render_report(report(token), default_knowledge(), Style(colour=True))
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert signature_of(token) not in plain + coloured


def test_a_claim_name_is_escaped_like_its_value_and_keeps_the_column() -> None:
    """Issue 14: a claim's name is the token's too; ESC, C1, DEL and bidi controls in it are escaped."""
    token = raw_token({"alg": "HS256"}, {**claims(), "\x1b[31mx\u202e": "\x9b1m\x7f", "\u2066y": 1})
    text = render_diagnosis(report(token).diagnoses[0], T, Style())
    assert "  \\u001b[31mx\\u202e   " not in text  # cut to the column's twelve characters
    assert '  \\u001b[31mx\\ "\\u009b1m\\u007f"' in text and "  \\u2066y      1" in text
    assert all(char.isprintable() or char == "\n" for char in text)
