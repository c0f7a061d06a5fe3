"""Log-line timestamps in the formats engineers paste."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.logtime import line_time

REFERENCE = 1795900000.0  # 2026-11-28T21:06:40Z


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2026-11-28T20:59:01Z WARN rejected token", 1795899541.0),
        ("2026-11-28T20:59:01.250Z WARN", 1795899541.25),
        ("2026-11-28 21:59:01+01:00 level=warn", 1795899541.0),
        ("2026-11-28 20:59:01,123 ERROR [main] o.s.s.o.s.r.w.BearerTokenAuthenticationFilter", 1795899541.123),
        ("2026-11-28T20:59:01 no zone means UTC", 1795899541.0),
        ('10.0.0.7 - - [28/Nov/2026:20:59:01 +0000] "GET /orders HTTP/1.1" 401', 1795899541.0),
        ('10.0.0.7 - alice [28/Nov/2026:15:59:01 -0500] "GET / HTTP/1.1" 401', 1795899541.0),
        ("Nov 28 20:59:01 api-7 orders[311]: jwt expired", 1795899541.0),
        ("<34>Nov 28 20:59:01 api-7 sshd: x", 1795899541.0),
    ],
)
def test_formats_engineers_paste(line: str, expected: float) -> None:
    assert line_time(line, REFERENCE) == pytest.approx(expected)


def test_a_december_syslog_line_read_in_january_is_last_year() -> None:
    january = 1799020800.0  # 2027-01-04
    assert line_time("Dec 31 23:00:00 host app: x", january) == pytest.approx(1798758000.0)


@pytest.mark.parametrize("line", ["no time here", "GET /orders 401", "build 2026-13-45T99:99:99Z", "", "Nov 99 99:99"])
def test_lines_without_a_readable_time(line: str) -> None:
    assert line_time(line, REFERENCE) is None


def test_a_date_deep_in_the_message_body_is_not_the_lines_time() -> None:
    assert line_time("user said: " + "x" * 200 + " 2026-11-28T20:59:01Z", REFERENCE) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_no_line_crashes_the_parser(line: str) -> None:
    line_time(line, REFERENCE)
