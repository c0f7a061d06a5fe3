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


def _sample_texts() -> list[str]:
    from bot.demo import sample_texts

    texts = [piece for _, piece in sample_texts(T)]
    return [
        *texts,
        "\n".join(texts),  # a token among error texts: one incident
        make_token(claims(exp=T - 20)) + " jwt.exceptions.ExpiredSignatureError: Signature has expired",
        make_token(claims(aud="billing-api")) + " " + make_token(claims(nbf=T + 70, iat=T + 70)),
        make_token(claims(exp=(T + 600) * 1000)),  # a warning only
        make_token(claims(nbf=-1, exp=T - 3600)),  # a warning beside a cause
        "JWT claims validation failed",  # a generic refusal: the triage steps
    ]


def test_judged_with_the_knowledge_is_the_very_report_the_advice_step_makes() -> None:
    """The invariant behind judge_advised: judge handed the titles and the advice, then what only the
    knowledge base's code adds, is advise(judge(...)), field for field."""
    from bot.knowledge.advise import judge_advised

    knowledge = default_knowledge()
    for expectations in (EXPECT, Expectations(), Expectations(required_claims=("sub", "scope"), leeway=30)):
        for text in _sample_texts():
            found = scan(text, default_catalogue(), at=NOW.timestamp())
            for learned in ((), ("aud",)):
                expected = advise(judge_found(found, expectations, NOW, learned=learned), knowledge)
                assert judge_advised(found, expectations, NOW, knowledge, learned=learned) == expected, text


def test_one_token_judged_with_the_knowledge_is_the_advised_diagnosis() -> None:
    from bot.diagnosis import examine, judge_token
    from bot.knowledge.advise import advise_one, judge_token_advised

    knowledge = default_knowledge()
    now = NOW.timestamp()
    for text in _sample_texts():
        for raw in scan(text, default_catalogue(), at=now).tokens:
            for expectations in (EXPECT, Expectations()):
                facts = examine(raw, expectations)
                expected = advise_one(judge_token(facts, expectations, now), knowledge, expectations, now)
                assert judge_token_advised(facts, expectations, now, knowledge) == expected
