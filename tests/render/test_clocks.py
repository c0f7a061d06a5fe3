"""Clock estimates in words: one place words them for the terminal, the JSON document and a card's note."""

from __future__ import annotations

import math
import re

from bot.diagnosis.clock import date_header, estimate, token_in_log, token_seen, validator_time_seen
from bot.diagnosis.leeway import figure
from bot.knowledge import default_knowledge
from bot.render.clocks import (
    clock_lines,
    clocks_to_dict,
    describe_clock,
    fix_steps,
    issuer_note,
    probe_failure_note,
    service_note,
    validator_note,
)

T0 = 1_795_900_000.0
SMALL = default_knowledge().small_leeway
ISSUER_AHEAD = estimate([token_seen("login.acme.test", T0 + 42 + n * 60, T0 + n * 60 + 0.4) for n in range(3)])[0]
SERVICE_BEHIND = estimate([date_header("orders-api", T0 - 38, T0 - 0.2, T0 + 0.1)])[0]


def test_an_estimate_says_whose_clock_by_how_much_against_what_and_from_what() -> None:
    assert describe_clock(ISSUER_AHEAD) == (
        "login.acme.test's clock is at least 41 s ahead of Slack's (3 tokens, seen 2026-11-28 21:06:40–21:08:40 UTC)"
    )
    assert describe_clock(SERVICE_BEHIND).startswith("orders-api's clock is 37 s behind this host (±1 s)")
    [agrees] = estimate([date_header("api", T0, T0 - 0.1, T0 + 0.1)])
    assert "agrees with this host (within 1 s)" in describe_clock(agrees)
    [jumped] = estimate([date_header("api", T0 + 100, T0, T0 + 1), date_header("api", T0 - 100, T0 + 2, T0 + 3)])
    assert "gave contradictory readings (did it jump?)" in describe_clock(jumped)
    [logged] = estimate([token_in_log("idp", T0 + 50, T0, "the log's timestamps")])
    assert "ahead of the log's timestamps (1 log line, seen" in describe_clock(logged)
    [validator] = estimate([validator_time_seen("the validator", T0 + 400, T0)])
    assert "(1 error message, seen" in describe_clock(validator)


def test_the_terminal_and_the_document_say_the_same_steps() -> None:
    lines = clock_lines([ISSUER_AHEAD, SERVICE_BEHIND], 60)
    assert lines[0] == "Clocks" and lines[1] == f"  {describe_clock(ISSUER_AHEAD)}"
    assert lines[-1] == (
        "  → Fix NTP on login.acme.test's hosts: its clock runs ahead. Fix NTP on orders-api's hosts: "
        "its clock runs behind. Until then a leeway of 60 s accepts these tokens."
    )
    document = clocks_to_dict([ISSUER_AHEAD, SERVICE_BEHIND], 60)
    assert document["advice"] == fix_steps([ISSUER_AHEAD, SERVICE_BEHIND])
    assert document["estimates"][0]["summary"] == describe_clock(ISSUER_AHEAD)
    assert document["estimates"][0]["offset_at_most"] is None and math.isinf(ISSUER_AHEAD.upper)
    assert clock_lines([], None) == []


def test_a_cards_note_says_what_to_fix_and_the_leeway_meanwhile() -> None:
    assert issuer_note(ISSUER_AHEAD, figure(42, SMALL, 300)) == (
        f"{describe_clock(ISSUER_AHEAD)}. Fix NTP on the issuer's hosts; "
        "until then a leeway of 50 s accepts its tokens."
    )
    assert issuer_note(ISSUER_AHEAD, None) == f"{describe_clock(ISSUER_AHEAD)}."
    beyond = issuer_note(ISSUER_AHEAD, figure(200, SMALL, 300))
    assert beyond.endswith("(a leeway for its tokens would be beyond any safe leeway: fix the clock).")
    assert not re.search(r"\b200\b", beyond), "a need from clock evidence is no figure to show"
    assert validator_note(ISSUER_AHEAD).endswith(". Fix NTP on the validating hosts: their clock expires tokens early.")
    assert service_note(SERVICE_BEHIND) == f"{describe_clock(SERVICE_BEHIND)}. Fix NTP on orders-api's hosts."
    [agrees] = estimate([date_header("api", T0, T0 - 0.1, T0 + 0.1)])
    assert service_note(agrees) == f"{describe_clock(agrees)}."
    assert probe_failure_note("orders", "timed out") == "The clock probe of orders failed: timed out."
