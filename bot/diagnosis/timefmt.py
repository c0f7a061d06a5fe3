"""Times for people: UTC stamps and relative durations that never overflow.

Token timestamps are hostile (10^300, negative, milliseconds); ``datetime.fromtimestamp`` raises on
them, which is a classic crash in other tools. Everything here takes plain floats and stays total.
"""

from __future__ import annotations

import math
import time

MAX_TIMESTAMP = 253402300799.0  # 9999-12-31T23:59:59Z, the last instant datetime can hold


def is_representable(timestamp: float) -> bool:
    return math.isfinite(timestamp) and 0 <= timestamp <= MAX_TIMESTAMP


def format_utc(timestamp: float) -> str:
    """``2026-11-28 21:04:05 UTC``, or a plain description when no calendar date exists."""
    if not math.isfinite(timestamp):
        return "not a finite number"
    if timestamp < 0:
        return "before 1970 (negative)"
    if timestamp > MAX_TIMESTAMP:
        return "after the year 9999"
    # time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(timestamp))), with the date of each day made
    # once: a log's tokens fall on a few days. UTC has no leap seconds in Unix time, so every day is 86,400
    # seconds and the time of day is plain arithmetic (the same text: tested in tests/diagnosis/test_timefmt.py).
    day, second = divmod(int(timestamp), 86400)
    date = _DATES.get(day)
    if date is None:
        date = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
        if len(_DATES) >= _MAX_DATES:
            _DATES.clear()
        _DATES[day] = date
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{date} {hour:02d}:{minute:02d}:{second:02d} UTC"


_DATES: dict[int, str] = {}
_MAX_DATES = 1024


def format_iso(timestamp: float) -> str | None:
    if not is_representable(timestamp):
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(timestamp)))


def format_duration(seconds: float) -> str:
    """A short human duration: ``42 s``, ``1 min 10 s``, ``3 h 12 min``, ``2 d 4 h``, ``about 5 years``."""
    seconds = abs(seconds)
    if not math.isfinite(seconds):
        return "forever"
    if seconds < 1:
        return "under 1 s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    if days < 365:
        return f"{days} d {hours} h" if hours else f"{days} d"
    years = seconds / (365.25 * 86400)
    if years < 1e6:
        return f"about {years:,.0f} years"
    return f"about {years:.1e} years"


def format_relative(timestamp: float, now: float) -> str:
    """``in 14 min`` or ``3 h 12 min ago`` relative to ``now``."""
    delta = timestamp - now
    if not math.isfinite(delta):
        return "never" if delta > 0 else "long ago"
    if abs(delta) < 1:
        return "now"
    return f"in {format_duration(delta)}" if delta > 0 else f"{format_duration(delta)} ago"


def as_timestamp(value: object) -> float | None:
    """A claim's value as finite epoch seconds, or None: booleans, strings and integers beyond any float
    (10**400) are not timestamps, and ``float()`` would raise on the last."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
