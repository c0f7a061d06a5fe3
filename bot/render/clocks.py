"""Clock estimates in words, for every face: the terminal's "Clocks" lines, the JSON document's
``clocks``, and the 🕒 note of a chat card. The wording of whose clock is off, by how much, what to fix
and which leeway accepts the tokens meanwhile is here, once; the callers compute the numbers
(``bot.diagnosis.clock`` the estimates and the leeway, ``bot.chat.clocks`` which estimate a card shows).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from bot.diagnosis.checks.values import printable
from bot.diagnosis.clock import MILLISECONDS, OUTLIER, SIGNIFICANT_SECONDS, THIS_HOST, ClockEstimate, Observation
from bot.diagnosis.leeway import BEYOND_SAFE, LeewayFigure, figure
from bot.diagnosis.timefmt import format_duration, format_utc

_EVIDENCE_NOUNS = {
    "token": "token",
    "error_text": "error message",
    "date_header": "Date header",
    "log_line": "log line",
}


def describe_clock(item: ClockEstimate) -> str:
    """``login.acme.test's clock is at least 42 s ahead of Slack's (3 tokens, seen 12:00:05–12:03:10 UTC)``."""
    whose = f"{printable(item.clock)}'s clock"  # an issuer's name comes from a token's iss
    reference = _reference(item.reference)
    if not item.observations:
        return f"{whose}: no reading that can be skew ({_kept_out(item)})"
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


def clock_lines(estimates: Sequence[ClockEstimate], leeway: LeewayFigure | int | None) -> list[str]:
    """The terminal's "Clocks" lines. ``leeway``: the figure for the issuers' tokens, or what the evidence
    needs (``leeway_to_accept``), made a figure with the knowledge base's small range and the default
    skew window."""
    if not estimates:
        return []
    lines = ["Clocks"]
    lines.extend(f"  {describe_clock(item)}" for item in estimates)
    steps = fix_steps(estimates)
    found = as_figure(leeway)
    if found is not None and found.recommended is not None:
        steps.append(f"Until then {_accepts(found.recommended, 'these')}.")
    elif found is not None:
        steps.append(f"A leeway for these tokens would be {BEYOND_SAFE}.")
    if steps:
        lines.append("  → " + " ".join(steps))
    return lines


def as_figure(leeway: LeewayFigure | int | None, skew_window: float = 300.0) -> LeewayFigure | None:
    """A need in seconds as the figure to show (the knowledge base's small range, the default window)."""
    if leeway is None or isinstance(leeway, LeewayFigure):
        return leeway
    from bot.knowledge import default_knowledge

    return figure(leeway, default_knowledge().small_leeway, skew_window)


def clocks_to_dict(estimates: Sequence[ClockEstimate], leeway: LeewayFigure | int | None) -> dict[str, Any]:
    found = as_figure(leeway)
    return {
        "estimates": [
            {
                "clock": item.clock,
                "reference": item.reference,
                "offset_at_least": _finite(item.lower),
                "offset_at_most": _finite(item.upper),
                "observations": item.observations,
                "kinds": list(item.kinds),
                "kept_out": [
                    {"kind": o.kind, "reason": o.kept_out, "offset_at_least": _finite(o.lower), "at": o.at}
                    for o in item.kept_out
                ],
                "summary": describe_clock(item),
            }
            for item in estimates
        ],
        "advice": fix_steps(estimates),
        "leeway_to_accept": found.recommended if found is not None else None,  # None too when beyond any safe
        "leeway_needed": found.needed if found is not None else None,
    }


# --- a chat card's note ------------------------------------------------------------------------------


def issuer_note(issuer: ClockEstimate, leeway: LeewayFigure | None) -> str:
    """The token's issuer runs ahead: by how much, and the card's one leeway figure, which accepts its
    tokens until NTP is fixed (or that no safe leeway does)."""
    note = describe_clock(issuer) + "."
    if leeway is not None and leeway.recommended is not None:
        note += f" Fix NTP on the issuer's hosts; until then {_accepts(leeway.recommended, 'its')}."
    elif leeway is not None:
        note += f" Fix NTP on the issuer's hosts (a leeway for its tokens would be {BEYOND_SAFE})."
    return note


def kept_out_note(issuer: str, reason: str, lead: float | None) -> str:
    """This card's token cannot be skew evidence: it is kept out of its issuer's clock estimate (``lead``:
    how far ahead of when it was seen its iat lies, when known)."""
    if reason == MILLISECONDS:
        why = "This token has a time in milliseconds"
    elif lead is None or not math.isfinite(lead):
        why = "This token's times lie too far ahead for clock skew"
    elif reason == OUTLIER:
        why = (
            f"This token's iat is {format_duration(round(lead))} ahead of when it was seen, "
            "far beyond the other readings"
        )
    else:
        why = f"This token's iat is {format_duration(round(lead))} ahead of when it was seen: too far for clock skew"
    return f"{why}, so it is kept out of {printable(issuer)}'s clock estimate."


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
    return f"The clock probe of {printable(service)} failed: {printable(detail)}."


# --- pieces ------------------------------------------------------------------------------------------


def _fix_ntp(clock: str) -> str:
    return f"Fix NTP on {printable(clock)}'s hosts"


def _accepts(leeway: int, whose: str) -> str:
    return f"a leeway of {leeway} s accepts {whose} tokens"


def _reference(reference: str) -> str:
    """ "Slack's", but "this host" and "the log's timestamps" as they are."""
    plain = reference != THIS_HOST and "'" not in reference
    return f"{printable(reference)}'s" if plain else printable(reference)


def _evidence(item: ClockEstimate) -> str:
    kept = f"; {_kept_out(item)}" if item.kept_out else ""
    kinds = [_EVIDENCE_NOUNS.get(kind, kind) for kind in item.kinds]
    what = (
        f"{item.observations} {kinds[0]}{'s' if item.observations != 1 else ''}"
        if len(kinds) == 1
        else f"{item.observations} observations"
    )
    first, last = format_utc(item.first_at), format_utc(item.last_at)
    when = first if first == last else f"{first[:-4]}–{last[11:]}"
    return f"{what}, seen {when}{kept}"


def _kept_out(item: ClockEstimate) -> str:
    """``kept out: 1 token 3 h ahead (too far for clock skew)``: the readings left out, and why."""
    by_reason: dict[str, list[Observation]] = {}
    for observation in item.kept_out:
        by_reason.setdefault(observation.kept_out, []).append(observation)
    parts = []
    for reason, group in by_reason.items():
        noun = _EVIDENCE_NOUNS.get(group[0].kind, group[0].kind)
        count = f"{len(group)} {noun}{'s' if len(group) != 1 else ''}"
        if reason == MILLISECONDS:
            parts.append(f"{count} with a time in milliseconds")
            continue
        lead = max(o.lower for o in group)
        how_far = (
            f" {'up to ' if len(group) > 1 else ''}{format_duration(round(lead))} ahead" if math.isfinite(lead) else ""
        )
        why = "far beyond the other readings" if reason == OUTLIER else "too far for clock skew"
        parts.append(f"{count}{how_far} ({why})")
    return "kept out: " + ", ".join(parts)


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 1 else "1 s"


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None
