"""The clock book in a real Redis, and which clock a card's note speaks of (its words: tests/render)."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from bot.chat.clocks import ClockBook, clock_note, clock_reading, involves_time, probe_note
from bot.diagnosis import Expectations, Report
from bot.diagnosis.clock import SLACK, estimate, token_seen, validator_time_seen
from bot.keys.probe import ProbeFailure
from bot.knowledge import default_knowledge
from bot.pipeline import diagnose_text
from bot.render.clocks import issuer_note, service_note, validator_note
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


async def test_a_token_ahead_of_its_message_makes_an_issuer_note_with_its_leeway() -> None:
    [diagnosis] = report_of(AHEAD).diagnoses
    estimates = await ClockBook(MemoryStore()).record("T1", "C1", report_of(AHEAD), T - 10)
    reading = clock_reading(diagnosis, estimates)
    assert reading is not None and not reading.validator and reading.leeway == 90
    assert clock_note(diagnosis, estimates) == (issuer_note(reading.estimate, 90), 90)


def test_an_error_text_with_the_validators_time_makes_a_validator_note_without_leeway() -> None:
    [diagnosis] = report_of(IDX10223).diagnoses
    assert involves_time(diagnosis) and diagnosis.validator_time is not None
    clock = "the validator (microsoft-identitymodel)"
    [ahead] = estimate([validator_time_seen(clock, diagnosis.validator_time, T - 30)])
    reading = clock_reading(diagnosis, {clock: ahead})
    assert reading is not None and reading.validator and reading.leeway is None
    assert clock_note(diagnosis, {clock: ahead}) == (validator_note(ahead), None)


def test_no_note_when_the_clock_is_not_ahead_or_the_evidence_contradicts_itself() -> None:
    [diagnosis] = report_of(AHEAD).diagnoses
    [behind] = estimate([token_seen("login.acme.test", T - 300, T)])
    assert clock_note(diagnosis, {"https://login.acme.test/": behind}) == (None, None)
    [diagnosis] = report_of(make_token(claims(aud="other"))).diagnoses
    assert not involves_time(diagnosis)
    assert clock_note(diagnosis, {}) == (None, None)


def test_a_probe_is_worded_by_the_renderer() -> None:
    failure = ProbeFailure("orders", "timeout", "no answer within 5 s")
    assert probe_note(failure) == "The clock probe of orders failed: no answer within 5 s."
    [measured] = estimate([token_seen("idp", T + 40, T, reference=SLACK)])
    assert probe_note(measured) == service_note(measured)
