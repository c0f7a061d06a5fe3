"""Clock estimates in words, for every face: the terminal's "Clocks" lines, the JSON document's
``clocks``, and the 🕒 note of a chat card. The wording of whose clock is off, by how much, what to fix
and which leeway accepts the tokens meanwhile is here, once; the callers compute the numbers
(``bot.diagnosis.clock`` the estimates and the leeway, ``bot.chat.clocks`` which estimate a card shows).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from bot.diagnosis.clock import SIGNIFICANT_SECONDS, THIS_HOST, ClockEstimate
from bot.diagnosis.timefmt import format_duration, format_utc

_EVIDENCE_NOUNS = {
    "token": "token",
    "error_text": "error message",
    "date_header": "Date header",
    "log_line": "log line",
}


def describe_clock(item: ClockEstimate) -> str:
    """``login.acme.test's clock is at least 42 s ahead of Slack's (3 tokens, seen 12:00:05–12:03:10 UTC)``."""
    whose = f"{item.clock}'s clock"
    reference = _reference(item.reference)
    if not item.consistent:
        verdict = "gave contradictory readings (did it jump?)"
    elif math.isfinite(item.lower) and math.isfinite(item.upper) and item.upper - item.lower <= 10:
        middle, spread = (item.lower + item.upper) / 2, (item.upper - item.lower) / 2
        direction = "ahead of" if middle > 0 else "behind"
        verdict = (
            f"is {format_duration(abs(middle))} {direction} {reference} (±{_seconds(spread)})"
            if abs(middle) >= SIGNIFICANT_SECONDS
            else f"agrees with {reference} (within {_seconds(max(abs(item.lower), abs(item.upper)))})"
        )
    elif item.ahead:
        verdict = f"is at least {format_duration(item.lower)} ahead of {reference}"
    elif item.behind:
        verdict = f"is at least {format_duration(-item.upper)} behind {reference}"
    else:
        verdict = f"shows no sign of being off against {reference}"
    return f"{whose} {verdict} ({_evidence(item)})"


def fix_steps(estimates: Iterable[ClockEstimate]) -> list[str]:
    """Which clock to fix first, in words: the one the evidence shows furthest off (estimates come sorted)."""
    return [
        f"{_fix_ntp(item.clock)}: its clock runs {'ahead' if item.ahead else 'behind'}."
        for item in estimates
        if item.off
    ]


# --- the terminal and the JSON document --------------------------------------------------------------


def clock_lines(estimates: Sequence[ClockEstimate], leeway: int | None) -> list[str]:
    if not estimates:
        return []
    lines = ["Clocks"]
    lines.extend(f"  {describe_clock(item)}" for item in estimates)
    steps = fix_steps(estimates)
    if leeway is not None:
        steps.append(f"Until then {_accepts(leeway, 'these')}.")
    if steps:
        lines.append("  → " + " ".join(steps))
    return lines


def clocks_to_dict(estimates: Sequence[ClockEstimate], leeway: int | None) -> dict[str, Any]:
    return {
        "estimates": [
            {
                "clock": item.clock,
                "reference": item.reference,
                "offset_at_least": _finite(item.lower),
                "offset_at_most": _finite(item.upper),
                "observations": item.observations,
                "kinds": list(item.kinds),
                "summary": describe_clock(item),
            }
            for item in estimates
        ],
        "advice": fix_steps(estimates),
        "leeway_to_accept": leeway,
    }


# --- a chat card's note ------------------------------------------------------------------------------


def issuer_note(issuer: ClockEstimate, leeway: int | None) -> str:
    """The token's issuer runs ahead: by how much, and the leeway that accepts its tokens until NTP is fixed."""
    note = describe_clock(issuer) + "."
    if leeway is not None:
        note += f" Fix NTP on the issuer's hosts; until then {_accepts(leeway, 'its')}."
    return note


def validator_note(validator: ClockEstimate) -> str:
    """The validator runs ahead (its error text printed its time): it expires tokens early."""
    return describe_clock(validator) + ". Fix NTP on the validating hosts: their clock expires tokens early."


def service_note(service: ClockEstimate) -> str:
    """A service's clock from its Date header (``probe_url``)."""
    note = describe_clock(service) + "."
    if service.off:
        note += f" {_fix_ntp(service.clock)}."
    return note


def probe_failure_note(service: str, detail: str) -> str:
    return f"The clock probe of {service} failed: {detail}."


# --- pieces ------------------------------------------------------------------------------------------


def _fix_ntp(clock: str) -> str:
    return f"Fix NTP on {clock}'s hosts"


def _accepts(leeway: int, whose: str) -> str:
    return f"a leeway of {leeway} s accepts {whose} tokens"


def _reference(reference: str) -> str:
    """ "Slack's", but "this host" and "the log's timestamps" as they are."""
    plain = reference != THIS_HOST and "'" not in reference
    return f"{reference}'s" if plain else reference


def _evidence(item: ClockEstimate) -> str:
    kinds = [_EVIDENCE_NOUNS.get(kind, kind) for kind in item.kinds]
    what = (
        f"{item.observations} {kinds[0]}{'s' if item.observations != 1 else ''}"
        if len(kinds) == 1
        else f"{item.observations} observations"
    )
    first, last = format_utc(item.first_at), format_utc(item.last_at)
    when = first if first == last else f"{first[:-4]}–{last[11:]}"
    return f"{what}, seen {when}"


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 1 else "1 s"


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None
