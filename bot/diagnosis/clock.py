"""Whose clock is off, and by how much, from evidence an incident already holds. Pure: no I/O.

An *offset* is how far a clock reads ahead of a reference clock at the same instant (negative:
behind). The reference is Slack's clock for message timestamps, this host's clock for a probe, or a
validator's own log clock. Every observation yields an interval that must contain the true offset,
provided its one assumption holds (stated on each constructor); intervals of the same clock against
the same reference are intersected, so more evidence can only narrow the estimate.

Whole-second stamps (iat, a Date header, a log line) truncate the reading: a stamp ``s`` means the
clock read somewhere in ``[s, s + resolution)``. The bounds below account for that, so they are
never tighter than the evidence allows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from bot.diagnosis.model import Diagnosis, Source
from bot.diagnosis.timefmt import as_timestamp, format_duration, format_utc, is_representable

SLACK = "Slack"
THIS_HOST = "this host"
SIGNIFICANT_SECONDS = 2.0  # below this, a clock is as good as synchronised (stamp resolution, latency)
_ROUNDING = 1e-6  # epoch seconds as floats lose about 2e-7 s: widen every bound by more than that


class Observation(NamedTuple):
    """One piece of evidence: ``clock`` read ``lower ≤ offset ≤ upper`` ahead of ``reference``.

    (A named tuple: the bot reads up to fifty of them back for every answer.)"""

    clock: str
    reference: str
    lower: float
    upper: float
    at: float  # when it was observed, on the reference clock
    kind: str  # "token", "error_text", "date_header", "log_line"


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

    def describe(self) -> str:
        """``login.acme.test's clock is at least 42 s ahead of Slack's (3 tokens, seen 12:00:05–12:03:10 UTC)``."""
        whose = f"{self.clock}'s clock"
        if not self.consistent:
            verdict = "gave contradictory readings (did it jump?)"
        elif math.isfinite(self.lower) and math.isfinite(self.upper) and self.upper - self.lower <= 10:
            middle, spread = (self.lower + self.upper) / 2, (self.upper - self.lower) / 2
            direction = "ahead of" if middle > 0 else "behind"
            verdict = (
                f"is {format_duration(abs(middle))} {direction} {self._reference()} (±{_seconds(spread)})"
                if abs(middle) >= SIGNIFICANT_SECONDS
                else f"agrees with {self._reference()} (within {_seconds(max(abs(self.lower), abs(self.upper)))})"
            )
        elif self.ahead:
            verdict = f"is at least {format_duration(self.lower)} ahead of {self._reference()}"
        elif self.behind:
            verdict = f"is at least {format_duration(-self.upper)} behind {self._reference()}"
        else:
            verdict = f"shows no sign of being off against {self._reference()}"
        return f"{whose} {verdict} ({self._evidence()})"

    def _reference(self) -> str:
        """ "Slack's", but "this host" and "the log's timestamps" as they are."""
        plain = self.reference != THIS_HOST and "'" not in self.reference
        return f"{self.reference}'s" if plain else self.reference

    def _evidence(self) -> str:
        noun = {"token": "token", "error_text": "error message", "date_header": "Date header", "log_line": "log line"}
        kinds = [noun.get(kind, kind) for kind in self.kinds]
        what = (
            f"{self.observations} {kinds[0]}{'s' if self.observations != 1 else ''}"
            if len(kinds) == 1
            else f"{self.observations} observations"
        )
        first, last = format_utc(self.first_at), format_utc(self.last_at)
        when = first if first == last else f"{first[:-4]}–{last[11:]}"
        return f"{what}, seen {when}"


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
    """A token diagnosis's issuer and its iat as an instant, when both are readable: a clock reading."""
    token = diagnosis.token
    if diagnosis.source is not Source.TOKEN or token is None or token.claims is None:
        return None
    iss, seconds = token.claims.get("iss"), as_timestamp(token.claims.get("iat"))
    if not isinstance(iss, str) or not iss or seconds is None:
        return None
    return (iss, seconds) if is_representable(seconds) else None


def estimate(observations: Iterable[Observation]) -> list[ClockEstimate]:
    """Intersect the observations of each (clock, reference) pair; the most off clock first."""
    grouped: dict[tuple[str, str], list[Observation]] = {}
    for observation in observations:
        if math.isfinite(observation.lower) or math.isfinite(observation.upper):
            grouped.setdefault((observation.clock, observation.reference), []).append(observation)
    estimates = [
        ClockEstimate(
            clock=clock,
            reference=reference,
            lower=max(o.lower for o in group),
            upper=min(o.upper for o in group),
            observations=len(group),
            kinds=tuple(dict.fromkeys(o.kind for o in group)),
            first_at=min(o.at for o in group),
            last_at=max(o.at for o in group),
        )
        for (clock, reference), group in grouped.items()
    ]
    estimates.sort(key=lambda e: -_distance_from_zero(e))
    return estimates


def leeway_to_accept(issuer: ClockEstimate, validator: ClockEstimate | None = None) -> int | None:
    """The leeway (whole seconds) under which the validator accepts tokens stamped by this issuer's
    clock, from the evidence so far. None when the issuer shows no lead."""
    lead = issuer.lower - (
        validator.upper if validator is not None and validator.reference == issuer.reference else 0.0
    )
    if not math.isfinite(lead) or lead < SIGNIFICANT_SECONDS:
        return None
    return round_leeway(lead)


def round_leeway(seconds: float) -> int:
    """A leeway to configure for a measured need: rounded up to 10 s, one step of margin, at least 30 s."""
    return max(30, int(math.ceil(seconds / 10.0) * 10 + 10))


def advice(estimates: Iterable[ClockEstimate]) -> list[str]:
    """Which clock to fix first, in words: the one the evidence shows furthest off."""
    lines = []
    for item in estimates:
        if not item.off:
            continue
        direction = "ahead" if item.ahead else "behind"
        lines.append(f"Fix NTP on {item.clock}'s hosts: its clock runs {direction}.")
    return lines


def _distance_from_zero(item: ClockEstimate) -> float:
    if item.lower > 0:
        return item.lower
    if item.upper < 0:
        return -item.upper
    return 0.0


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 1 else "1 s"
