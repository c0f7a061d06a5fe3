"""Clock estimates, for the terminal and the JSON document: whose clock is off, and what to do first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bot.diagnosis.clock import ClockEstimate, advice


def clock_lines(estimates: Sequence[ClockEstimate], leeway: int | None) -> list[str]:
    if not estimates:
        return []
    lines = ["Clocks"]
    lines.extend(f"  {item.describe()}" for item in estimates)
    steps = advice(estimates)
    if leeway is not None:
        steps.append(f"Until then a leeway of {leeway} s accepts these tokens.")
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
                "summary": item.describe(),
            }
            for item in estimates
        ],
        "advice": advice(estimates),
        "leeway_to_accept": leeway,
    }


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None
