"""The storage codec: every value kept in the store round-trips, carries its version, and a value of
another version (or damaged) reads as nothing rather than as something else."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.diagnosis import (
    Cause,
    Diagnosis,
    Evidence,
    Expectations,
    Finding,
    Library,
    Source,
    TokenFacts,
    TokenView,
    examine,
)
from bot.diagnosis.clock import SLACK, THIS_HOST, TOO_FAR, Observation, date_header, token_seen
from bot.diagnosis.leeway import LeewayFigure
from bot.knowledge import default_knowledge
from bot.pipeline import diagnose_text
from bot.render.blocks import CardOptions
from bot.render.snippets import Fit
from bot.store import codec
from bot.store.codec import (
    CardFields,
    decode_card,
    decode_facts,
    decode_observation,
    decode_observations,
    encode_card,
    encode_facts,
    encode_observation,
)
from tests.support.tokens import AUDIENCE, ISSUER, NOW, T, claims, make_token, raw_token

KNOWLEDGE = default_knowledge()
FIT = Fit(LeewayFigure(75, 80, 70), "HS256", "hmac", AUDIENCE, ISSUER, "https://login.acme.test/jwks", "JWT_KEY")
EXPECT = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,))
LEGACY = json.loads((Path(__file__).parent / "legacy_cards.json").read_text(encoding="utf-8"))
IDX10223 = (
    "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '11/28/2026 20:58:30', "
    "Current time (UTC): '11/28/2026 21:05:00'."
)
TOKENS = [
    make_token(claims(exp=T - 20)),
    make_token(claims(nbf=T + 70, iat=T + 70)),
    make_token(claims(aud="billing-api", iss="https://login.acme.test")),
    make_token(claims(exp=(T + 600) * 1000, name="Zoë <!channel> &amp;", big=10**30, far=1e300)),
    raw_token({"alg": "none"}, claims()) + ".",
    raw_token({"alg": "HS256"}, '{"exp": 1e400, "s": "\\ud800"}'),
    raw_token({"alg": "RSA-OAEP", "enc": "A256GCM"}, "k") + ".aXY.Y2lwaGVy",
    "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
]


# --- the layouts are the model's named tuples, pinned --------------------------------------------------


def test_the_layouts_follow_these_field_lists_until_the_version_is_bumped() -> None:
    """The codec writes these named tuples as arrays of their fields in order. If one of these lists
    changes, change the codec's layout and bump its version (FACTS, CARD), then update the list here."""
    assert (codec.FACTS, codec.CARD, codec.CARD_IN_VIEW, codec.CLOCK) == ("facts/1", "card/4", "card/5", "clock/2")
    assert TokenFacts._fields == (
        "view",
        "findings",
        "skipped",
        "readable",
        "malformed",
        "signature",
        "signature_detail",
        "keys_configured",
    )
    assert TokenView._fields == ("kind", "redacted", "fingerprint", "header", "claims")
    assert Evidence._fields == ("claim", "reason", "detail", "seconds_off", "leeway_needed")
    assert Finding._fields == ("cause", "evidence", "likelihood", "summary", "warning")
    assert Cause._fields == ("id", "summary", "evidence", "likelihood", "detail")
    assert Diagnosis._fields == (
        "source",
        "position",
        "verdict",
        "causes",
        "token",
        "library",
        "signature",
        "signature_detail",
        "skipped_checks",
        "error_text",
        "validator_time",
        "judged_at",
        "workarounds",
        "dead_ends",
        "warnings",
        "checked",
        "expected_from",
        "libraries",
        "libraries_differ",
        "next_steps",  # card/2
        "in_front",  # not stored: the library's stack says it (codec._in_front)
    )
    assert [f.name for f in dataclasses.fields(CardOptions)] == [
        "card_id",
        "expanded_library",
        "votes",  # not stored: read fresh at every drawing
        "live_token_warning",
        "revision",
        "ephemeral",
        "compact",
        "clock_note",
        "fit",  # card/3: the card's one leeway figure and what its snippets fit (card/2: the measured leeway)
        "judged_against",  # card/4
        "view_id",  # card/5 (written only for a card in a view)
        "stacks",  # not stored: the chat layer reads them from the service judged against, at every drawing
    ]
    assert Fit._fields == ("leeway", "alg", "style", "audience", "issuer", "jwks_url", "secret_env")
    assert LeewayFigure._fields == ("needed", "recommended", "own")
    assert Observation._fields == ("clock", "reference", "lower", "upper", "at", "kind", "kept_out")  # clock/2


