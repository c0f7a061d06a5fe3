"""Clock evidence the bot sees in Slack: each token's iat, and each validator time an error message
prints, against the ``ts`` of the message it came in.

Slack stamps messages with its own well-synchronised clock, so a token whose iat is later than the
message that carried it was issued by a clock running ahead, and an error message that says "Current
time" later than its own message comes from a validator running ahead. Observations are kept per
channel and clock in the store (a day, no signatures: only bounds and instants), so cards in a busy
incident channel get sharper as evidence accumulates.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from bot.config import Service
from bot.diagnosis.clock import (
    SLACK,
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
from bot.diagnosis.model import CauseId, Diagnosis, Report, Source
from bot.keys.probe import ProbeFailure
from bot.store import Store

CLOCK_TTL = 24 * 3600
MAX_KEPT = 50
PROBE_TTL = 60  # one Date-header probe per service a minute is plenty: clocks drift slowly
TIME_CAUSES = frozenset({CauseId.CLOCK_SKEW, CauseId.EXPIRED, CauseId.NOT_YET_VALID, CauseId.ISSUED_IN_FUTURE})


class ClockBook:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(
        self, team: str, channel: str, report: Report, seen_at: float, seen_resolution: float = 0.0
    ) -> dict[str, ClockEstimate]:
        """Add what this report's tokens say about their issuers' clocks; the estimate per issuer."""
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
        estimates: dict[str, ClockEstimate] = {}
        for clock, observations in found.items():
            key = f"clock:{team or '-'}:{channel}:{hashlib.sha256(clock.encode()).hexdigest()[:16]}"
            rows = await self._store.append(key, [_encode_one(o) for o in observations], CLOCK_TTL, MAX_KEPT)
            estimates[clock] = estimate(_decode_rows(rows, observations[0].clock) or observations)[0]
        return estimates

    async def service_clock(self, service: Service, *, fresh: bool = False) -> ClockEstimate | ProbeFailure:
        """The service's clock against this host's, from one probe of its ``probe_url`` (cached a minute)."""
        from bot.keys.probe import probe_clock

        assert service.probe_url is not None
        key = f"probe:{hashlib.sha256(service.name.encode()).hexdigest()[:16]}"
        cached = None if fresh else _decode_one(await self._store.get(key), service.name, THIS_HOST)
        if cached is not None:
            return estimate([cached])[0]
        measured = await probe_clock(service.name, service.probe_url, allow_http=service.keys.allow_http)
        if isinstance(measured, ProbeFailure):
            return measured
        await self._store.set(key, _encode_one(measured), PROBE_TTL)
        return estimate([measured])[0]


def involves_time(diagnosis: Diagnosis) -> bool:
    return any(cause.id in TIME_CAUSES for cause in diagnosis.causes)


def service_note(measured: ClockEstimate | ProbeFailure) -> str:
    if isinstance(measured, ProbeFailure):
        return f"The clock probe of {measured.service} failed: {measured.detail}."
    text = measured.describe() + "."
    if measured.off:
        text += f" Fix NTP on {measured.clock}'s hosts."
    return text


def clock_note(diagnosis: Diagnosis, estimates: dict[str, ClockEstimate]) -> tuple[str | None, int | None]:
    """What the card says about the issuer's clock when the evidence shows it running ahead, and the
    leeway that accepts its tokens (for the snippets)."""
    issued = issuer_and_iat(diagnosis)
    validator = _validator(diagnosis)
    if validator is not None and diagnosis.validator_time is not None:
        judged = estimates.get(validator)
        if judged is None or not judged.ahead or not judged.consistent:
            return None, None
        return judged.describe() + ". Fix NTP on the validating hosts: their clock expires tokens early.", None
    found = estimates.get(issued[0]) if issued else None
    if found is None or not found.ahead or not found.consistent:
        return None, None
    note = found.describe() + "."
    leeway = leeway_to_accept(found)
    if leeway is not None:
        note += f" Fix NTP on the issuer's hosts; until then a leeway of {leeway} s accepts its tokens."
    return note, leeway


def _validator(diagnosis: Diagnosis) -> str | None:
    if diagnosis.source is not Source.ERROR_TEXT:
        return None
    return f"the validator ({diagnosis.library.value})" if diagnosis.library else "the validator"


def _encode_one(observation: Observation) -> str:
    upper = None if math.isinf(observation.upper) else observation.upper
    return json.dumps([observation.lower, upper, observation.at, observation.kind])


def _decode_rows(rows: list[str], clock: str) -> list[Observation]:
    """The observations kept for one clock (up to MAX_KEPT, read back at every answer): one JSON parse
    for all of them; row by row, skipping the unreadable, only if that fails."""
    try:
        decoded = json.loads(f"[{','.join(rows)}]")
        if len(decoded) != len(rows):
            raise ValueError("rows do not match their values")
        return [_observation(clock, SLACK, *row) for row in decoded]
    except (ValueError, TypeError):
        return [item for raw in rows if (item := _decode_one(raw, clock)) is not None]


def _observation(clock: str, reference: str, lower: Any, upper: Any, at: Any, kind: Any) -> Observation:
    """Raises ValueError or TypeError on values that are not what ``_encode_one`` wrote."""
    return Observation(
        clock, reference, float(lower), math.inf if upper is None else float(upper), float(at), str(kind)
    )


def _decode_one(raw: str | None, clock: str, reference: str = SLACK) -> Observation | None:
    """An observation kept in the store (bounds, instant, kind), or None for anything unreadable."""
    if not raw:
        return None
    try:
        return _observation(clock, reference, *json.loads(raw))
    except (ValueError, TypeError):
        return None
