"""Times for people: format_utc's day memo writes what time.strftime writes."""

from __future__ import annotations

import random
import time

from bot.diagnosis.timefmt import MAX_TIMESTAMP, format_utc


def test_format_utc_is_strftime_on_every_kind_of_instant() -> None:
    rng = random.Random(5)
    instants = [0.0, 0.5, 59.0, 86399.0, 86400.0, 951782400.0, 1795003600.9, MAX_TIMESTAMP, MAX_TIMESTAMP - 86400]
    instants += [float(rng.randrange(0, int(MAX_TIMESTAMP))) for _ in range(2000)]
    instants += [rng.uniform(0, 4e9) for _ in range(2000)]
    for instant in instants * 2:  # the second time from the memo
        assert format_utc(instant) == time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(instant))), instant


def test_format_utc_outside_the_calendar() -> None:
    assert format_utc(-1.0) == "before 1970 (negative)"
    assert format_utc(MAX_TIMESTAMP + 1) == "after the year 9999"
    assert format_utc(float("nan")) == "not a finite number"
