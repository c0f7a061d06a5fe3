"""The timestamp a log line was written at: ISO 8601 / RFC 3339, common log format, syslog. Pure.

Only the start of a line is searched (where loggers put the time), so a token or a date inside a
message body is never taken for the line's time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

SEARCHED_CHARS = 160
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_ISO = re.compile(
    r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2}|UTC)?(?!\d)"
)
_CLF = re.compile(r"\[(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")
_SYSLOG = re.compile(r"^(?:<\d{1,3}>)?([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?!\d)")


def line_time(line: str, reference: float) -> float | None:
    """Epoch seconds of the line's timestamp, or None when its start holds none.

    A time without a zone is taken as UTC. Syslog stamps carry no year: the year is the one that puts
    the stamp closest before ``reference`` (a log is read after it was written).
    """
    head = line[:SEARCHED_CHARS]
    for parse in (_iso, _clf, _syslog):
        try:
            found = parse(head, reference)
        except (ValueError, OverflowError):
            found = None
        if found is not None:
            return found
    return None


def _iso(head: str, reference: float) -> float | None:
    match = _ISO.search(head)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    stamp = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=_zone(zone))
    return stamp.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


def _clf(head: str, reference: float) -> float | None:
    match = _CLF.search(head)
    if match is None:
        return None
    day, month, year, hour, minute, second, offset = match.groups()
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    stamp = datetime(int(year), number, int(day), int(hour), int(minute), int(second), tzinfo=_zone(offset))
    return stamp.timestamp()


def _syslog(head: str, reference: float) -> float | None:
    match = _SYSLOG.match(head)
    if match is None:
        return None
    month, day, hour, minute, second = match.groups()
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    year = datetime.fromtimestamp(reference, UTC).year
    stamp = datetime(year, number, int(day), int(hour), int(minute), int(second), tzinfo=UTC).timestamp()
    if stamp > reference + 86400:  # December's log read in January
        stamp = datetime(year - 1, number, int(day), int(hour), int(minute), int(second), tzinfo=UTC).timestamp()
    return stamp


def _zone(text: str | None) -> timezone:
    if not text or text in ("Z", "UTC"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))
