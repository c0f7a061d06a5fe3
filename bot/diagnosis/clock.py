"""Whose clock is off, and by how much, from evidence an incident already holds. Pure: no I/O.

An *offset* is how far a clock reads ahead of a reference clock at the same instant (negative:
behind). The reference is Slack's clock for message timestamps, this host's clock for a probe, or a
validator's own log clock. Every observation yields an interval that must contain the true offset,
provided its one assumption holds (stated on each constructor); intervals of the same clock against
the same reference are intersected, so more evidence can only narrow the estimate.

Whole-second stamps (iat, a Date header, a log line) truncate the reading: a stamp ``s`` means the
clock read somewhere in ``[s, s + resolution)``. The bounds below account for that, so they are
never tighter than the evidence allows.

Only readings that can be clock skew feed an estimate. A token judged ``issued_in_future`` or
``not_yet_valid`` (too far ahead for skew: the issuer set it wrong), one with a timestamp in
milliseconds, or one whose iat lies beyond the skew window, is *kept out*: recorded with the reason
(``Observation.kept_out``), so a card can say so, but never intersected. So is an *outlier*: a reading
that puts a clock far further ahead than two or more others that agree it is ahead. One wrong token
then cannot poison an issuer's estimate for the day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from bot.diagnosis.ids import CauseId
from bot.diagnosis.model import Diagnosis, Source
from bot.diagnosis.timefmt import as_timestamp, is_representable

SLACK = "Slack"
THIS_HOST = "this host"
SIGNIFICANT_SECONDS = 2.0  # below this, a clock is as good as synchronised (stamp resolution, latency)
_ROUNDING = 1e-6  # epoch seconds as floats lose about 2e-7 s: widen every bound by more than that
OUTLIER_SECONDS = 60.0  # a reading this far beyond what the others agree on is kept out
# Why an observation is kept out of its clock's estimate (``Observation.kept_out``); "" feeds it.
TOO_FAR = "too_far"  # further ahead than clock skew goes: a time set wrong
MILLISECONDS = "milliseconds"  # a token with a timestamp in milliseconds
OUTLIER = "outlier"  # far beyond the other readings of the same clock (decided by ``estimate``)


class Observation(NamedTuple):
    """One piece of evidence: ``clock`` read ``lower ≤ offset ≤ upper`` ahead of ``reference``.

    (A named tuple: the bot reads up to fifty of them back for every answer.)"""

    clock: str
    reference: str
    lower: float
    upper: float
    at: float  # when it was observed, on the reference clock
    kind: str  # "token", "error_text", "date_header", "log_line"
    kept_out: str = ""  # why it cannot be skew (TOO_FAR, MILLISECONDS, OUTLIER); "" when it counts


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    clock: str
    reference: str
    lower: float
    upper: float
    observations: int
    kinds: tuple[str, ...]
    first_at: float
    last_at: float
    kept_out: tuple[Observation, ...] = ()  # readings of this clock that cannot be skew, each with its reason

    @property
    def consistent(self) -> bool:
        """False when the evidence contradicts itself (a clock that jumped, or a broken assumption)."""
        return self.lower <= self.upper

    @property
    def ahead(self) -> bool:
        return self.lower >= SIGNIFICANT_SECONDS

    @property
    def behind(self) -> bool:
        return self.upper <= -SIGNIFICANT_SECONDS

    @property
    def off(self) -> bool:
        return self.consistent and (self.ahead or self.behind)


def token_seen(
    issuer: str, iat: float, seen_at: float, *, reference: str = SLACK, seen_resolution: float = 0.0
) -> Observation:
    """A token the issuer stamped ``iat`` was seen (pasted, logged) at ``seen_at`` on the reference clock.

    Assumption: a token is issued before anyone sees it. The issuer read at least ``iat`` at some
    instant no later than ``seen_at`` (plus the reference's own stamp resolution), so its offset is at
    least ``iat - seen_at - seen_resolution``. A token can be old, so there is no upper bound.
    """
    return Observation(issuer, reference, iat - seen_at - seen_resolution - _ROUNDING, math.inf, seen_at, "token")


def validator_time_seen(
    validator: str, validator_now: float, seen_at: float, *, reference: str = SLACK, seen_resolution: float = 0.0
) -> Observation:
    """An error message printed the validator's own time (IDX10223's "Current time") and was seen at
    ``seen_at``. Assumption: the message was written before it was seen, so the validator's offset is at
    least ``validator_now - seen_at - seen_resolution``."""
    return Observation(
        validator, reference, validator_now - seen_at - seen_resolution - _ROUNDING, math.inf, seen_at, "error_text"
    )


def date_header(service: str, date: float, sent: float, received: float, *, reference: str = THIS_HOST) -> Observation:
    """An HTTP response's ``Date`` (whole seconds) for a request sent at ``sent`` and answered at
    ``received`` on the reference clock. Assumption: the server stamped it while handling the request.
    The server read ``[date, date + 1)`` at some instant in ``[sent, received]``, so its offset lies in
    ``(date - received, date + 1 - sent)``: the round trip and the 1 s resolution widen the interval."""
    if received < sent:
        sent, received = received, sent
    return Observation(
        service, reference, date - received - _ROUNDING, date + 1 - sent + _ROUNDING, received, "date_header"
    )


def token_in_log(issuer: str, iat: float, logged_at: float, validator: str) -> Observation:
    """A token stamped ``iat`` appears on a validator's log line stamped ``logged_at`` (whole seconds):
    the issuer runs at least ``iat - logged_at - 1`` ahead of that validator's clock."""
    return Observation(issuer, validator, iat - logged_at - 1.0 - _ROUNDING, math.inf, logged_at, "log_line")


