"""Clock evidence a chat bot sees: each token's iat, and each validator time an error message prints,
against the timestamp the chat platform gave the message it came in.

A chat platform stamps messages with its own well-synchronised clock (Slack's ``ts``), so a token whose
iat is later than the message that carried it was issued by a clock running ahead, and an error message
that says "Current time" later than its own message comes from a validator running ahead. Observations
are kept per channel and clock in the store (a day, no signatures: only bounds and instants), so cards
in a busy incident channel get sharper as evidence accumulates. This module computes; ``bot.render.clocks``
words the note.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from bot.config import Service
from bot.diagnosis import CauseId, Diagnosis, Report, Source
from bot.diagnosis.clock import (
    THIS_HOST,
    ClockEstimate,
    Observation,
    estimate,
    issuer_and_iat,
    issuer_label,
    leeway_to_accept,
    token_seen,
    validator_time_seen,
)
from bot.keys.probe import ProbeFailure
from bot.render.clocks import issuer_note, probe_failure_note, service_note, validator_note
from bot.store import Store
from bot.store.codec import decode_observation, decode_observations, encode_observation

CLOCK_TTL = 24 * 3600
MAX_KEPT = 50
PROBE_TTL = 60  # one Date-header probe per service a minute is plenty: clocks drift slowly
TIME_CAUSES = frozenset({CauseId.CLOCK_SKEW, CauseId.EXPIRED, CauseId.NOT_YET_VALID, CauseId.ISSUED_IN_FUTURE})
Estimates = dict[str, ClockEstimate]


class ClockBook:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(
        self, team: str, channel: str, report: Report, seen_at: float, seen_resolution: float = 0.0
    ) -> Estimates:
        """Add what this report's tokens say about their issuers' clocks; the estimate per issuer.

        One store round trip per clock: an atomic append that returns the clock's rows.
        """
        found: dict[str, list[Observation]] = {}
        for diagnosis in report.diagnoses:
            issued = issuer_and_iat(diagnosis)
            if issued is not None:
                issuer, iat = issued
                found.setdefault(issuer, []).append(
                    token_seen(issuer_label(issuer), iat, seen_at, seen_resolution=seen_resolution)
                )
            validator = _validator(diagnosis)
            if validator is not None and diagnosis.validator_time is not None:
                found.setdefault(validator, []).append(
                    validator_time_seen(validator, diagnosis.validator_time, seen_at, seen_resolution=seen_resolution)
                )
        estimates: Estimates = {}
        for clock, observations in found.items():
            key = f"clock:{team or '-'}:{channel}:{hashlib.sha256(clock.encode()).hexdigest()[:16]}"
            rows = await self._store.append(key, [encode_observation(o) for o in observations], CLOCK_TTL, MAX_KEPT)
            estimates[clock] = estimate(decode_observations(rows, observations[0].clock) or observations)[0]
        return estimates

    async def service_clock(self, service: Service, *, fresh: bool = False) -> ClockEstimate | ProbeFailure:
        """The service's clock against this host's, from one probe of its ``probe_url`` (cached a minute)."""
        from bot.keys.probe import probe_clock

        assert service.probe_url is not None
        key = f"probe:{hashlib.sha256(service.name.encode()).hexdigest()[:16]}"
        cached = None if fresh else decode_observation(await self._store.get(key), service.name, THIS_HOST)
        if cached is not None:
            return estimate([cached])[0]
        measured = await probe_clock(service.name, service.probe_url, allow_http=service.keys.allow_http)
        if isinstance(measured, ProbeFailure):
            return measured
        await self._store.set(key, encode_observation(measured), PROBE_TTL)
        return estimate([measured])[0]


class ClockReading(NamedTuple):
    """What a card's 🕒 note says: the clock the evidence shows running ahead, whose it is, and (for a
    token's issuer) the leeway that accepts its tokens, which the card's snippets carry."""

    estimate: ClockEstimate
    validator: bool  # the validator's clock (its error text printed its time), else the token's issuer
    leeway: int | None


def involves_time(diagnosis: Diagnosis) -> bool:
    return any(cause.id in TIME_CAUSES for cause in diagnosis.causes)


def clock_reading(diagnosis: Diagnosis, estimates: Estimates) -> ClockReading | None:
    """The clock this diagnosis's card speaks of, when the evidence shows it running ahead (and agrees)."""
    validator = _validator(diagnosis)
    if validator is not None and diagnosis.validator_time is not None:
        judged = estimates.get(validator)
        if judged is None or not judged.ahead or not judged.consistent:
            return None
        return ClockReading(judged, True, None)
    issued = issuer_and_iat(diagnosis)
    found = estimates.get(issued[0]) if issued else None
    if found is None or not found.ahead or not found.consistent:
        return None
    return ClockReading(found, False, leeway_to_accept(found))


def clock_note(diagnosis: Diagnosis, estimates: Estimates) -> tuple[str | None, int | None]:
    """The card's 🕒 note about the clock running ahead, and the leeway for its snippets (or Nones)."""
    reading = clock_reading(diagnosis, estimates)
    if reading is None:
        return None, None
    if reading.validator:
        return validator_note(reading.estimate), None
    return issuer_note(reading.estimate, reading.leeway), reading.leeway


def probe_note(measured: ClockEstimate | ProbeFailure) -> str:
    """What a probe of a service's clock found, in words."""
    if isinstance(measured, ProbeFailure):
        return probe_failure_note(measured.service, measured.detail)
    return service_note(measured)


def _validator(diagnosis: Diagnosis) -> str | None:
    if diagnosis.source is not Source.ERROR_TEXT:
        return None
    return f"the validator ({diagnosis.library.value})" if diagnosis.library else "the validator"