# --- facts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", TOKENS)
def test_facts_round_trip(token: str) -> None:
    facts = examine(token, EXPECT)
    text = encode_facts(facts)
    assert text.isascii() and json.loads(text)[0] == "facts/1"
    assert decode_facts(text) == facts
    assert token.rsplit(".", 1)[-1] not in text or token.endswith(".")  # never the signature


def test_facts_with_a_lone_surrogate_and_a_huge_integer_come_back_exactly() -> None:
    facts = examine(raw_token({"alg": "HS256"}, '{"s": "\\ud800", "n": 100000000000000000000000000001}'), EXPECT)
    decoded = decode_facts(encode_facts(facts))
    assert decoded is not None and decoded.view.claims == {"s": "\ud800", "n": 10**29 + 1}


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not json",
        "null",
        "[]",
        '["facts/2"]',
        '["card/1", 1, 2, 3, 4, 5, 6, 7, 8]',
        # what the facts cache held before the codec (service.py's facts_to_json): a cache miss now
        '{"view":["jws","a.b.[redacted]","ff",{},{}],"findings":[],"skipped":[],"readable":true,'
        '"malformed":false,"signature":["not_checked","no key configured",false]}',
    ],
)
def test_anything_but_this_versions_facts_is_a_cache_miss(stored: str) -> None:
    assert decode_facts(stored) is None


def test_damaged_facts_are_a_cache_miss() -> None:
    text = encode_facts(examine(make_token(claims(exp=T - 20)), EXPECT))
    data = json.loads(text)
    damages: list[Callable[[list[Any]], object]] = [
        lambda d: d.__setitem__(6, "no_such_status"),
        lambda d: d.__setitem__(2, [["no_such_cause", [None, "passed", "x", None, None], 1.0, None, False]]),
        lambda d: d.__setitem__(1, ["jws", "r", "f", [1], None]),
        lambda d: d.__setitem__(4, "yes"),
        lambda d: d.pop(),
    ]
    for damage in damages:
        copy = json.loads(text)
        damage(copy)
        assert decode_facts(json.dumps(copy)) is None
    assert decode_facts(json.dumps(data)) is not None


# --- card state ----------------------------------------------------------------------------------------


def card_for(diagnosis: Diagnosis, **options: Any) -> CardFields:
    return CardFields(
        team="T1",
        channel="C1",
        evaluated_at=NOW.timestamp(),
        ts="1795900000.000001",
        thread_ts=None,
        options=CardOptions(card_id="0123456789abcdef", **options),
        diagnosis=diagnosis,
    )


