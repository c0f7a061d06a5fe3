"""Issue 14, the Slack outages: a burst of 429s, a burst of 500/502/503/504, the Web API refusing
connections for 10 s, and the Web API answering in ~11 s.

One replica, one timeline: each phase sends 12 commands and 12 messages (each in a channel of its own)
while its outage is on; then Slack is well again and every acked command must get exactly one summary and
one card, every acked message exactly one card, with no duplicates, and every ack under 3 s. A phase's
answers get 20 s before the next outage begins (so that a retry of one phase does not meet the next
outage), and all of them 60 s more after the last.
The replica has served one command before the first outage (as a replica in service has); a second
replica that has served nothing yet (just deployed) gets 6 commands and 6 messages during the 429 burst.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.drills.harness import Ack, Drill, Figures, Replica, expired_token
from tests.drills.scenario import paced, run

pytestmark = pytest.mark.drills

PER_PHASE = 12  # commands, and as many messages
SEND_OVER = 3.0  # seconds over which a phase's requests are sent
PHASE_SETTLE = 20.0  # before the next outage: how long a phase's answers may take to arrive (then 60 s for all)
PHASES = ("429 burst", "429 burst, cold replica", "5xx burst", "refused 10 s", "slow ~11 s")


async def _send(drill: Drill, phase: int, replica: Replica, count: int = PER_PHASE) -> list[Ack]:
    async def one(index: int) -> Ack:
        n = phase * 1000 + index
        if index % 2 == 0:
            return await drill.command(replica, expired_token(n))
        return await drill.message(replica, f"our API says 401 with this one: {expired_token(n)}")

    return await paced(2 * count, SEND_OVER, one)


async def _scenario(drill: Drill) -> dict[str, Figures]:
    warm = await drill.start_replica()
    cold = await drill.start_replica()
    slack = drill.slack
    warming = [await drill.command(warm, expired_token(1))]
    await drill.settle(warming, deadline=20)
    assert drill.tally("warm-up", warming).clean(), drill.tally("warm-up", warming)
    sent: dict[str, list[Ack]] = {}

    burst = slack.burst((429,), seconds=SEND_OVER + 1, retry_after=1)
    sent[PHASES[0]], sent[PHASES[1]] = await asyncio.gather(_send(drill, 0, warm), _send(drill, 9, cold, 6))
    await asyncio.sleep(1.5)
    slack.end(burst)
    await drill.settle(sent[PHASES[0]] + sent[PHASES[1]], deadline=PHASE_SETTLE)

    burst = slack.burst((500, 502, 503, 504), seconds=SEND_OVER + 1)
    sent[PHASES[2]] = await _send(drill, 1, warm)
    await asyncio.sleep(1.5)
    slack.end(burst)
    await drill.settle(sent[PHASES[2]], deadline=PHASE_SETTLE)

    refusal = slack.refuse_for(10)
    sent[PHASES[3]] = await _send(drill, 2, warm)
    await refusal
    await drill.settle(sent[PHASES[3]], deadline=PHASE_SETTLE)

    slow = slack.slow(11, seconds=SEND_OVER + 1)
    sent[PHASES[4]] = await _send(drill, 3, warm)
    await asyncio.sleep(12)  # the last slow answers
    slack.end(slow)

    everything = [ack for acks in sent.values() for ack in acks]
    await drill.settle(everything)
    figures = {phase: drill.tally(phase, acks) for phase, acks in sent.items()}
    for phase in PHASES:
        print(figures[phase])
    return figures


@pytest.fixture(scope="module")
def figures() -> dict[str, Figures]:
    return run(_scenario)


@pytest.mark.parametrize("phase", PHASES)
def test_every_acked_request_is_answered_once_after_slack_recovers(figures: dict[str, Figures], phase: str) -> None:
    result = figures[phase]
    assert result.acked == result.sent, f"{result}; not acked: {result.not_acked}"
    assert not result.slow_acks, str(result)
    assert result.clean(), str(result)