def issuer_label(issuer: str) -> str:
    """How an issuer's clock is named: its host (``login.acme.test``), or the iss itself, cut short."""
    try:
        host = urlsplit(issuer).hostname if "://" in issuer else None
    except ValueError:
        host = None
    return (host or issuer)[:80]


def issuer_and_iat(diagnosis: Diagnosis) -> tuple[str, float] | None:
    """A token diagnosis's issuer and its iat as an instant, when both are readable and the token can be
    skew evidence (see :func:`clock_evidence` for the tokens kept out, and why)."""
    found = clock_evidence(diagnosis)
    return (found[0], found[1]) if found is not None and not found[2] else None


def clock_evidence(
    diagnosis: Diagnosis, seen_at: float | None = None, skew_window: float | None = None
) -> tuple[str, float, str] | None:
    """A token diagnosis's issuer, its iat as an instant, and why it cannot be skew evidence ("" when it
    can): it has a time in milliseconds, its nbf was judged set wrong (``not_yet_valid``), or its iat lies
    further ahead than clock skew goes: more than ``skew_window`` after ``seen_at`` when both are given,
    else as judged (``issued_in_future``). None when the token has no readable issuer or iat."""
    token = diagnosis.token
    if diagnosis.source is not Source.TOKEN or token is None or token.claims is None:
        return None
    iss, seconds = token.claims.get("iss"), as_timestamp(token.claims.get("iat"))
    if not isinstance(iss, str) or not iss or seconds is None or not is_representable(seconds):
        return None
    causes = {cause.id for cause in (*diagnosis.causes, *diagnosis.warnings)}
    if CauseId.MILLISECONDS_TIMESTAMP in causes:
        return iss, seconds, MILLISECONDS
    if CauseId.NOT_YET_VALID in causes:
        return iss, seconds, TOO_FAR
    if seen_at is not None and skew_window is not None:
        too_far = seconds - seen_at > skew_window
    else:
        too_far = CauseId.ISSUED_IN_FUTURE in causes
    return iss, seconds, TOO_FAR if too_far else ""


def estimate(observations: Iterable[Observation]) -> list[ClockEstimate]:
    """Intersect the observations of each (clock, reference) pair that can be skew; the most off clock
    first. A clock whose readings were all kept out still gets an estimate (no bounds, no observations)
    that names them."""
    grouped: dict[tuple[str, str], list[Observation]] = {}
    for observation in observations:
        if observation.kept_out or math.isfinite(observation.lower) or math.isfinite(observation.upper):
            grouped.setdefault((observation.clock, observation.reference), []).append(observation)
    estimates = [_estimate(clock, reference, group) for (clock, reference), group in grouped.items()]
    estimates.sort(key=lambda e: -_distance_from_zero(e))
    return estimates


def _estimate(clock: str, reference: str, group: list[Observation]) -> ClockEstimate:
    used = [o for o in group if not o.kept_out]
    kept_out = tuple(o for o in group if o.kept_out) if len(used) != len(group) else ()
    lowers = [o.lower for o in used]
    if len(lowers) >= 3:
        ranked = sorted(lowers)
        if ranked[-3] >= SIGNIFICANT_SECONDS and ranked[-1] - ranked[-2] > OUTLIER_SECONDS:  # rare: look closer
            outliers = _outliers(used)
            used = [o for o in used if o not in outliers]
            lowers = [o.lower for o in used]
            kept_out += tuple(o._replace(kept_out=OUTLIER) for o in outliers)
    if not used:
        return ClockEstimate(
            clock, reference, -math.inf, math.inf, 0, (), min(o.at for o in group), max(o.at for o in group), kept_out
        )
    return ClockEstimate(
        clock=clock,
        reference=reference,
        lower=max(lowers),
        upper=min(o.upper for o in used),
        observations=len(used),
        kinds=tuple(dict.fromkeys(o.kind for o in used)),
        first_at=min(o.at for o in used),
        last_at=max(o.at for o in used),
        kept_out=kept_out,
    )


def _outliers(used: list[Observation]) -> tuple[Observation, ...]:
    """The readings that put the clock more than OUTLIER_SECONDS further ahead than the highest of two or
    more others that agree it runs ahead. (A lower bound lower than the rest contradicts nothing: that
    token was simply seen later. One far higher than several agreeing readings is a wrong time.)"""
    ranked = sorted(used, key=lambda o: -o.lower)
    found: list[Observation] = []
    while len(ranked) >= 3:
        top, others = ranked[0], ranked[1:]
        ahead = [o.lower for o in others if o.lower >= SIGNIFICANT_SECONDS]
        if len(ahead) < 2 or top.lower - max(ahead) <= OUTLIER_SECONDS:
            break
        found.append(top)
        ranked = others
    return tuple(found)


def leeway_to_accept(issuer: ClockEstimate, validator: ClockEstimate | None = None) -> int | None:
    """The leeway (whole seconds) the evidence so far needs for the validator to accept tokens stamped by
    this issuer's clock: a need, not a recommendation (``bot.diagnosis.leeway`` turns it into the figure
    to set). None when the issuer shows no lead."""
    lead = issuer.lower - (
        validator.upper if validator is not None and validator.reference == issuer.reference else 0.0
    )
    if not math.isfinite(lead) or lead < SIGNIFICANT_SECONDS:
        return None
    return math.ceil(lead - _ROUNDING)


def _distance_from_zero(item: ClockEstimate) -> float:
    if item.lower > 0:
        return item.lower
    if item.upper < 0:
        return -item.upper
    return 0.0
