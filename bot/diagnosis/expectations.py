"""The one merge of what the API expects: a service's expectations, then what a person said for one
diagnosis (command-line flags, ``aud=…`` options in chat, the private modal's fields). One set of limits.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from bot.diagnosis.error_texts import ErrorTextMatch
from bot.diagnosis.model import Expectations
from bot.diagnosis.scan import Found

MAX_SECONDS = 86400.0 * 366
"""The largest leeway or skew window anyone may set, in any front door or config file."""


class Overrides(NamedTuple):
    """What a person said for one diagnosis; empty or None: keep the service's value."""

    audiences: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ()
    required_claims: tuple[str, ...] = ()
    leeway: float | None = None
    skew_window: float | None = None


def merge(base: Expectations, overrides: Overrides) -> Expectations:
    """``base`` with every value that ``overrides`` gives in its place (lists are replaced, not joined)."""
    return Expectations(
        audiences=overrides.audiences or base.audiences,
        issuers=overrides.issuers or base.issuers,
        algorithms=overrides.algorithms or base.algorithms,
        required_claims=overrides.required_claims or base.required_claims,
        leeway=base.leeway if overrides.leeway is None else overrides.leeway,
        skew_window=base.skew_window if overrides.skew_window is None else overrides.skew_window,
    )


def seconds_problem(value: float) -> str | None:
    """Why ``value`` cannot be a leeway or a skew window, or None when it can."""
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        return f"must be between 0 and {MAX_SECONDS:.0f} seconds"
    return None


LEARNED_CLAIMS = {"aud": "audience", "iss": "issuer"}


class Learned(NamedTuple):
    """Expectations with what an error text said the validator expected filled in, and where from."""

    expectations: Expectations
    notes: tuple[str, ...] = ()  # "audience 'orders-api' from the jsonwebtoken error text beside the token"


def learn(found: Found, expectations: Expectations) -> Learned:
    """An error text pasted with one token is the same incident: what it says the validator expected
    (``jwt audience invalid. expected: orders-api``) applies to that token, where nobody said otherwise.

    Only with exactly one token: in a log of many tokens and many error lines, which line belongs to
    which token is unknown. Run before the token's facts are fetched, so that they are judged alike.
    """
    if len(found.tokens) != 1:
        return Learned(expectations)
    audiences, issuers = list(expectations.audiences), list(expectations.issuers)
    notes: list[str] = []
    for item in found.items:
        if not isinstance(item, ErrorTextMatch) or not item.expected:
            continue
        where = f"from the {item.library.value} error text" if item.library else "from the error text"
        for claim, values in item.expected:
            target = audiences if claim == "aud" else issuers if claim == "iss" else None
            if target is None or target or not values:
                continue  # a claim we don't judge, or one the user (or the service) already set
            target.extend(values)
            shown = ", ".join(repr(value) for value in values)
            notes.append(f"{LEARNED_CLAIMS[claim]} {shown} {where} beside the token")
    if not notes:
        return Learned(expectations)
    return Learned(merge(expectations, Overrides(audiences=tuple(audiences), issuers=tuple(issuers))), tuple(notes))
