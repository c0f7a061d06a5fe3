"""The advice step: workarounds and dead ends, titles, and where the libraries differ."""

from __future__ import annotations

from bot.diagnosis import CauseId, Diagnosis, Expectations, Library, Verdict, scan
from bot.diagnosis import judge as judge_found
from bot.knowledge import default_catalogue, default_knowledge
from bot.knowledge.advise import advise
from bot.knowledge.model import MAX_REMEMBERED_ADVICE, Knowledge
from tests.support.tokens import AUDIENCE, ISSUER, NOW, T, claims, make_token

EXPECT = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=("HS256",))


def advised(
    text: str, expectations: Expectations = EXPECT, knowledge: Knowledge | None = None
) -> tuple[Diagnosis, ...]:
    found = scan(text, default_catalogue(), at=NOW.timestamp())
    return advise(judge_found(found, expectations, NOW), knowledge or default_knowledge()).diagnoses


def test_equal_causes_get_the_same_advice_tuples_which_the_json_renderer_shares_by_identity() -> None:
    knowledge = default_knowledge()
    first = knowledge.advise((CauseId.CLOCK_SKEW, CauseId.EXPIRED), "pyjwt")
    again = knowledge.advise([CauseId.CLOCK_SKEW, CauseId.EXPIRED], "pyjwt")
    assert first[0] is again[0] and first[1] is again[1]
    assert knowledge.advise((CauseId.CLOCK_SKEW,), None) is not first


def test_the_memo_is_bounded_and_beyond_it_the_advice_is_still_equal() -> None:
    knowledge = default_knowledge()
    assert len(knowledge._advice) <= MAX_REMEMBERED_ADVICE
    assert knowledge.advise((CauseId.MISSING_CLAIM,), "nonesuch") == knowledge.advise(
        (CauseId.MISSING_CLAIM,), "nonesuch"
    )


def test_causes_are_titled_from_the_data_and_keep_their_few_words() -> None:
    [diagnosis] = advised(make_token(claims(nbf=T + 70, iat=T + 70)))
    [cause] = diagnosis.causes
    title = default_knowledge().causes[CauseId.CLOCK_SKEW].title
    assert cause.summary == f"{title}: {cause.detail}" and cause.detail
    assert diagnosis.workarounds and diagnosis.dead_ends


def test_a_token_with_warnings_only_gets_no_fixes() -> None:
    [diagnosis] = advised(make_token(claims(exp=(T + 600) * 1000)))
    assert diagnosis.verdict is Verdict.VALID and diagnosis.causes == ()
    assert [w.id for w in diagnosis.warnings] == [CauseId.MILLISECONDS_TIMESTAMP]
    assert diagnosis.workarounds == () and diagnosis.dead_ends == ()


def test_with_no_audience_configured_the_card_says_pyjwt_refuses_what_the_others_accept() -> None:
    [diagnosis] = advised(make_token(claims(aud="some-other-api")), Expectations())
    assert diagnosis.verdict is Verdict.VALID and not diagnosis.fully_checked
    assert dict(diagnosis.libraries)["pyjwt"] == "refuses"
    assert dict(diagnosis.libraries)["jsonwebtoken"] == "accepts"
    assert diagnosis.libraries_differ is not None and "Invalid audience" in diagnosis.libraries_differ


def test_libraries_that_agree_are_not_mentioned() -> None:
    [diagnosis] = advised(make_token(claims(exp=T - 7200)))
    assert diagnosis.libraries == () and diagnosis.libraries_differ is None


def test_an_iat_ahead_names_the_one_library_that_checks_it() -> None:
    [diagnosis] = advised(make_token(claims(iat=T + 66)))
    assert dict(diagnosis.libraries)["pyjwt"] == "refuses" and dict(diagnosis.libraries)["jose"] == "accepts"


def test_error_texts_keep_their_library() -> None:
    [diagnosis] = advised("jwt.exceptions.ExpiredSignatureError: Signature has expired")
    assert diagnosis.library is Library.PYJWT and diagnosis.workarounds
