"""Issue 14, Redis: killed in the middle of a run (and started again, empty, as the deployed Redis has no
persistence), then slow (``DEBUG SLEEP 2``, three times in a row, on a connection of its own).

One replica that has served a command before; the Web API answers in 0.5–1.5 s (as on a busy day), so
answers are under way, not yet delivered, when Redis dies; each phase sends 12 commands and 12 messages.
The acks stay under 3 s, and every acked command gets exactly one summary and one card, every acked message
one card.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.drills.harness import Ack, Drill, Figures, expired_token
from tests.drills.scenario import paced, run

pytestmark = pytest.mark.drills

PER_PHASE = 12
PHASES = ("Redis killed and restarted", "Redis slow (DEBUG SLEEP 2)")


async def _send(drill: Drill, phase: int, seconds: float) -> list[Ack]:
    replica = drill.replicas[0]

    async def one(index: int) -> Ack:
        n = 100_000 + phase * 1000 + index
        if index % 2 == 0:
            return await drill.command(replica, expired_token(n))
        return await drill.message(replica, f"after the deploy every call is a 401: {expired_token(n)}")

    return await paced(2 * PER_PHASE, seconds, one)


async def _scenario(drill: Drill) -> dict[str, Figures]:
    replica = await drill.start_replica()
    warming = [await drill.command(replica, expired_token(2))]
    await drill.settle(warming, deadline=20)
    assert drill.tally("warm-up", warming).clean(), drill.tally("warm-up", warming)
    sent: dict[str, list[Ack]] = {}
    drill.slack.slow(0.5, spread=1.0)

    async def outage() -> None:
        await asyncio.sleep(0.5)
        drill.redis.kill()
        await asyncio.sleep(4)
        await drill.redis.start()

    sent[PHASES[0]], _ = await asyncio.gather(_send(drill, 0, 4.0), outage())
    await asyncio.sleep(2)

    async def slow() -> None:
        await asyncio.sleep(0.3)
        for _ in range(3):
            await drill.redis.debug_sleep(2)

    sent[PHASES[1]], _ = await asyncio.gather(_send(drill, 1, 6.0), slow())

    await drill.settle([ack for acks in sent.values() for ack in acks])
    figures = {phase: drill.tally(phase, acks) for phase, acks in sent.items()}
    status, _ = await drill.get(replica, "/healthz")
    for phase in PHASES:
        figures[phase].label += f" (healthz afterwards: {status})"
        print(figures[phase])
    return figures


@pytest.fixture(scope="module")
def figures() -> dict[str, Figures]:
    return run(_scenario)


@pytest.mark.parametrize("phase", PHASES)
def test_acks_stay_fast_and_every_answer_is_delivered_once(figures: dict[str, Figures], phase: str) -> None:
    result = figures[phase]
    assert result.acked == result.sent, f"{result}; not acked: {result.not_acked}"
    assert not result.slow_acks, str(result)
    assert result.clean(), str(result)
