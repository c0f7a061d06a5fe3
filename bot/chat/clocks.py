"""Clock evidence a chat bot sees: each token's iat, and each validator time an error message prints,
against the timestamp the chat platform gave the message it came in.

A chat platform stamps messages with its own well-synchronised clock (Slack's ``ts``), so a token whose
iat is later than the message that carried it was issued by a clock running ahead, and an error message
that says "Current time" later than its own message comes from a validator running ahead. Observations
are kept per channel and clock in the store (a day, no signatures: only bounds and instants), so cards
in a busy incident channel get sharper as evidence accumulates. A token that cannot be skew (its times set
wrong, a time in milliseconds) is kept with its reason but never counted (``bot.diagnosis.clock``), and the
cards say so. This module computes; ``bot.render.clocks`` words the note, with the card's one leeway figure
(``bot.diagnosis.leeway``).
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
    clock_evidence,
    estimate,
    issuer_label,
    leeway_to_accept,
    token_seen,
    validator_time_seen,
)
from bot.diagnosis.leeway import LeewayFigure
from bot.keys.probe import ProbeFailure
from bot.render.clocks import issuer_note, kept_out_note, probe_failure_note, service_note, validator_note
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

        A token that cannot be skew is recorded with the reason it is kept out (its card, and the later
        cards of its issuer, say so). One store round trip per clock: an atomic append that returns the
        clock's rows.
        """
        found: dict[str, list[Observation]] = {}
        window = report.expectations.leeway + report.expectations.skew_window  # beyond it no lead is skew
        for diagnosis in report.diagnoses:
            issued = clock_evidence(diagnosis, seen_at, window)
            if issued is not None:
                issuer, iat, kept_out = issued
                seen = token_seen(issuer_label(issuer), iat, seen_at, seen_resolution=seen_resolution)
                found.setdefault(issuer, []).append(seen._replace(kept_out=kept_out) if kept_out else seen)
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
    """What a card's 🕒 note speaks of: the clock the evidence shows running ahead (or whose estimate this
    card's token was kept out of), whose it is, and (for a token's issuer) the leeway the evidence needs to
    accept its tokens, which raises the card's one recommended figure."""

    estimate: ClockEstimate
    validator: bool  # the validator's clock (its error text printed its time), else the token's issuer
    need: int | None  # what the evidence needs, in whole seconds (a need, not the figure to set)
    kept_out: str = ""  # why this card's own token is kept out of the estimate ("" when it counts)
    lead: float | None = None  # how far ahead of its message this card's token was stamped (None: unknown)


def involves_time(diagnosis: Diagnosis) -> bool:
    return any(cause.id in TIME_CAUSES for cause in diagnosis.causes)


def clock_reading(
    diagnosis: Diagnosis, estimates: Estimates, seen_at: float | None = None, skew_window: float | None = None
) -> ClockReading | None:
    """The clock this diagnosis's card speaks of: when the evidence shows it running ahead (and agrees),
    or when this card's own token was kept out of its issuer's estimate. ``seen_at`` (when the token was
    seen) and ``skew_window`` tell a token kept out for its iat alone, or as an outlier."""
    validator = _validator(diagnosis)
    if validator is not None and diagnosis.validator_time is not None:
        judged = estimates.get(validator)
        if judged is None or not judged.ahead or not judged.consistent:
            return None
        return ClockReading(judged, True, None)
    issued = clock_evidence(diagnosis, seen_at, skew_window)
    found = estimates.get(issued[0]) if issued else None
    if found is None or issued is None:
        return None
    _, iat, kept_out = issued
    lead = iat - seen_at if seen_at is not None else None
    if not kept_out and lead is not None:  # an outlier: this message's reading, left out by the estimate
        kept_out = next((o.kept_out for o in found.kept_out if o.at == seen_at and o.lower >= lead - 2), "")
    running_ahead = found.ahead and found.consistent
    if not running_ahead and not kept_out:
        return None
    return ClockReading(found, False, leeway_to_accept(found) if running_ahead else None, kept_out, lead)


def clock_note(reading: ClockReading | None, leeway: LeewayFigure | None) -> str | None:
    """The card's 🕒 note about the clock running ahead (and this token, if it was kept out), with the
    card's one leeway figure."""
    if reading is None:
        return None
    if reading.validator:
        return validator_note(reading.estimate)
    notes = []
    if reading.kept_out:
        notes.append(kept_out_note(reading.estimate.clock, reading.kept_out, reading.lead))
    if reading.estimate.ahead and reading.estimate.consistent:
        notes.append(issuer_note(reading.estimate, leeway))
    return " ".join(notes) or None


def probe_note(measured: ClockEstimate | ProbeFailure) -> str:
    """What a probe of a service's clock found, in words."""
    if isinstance(measured, ProbeFailure):
        return probe_failure_note(measured.service, measured.detail)
    return service_note(measured)


def _validator(diagnosis: Diagnosis) -> str | None:
    if diagnosis.source is not Source.ERROR_TEXT:
        return None
    return f"the validator ({diagnosis.library.value})" if diagnosis.library else "the validator"