def every_diagnosis() -> list[Diagnosis]:
    texts = [*TOKENS, IDX10223, "jwt.exceptions.ExpiredSignatureError: Signature has expired"]
    return [d for text in texts for d in diagnose_text(text, EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses]


@pytest.mark.parametrize("diagnosis", every_diagnosis(), ids=lambda d: d.verdict.value)
def test_a_card_state_round_trips_with_its_advice_from_the_knowledge(diagnosis: Diagnosis) -> None:
    card = card_for(
        diagnosis,
        expanded_library="pyjwt",
        live_token_warning=True,
        revision=3,
        clock_note="🕒 ahead",
        fit=FIT,
    )
    text = encode_card(card)
    assert json.loads(text)[0] == "card/4" and text.isascii()
    assert decode_card(text, KNOWLEDGE) == card
    for workaround in diagnosis.workarounds:
        assert workaround.detail not in text  # by id: the knowledge says the rest


def test_a_card_state_keeps_instants_exactly_and_no_votes() -> None:
    [diagnosis] = diagnose_text(IDX10223, EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    diagnosis = diagnosis._replace(judged_at=NOW.timestamp() + 0.25)
    card = card_for(diagnosis)._replace(options=CardOptions(card_id="abc", votes={"w": {"fixed": 2}}))
    decoded = decode_card(encode_card(card), KNOWLEDGE)
    assert decoded is not None and decoded.options.votes == {}
    assert decoded.diagnosis.validator_time == diagnosis.validator_time
    assert decoded.diagnosis.judged_at == NOW.timestamp() + 0.25


def test_every_field_of_a_diagnosis_is_kept() -> None:
    [expired, skew] = diagnose_text(f"{TOKENS[0]} {TOKENS[1]}", EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    full = skew._replace(
        warnings=expired.causes,
        expected_from=("audience from the error text beside it",),
        libraries=(("pyjwt", "refuses"), ("spring-security", "accepts")),
        libraries_differ="PyJWT refuses it; Spring Security accepts it (60 s leeway).",
        judged_at=NOW.timestamp(),
        library=Library.PYJWT,
        error_text="jwt.exceptions.ImmatureSignatureError: The token is not yet valid (nbf)",
        validator_time=NOW.timestamp() - 1.5,
        next_steps=("Get the validator's own error line.", "PyJWT: log the exception."),
    )
    full = full._replace(library=Library.KONG, in_front=KNOWLEDGE.stacks["kong"].kind.value)
    assert all(field or field == 0 for field in full), "give every field a value, so that each is checked"
    card = card_for(full)
    assert decode_card(encode_card(card), KNOWLEDGE) == card


def test_a_card_state_of_the_layout_before_next_steps_is_still_read() -> None:
    """``card/1`` is ``card/2`` without the diagnosis's last item, ``next_steps``: read with none."""
    [diagnosis] = diagnose_text(
        "401 Unauthorized: JWT claims validation failed", EXPECT, NOW, knowledge=KNOWLEDGE
    ).diagnoses
    assert diagnosis.next_steps
    data = json.loads(encode_card(card_for(diagnosis)))
    data[0], data[7], data[8] = "card/1", data[7][:7], data[8][:-1]
    decoded = decode_card(json.dumps(data), KNOWLEDGE)
    assert decoded is not None and decoded.diagnosis == diagnosis._replace(next_steps=())
    assert decode_card(encode_card(card_for(diagnosis)), KNOWLEDGE) == card_for(diagnosis)


def test_an_opaque_token_card_keeps_its_kind_and_never_its_value() -> None:
    opaque = "2YotnFZFEjr1zCsicMWpAA"
    [diagnosis] = diagnose_text(f"Authorization: Bearer {opaque}", EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    text = encode_card(card_for(diagnosis))
    assert opaque not in text and opaque[4:] not in text
    decoded = decode_card(text, KNOWLEDGE)
    assert decoded is not None and decoded.diagnosis == diagnosis
    assert decoded.diagnosis.token is not None and decoded.diagnosis.token.kind == "opaque"


def test_a_workaround_the_knowledge_no_longer_has_is_left_out() -> None:
    [diagnosis] = diagnose_text(TOKENS[1], EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    text = encode_card(card_for(diagnosis))
    data = json.loads(text)
    data[8][12] = ["gone_since", *data[8][12]]
    decoded = decode_card(json.dumps(data), KNOWLEDGE)
    assert decoded is not None and decoded.diagnosis.workarounds == diagnosis.workarounds


@pytest.mark.parametrize("name", ["skew", "validator"])
def test_a_card_state_written_before_the_codec_is_still_read(name: str) -> None:
    stored = json.loads(LEGACY[name])
    card = decode_card(LEGACY[name], KNOWLEDGE)
    assert card is not None
    assert card.options.card_id == stored["card_id"] and card.team == stored["team"] and card.ts == stored["ts"]
    assert card.options.revision == stored["revision"] and card.options.clock_note == stored["clock_note"]
    assert card.options.expanded_library == stored["expanded_library"]
    assert card.options.fit is None  # the measured leeway of then: the card is drawn fitted to its token
    assert card.options.ephemeral == stored["ephemeral"] and card.options.compact is False
    assert [w.id for w in card.diagnosis.workarounds] == stored["workaround_ids"]
    assert card.diagnosis.verdict.value == stored["diagnosis"]["verdict"]
    assert [c.id.value for c in card.diagnosis.causes] == [c["id"] for c in stored["diagnosis"]["causes"]]
    assert decode_card(encode_card(card), KNOWLEDGE) == card  # and the next save writes it as card/4


@pytest.mark.parametrize("fit", [FIT, Fit(), Fit(LeewayFigure(200, None, 200), "ES256", "jwks"), None])
def test_a_cards_fit_round_trips(fit: Fit | None) -> None:
    [diagnosis] = diagnose_text(TOKENS[1], EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    card = card_for(diagnosis, fit=fit)
    assert decode_card(encode_card(card), KNOWLEDGE) == card


def test_a_card_judged_against_a_service_keeps_it_and_a_card_3_is_read_without_one() -> None:
    [diagnosis] = diagnose_text(TOKENS[1], EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    bound = card_for(diagnosis, fit=FIT, judged_against="orders")
    text = encode_card(bound)
    assert json.loads(text)[0] == "card/4" and json.loads(text)[7][7] == "orders"
    assert decode_card(text, KNOWLEDGE) == bound
    data = json.loads(text)
    data[0], data[7] = "card/3", data[7][:7]
    assert decode_card(json.dumps(data), KNOWLEDGE) == card_for(diagnosis, fit=FIT)
    data[0] = "card/4"  # a card/4 must carry the item
    assert decode_card(json.dumps(data), KNOWLEDGE) is None


def test_a_card_in_a_view_is_a_card_5_and_keeps_its_view_id_and_one_in_a_message_stays_a_card_4() -> None:
    [diagnosis] = diagnose_text(TOKENS[1], EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    in_view = card_for(diagnosis, fit=FIT, judged_against="orders", view_id="V0123ABCD")
    text = encode_card(in_view)
    data = json.loads(text)
    assert data[0] == "card/5" and data[7][7:] == ["orders", "V0123ABCD"]
    assert decode_card(text, KNOWLEDGE) == in_view
    in_message = encode_card(card_for(diagnosis, fit=FIT, judged_against="orders"))
    assert json.loads(in_message)[0] == "card/4" and len(json.loads(in_message)[7]) == 8
    for damaged in ([*data[7][:8], None], data[7][:8], [*data[7][:8], 17]):  # a card/5 carries a view id
        assert decode_card(json.dumps([*data[:7], damaged, data[8]]), KNOWLEDGE) is None
    data[0] = "card/4"  # a card/4 with a ninth item is damage
    assert decode_card(json.dumps(data), KNOWLEDGE) is None


def test_a_card_state_of_the_layout_before_the_fit_is_read_without_one() -> None:
    """``card/2`` held the measured leeway where ``card/3`` holds the fit: read with no fit."""
    [diagnosis] = diagnose_text(TOKENS[1], EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    data = json.loads(encode_card(card_for(diagnosis, fit=FIT)))
    data[0], data[7] = "card/2", [*data[7][:6], 80]
    decoded = decode_card(json.dumps(data), KNOWLEDGE)
    assert decoded is not None and decoded.options.fit is None and decoded.diagnosis == diagnosis


def test_an_old_card_state_keeps_its_claims_and_the_validators_time() -> None:
    skew = decode_card(LEGACY["skew"], KNOWLEDGE)
    assert skew is not None and skew.diagnosis.token is not None and skew.diagnosis.token.claims is not None
    assert skew.diagnosis.token.claims["name"] == "Zoë &lt;x&gt; \ud800"
    assert skew.diagnosis.token.claims["big"] == 10**30
    validator = decode_card(LEGACY["validator"], KNOWLEDGE)
    assert validator is not None and validator.diagnosis.source is Source.ERROR_TEXT
    assert validator.diagnosis.validator_time == NOW.timestamp() + 300


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not json",
        '"card"',
        "[]",
        '["card/2", "0123456789abcdef"]',
        '["facts/1", 1, 2, 3, 4, 5, 6, 7, 8]',
        '{"card_id": "x"}',
        '{"card_id": "x", "diagnosis": []}',
    ],
)
def test_a_card_state_of_another_version_or_damaged_reads_as_none(stored: str) -> None:
    assert decode_card(stored, KNOWLEDGE) is None


def test_a_damaged_card_state_reads_as_none() -> None:
    [diagnosis] = diagnose_text(TOKENS[1], EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    text = encode_card(card_for(diagnosis))
    for path, value in [((1,), ""), ((1,), "a|b"), ((7, 2), "3"), ((8, 2), "nope"), ((8, 3), [[1]]), ((4,), None)]:
        data = json.loads(text)
        target = data
        for index in path[:-1]:
            target = target[index]
        target[path[-1]] = value
        assert decode_card(json.dumps(data), KNOWLEDGE) is None, path


# --- clock observations --------------------------------------------------------------------------------


def test_an_observation_round_trips_without_its_clock() -> None:
    seen = token_seen("login.acme.test", T + 70, T)
    text = encode_observation(seen)
    # a reading that counts keeps the clock/1 layout, which the version before reads as before
    assert json.loads(text) == ["clock/1", seen.lower, None, seen.at, "token"]
    assert decode_observation(text, "login.acme.test") == seen
    kept_out = token_seen("login.acme.test", T + 10800, T)._replace(kept_out=TOO_FAR)
    text = encode_observation(kept_out)
    assert json.loads(text) == ["clock/2", kept_out.lower, None, kept_out.at, "token", "too_far"]
    assert decode_observation(text, "login.acme.test") == kept_out
    assert decode_observation('["clock/2", 1, null, 2, "token", ""]', "idp") is None
    probed = date_header("orders", T - 38, T - 0.2, T + 0.1)
    assert decode_observation(encode_observation(probed), "orders", THIS_HOST) == probed


def test_rows_written_before_the_codec_are_still_read() -> None:
    old = json.dumps([41.6, None, float(T), "token"])  # how bot/slack/clocks.py wrote them
    new = encode_observation(token_seen("idp", T + 50, T + 5))
    [first, second] = decode_observations([old, new], "idp")
    assert first == Observation("idp", SLACK, 41.6, math.inf, float(T), "token")
    assert second.lower == pytest.approx(45.0, abs=1e-3)


def test_rows_are_read_back_in_one_parse_unless_one_is_damaged(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [encode_observation(token_seen("idp", T + n, T)) for n in range(50)]

    def row_by_row(*_: Any) -> None:
        raise AssertionError("the fast path read the rows one by one")

    with monkeypatch.context() as patch:
        patch.setattr(codec, "decode_observation", row_by_row)
        assert len(decode_observations(rows, "idp")) == 50
    damaged = [*rows[:2], "not json", "[1, 2", '3, "x"]', '{"a": 1}', "[]", "null", '["clock/9", 1, 2, 3, "x"]']
    assert decode_observations(damaged, "idp") == decode_observations(rows[:2], "idp")


def test_no_row_is_an_observation_by_accident() -> None:
    assert decode_observation(None, "idp") is None
    assert decode_observation('["facts/1", 1, 2, 3]', "idp") is None
    assert decode_observation('["clock/1", "a", null, 1, "token"]', "idp") is None
    assert decode_observations(['["x", 1, 2, 3]'], "idp") == []
