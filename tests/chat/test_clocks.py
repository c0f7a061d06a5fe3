"""The clock book in a real Redis, and which clock a card's note speaks of (its words: tests/render)."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from bot.chat.clocks import ClockBook, clock_note, clock_reading, involves_time, probe_note
from bot.diagnosis import CauseId, Expectations, Report
from bot.diagnosis.clock import MILLISECONDS, OUTLIER, SLACK, TOO_FAR, estimate, token_seen, validator_time_seen
from bot.diagnosis.leeway import LeewayFigure, card_figure
from bot.keys.probe import ProbeFailure
from bot.knowledge import default_knowledge
from bot.pipeline import diagnose_text
from bot.render.clocks import describe_clock, issuer_note, kept_out_note, service_note, validator_note
from bot.store import MemoryStore, RedisStore
from tests.support.tokens import NOW, T, claims, make_token

KNOWLEDGE = default_knowledge()
AHEAD = make_token(claims(iat=T + 70, nbf=T + 70, exp=T + 3670))
IDX10223 = (
    "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '11/28/2026 20:58:30', "
    "Current time (UTC): '11/28/2026 21:05:00'."
)


def report_of(text: str) -> Report:
    return diagnose_text(text, Expectations(), NOW, knowledge=KNOWLEDGE)


@pytest.mark.redis
async def test_damaged_rows_of_clock_evidence_in_redis_are_skipped(
    redis_store: RedisStore, redis_raw: aioredis.Redis
) -> None:
    book = ClockBook(redis_store)
    report = report_of(AHEAD)
    first = await book.record("T1", "C1", report, T - 10)
    [key] = await redis_raw.keys("*clock:T1:C1:*")
    await redis_raw.rpush(key, "not json", "[1, 2", '3, "x"]', '{"a": 1}', "[]", "null")
    second = await book.record("T1", "C1", report, T - 5)
    [(issuer, estimate)] = second.items()
    assert issuer in first and estimate.observations == 2 and estimate.lower >= first[issuer].lower


@pytest.mark.redis
async def test_rows_the_previous_version_appended_still_count(
    redis_store: RedisStore, redis_raw: aioredis.Redis
) -> None:
    book = ClockBook(redis_store)
    report = report_of(AHEAD)
    await book.record("T1", "C1", report, T - 10)
    [key] = await redis_raw.keys("*clock:T1:C1:*")
    assert json.loads((await redis_raw.lrange(key, 0, -1))[0])[0] == "clock/1"
    await redis_raw.rpush(key, json.dumps([95.0, None, float(T - 20), "token"]))  # as bot/slack/clocks.py wrote it
    [(_, estimate)] = (await book.record("T1", "C1", report, T - 5)).items()
    assert estimate.observations == 3 and estimate.lower == 95.0 and estimate.first_at == T - 20


async def test_a_token_ahead_of_its_message_makes_an_issuer_note_with_the_cards_figure() -> None:
    [diagnosis] = report_of(AHEAD).diagnoses
    estimates = await ClockBook(MemoryStore()).record("T1", "C1", report_of(AHEAD), T - 10)
    reading = clock_reading(diagnosis, estimates, T - 10)
    assert reading is not None and not reading.validator and reading.need == 80 and not reading.kept_out
    figure = card_figure(diagnosis, KNOWLEDGE.small_leeway, 300, [reading.need])
    assert figure == LeewayFigure(needed=80, recommended=80, own=70)
    assert clock_note(reading, figure) == issuer_note(reading.estimate, figure)


def test_an_error_text_with_the_validators_time_makes_a_validator_note_without_leeway() -> None:
    [diagnosis] = report_of(IDX10223).diagnoses
    assert involves_time(diagnosis) and diagnosis.validator_time is not None
    clock = "the validator (microsoft-identitymodel)"
    [ahead] = estimate([validator_time_seen(clock, diagnosis.validator_time, T - 30)])
    reading = clock_reading(diagnosis, {clock: ahead})
    assert reading is not None and reading.validator and reading.need is None
    assert clock_note(reading, None) == validator_note(ahead)


def test_no_note_when_the_clock_is_not_ahead_or_the_evidence_contradicts_itself() -> None:
    [diagnosis] = report_of(AHEAD).diagnoses
    [behind] = estimate([token_seen("login.acme.test", T - 300, T)])
    assert clock_reading(diagnosis, {"https://login.acme.test/": behind}) is None
    [diagnosis] = report_of(make_token(claims(aud="other"))).diagnoses
    assert not involves_time(diagnosis)
    assert clock_reading(diagnosis, {}) is None and clock_note(None, None) is None


async def test_a_token_set_wrong_is_kept_out_of_its_issuers_estimate_and_its_card_says_so() -> None:
    book = ClockBook(MemoryStore())
    wrong = report_of(make_token(claims(iat=T + 3 * 3600, exp=T + 4 * 3600)))
    [diagnosis] = wrong.diagnoses
    assert CauseId.ISSUED_IN_FUTURE in diagnosis.cause_ids
    [(issuer, found)] = (await book.record("T1", "C1", wrong, T)).items()
    assert found.observations == 0 and [o.kept_out for o in found.kept_out] == [TOO_FAR]
    reading = clock_reading(diagnosis, {issuer: found}, T)
    assert reading is not None and reading.kept_out == TOO_FAR and reading.need is None
    note = clock_note(reading, None)
    assert note == kept_out_note(found.clock, TOO_FAR, 3 * 3600) and "3 h" in note
    # a later skewed token of the same issuer: estimated from itself alone, the 3 h one said to be kept out
    [(_, later)] = (await book.record("T1", "C1", report_of(AHEAD), T + 5)).items()
    assert later.observations == 1 and 64 < later.lower < 66 and len(later.kept_out) == 1
    assert "kept out: 1 token 3 h ahead (too far for clock skew)" in describe_clock(later)


async def test_a_reading_far_beyond_the_others_is_an_outlier_and_its_card_says_so() -> None:
    book = ClockBook(MemoryStore())
    for n in range(2):  # two tokens agree: the issuer runs about 70 s ahead
        await book.record("T1", "C1", report_of(make_token(claims(iat=T + 70 + n, exp=T + 3600, n=n))), T + n)
    far = report_of(make_token(claims(iat=T + 250, nbf=T + 250, exp=T + 3600)))
    [diagnosis] = far.diagnoses
    assert diagnosis.cause_ids[0] is CauseId.CLOCK_SKEW  # within the skew window: it could be skew on its own
    estimates = await book.record("T1", "C1", far, T + 5)
    [found] = estimates.values()
    assert found.observations == 2 and 69 < found.lower < 71 and [o.kept_out for o in found.kept_out] == [OUTLIER]
    reading = clock_reading(diagnosis, estimates, T + 5, 300)
    assert reading is not None and reading.kept_out == OUTLIER and reading.need == 70
    note = clock_note(reading, card_figure(diagnosis, KNOWLEDGE.small_leeway, 300, [reading.need]))
    assert note is not None and note.startswith(kept_out_note(found.clock, OUTLIER, 245))
    assert "far beyond the other readings" in note and "beyond any safe leeway: fix the clock" in note


async def test_a_token_with_a_time_in_milliseconds_is_kept_out() -> None:
    report = report_of(make_token(claims(iat=T + 70, nbf=T + 70, exp=(T + 3600) * 1000)))
    [(_, found)] = (await ClockBook(MemoryStore()).record("T1", "C1", report, T)).items()
    assert found.observations == 0 and [o.kept_out for o in found.kept_out] == [MILLISECONDS]


def test_a_probe_is_worded_by_the_renderer() -> None:
    failure = ProbeFailure("orders", "timeout", "no answer within 5 s")
    assert probe_note(failure) == "The clock probe of orders failed: no answer within 5 s."
    [measured] = estimate([token_seen("idp", T + 40, T, reference=SLACK)])
    assert probe_note(measured) == service_note(measured)
