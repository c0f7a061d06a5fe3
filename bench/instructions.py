"""Instructions per token, ours against PyJWT's decode, counted by valgrind's callgrind.

Timings on a shared machine wander by a tenth from run to run; instruction counts do not (the same
binary, inputs and environment give the same count), so a change to the per-token path is measured
here before it is timed. ``python -m bench.instructions`` (needs ``valgrind`` on PATH) runs each side
twice, with no token and over 1,000 tokens twice, and prints the difference per token.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import time

from bench.data import ALGORITHM, AUDIENCE, ISSUER, access_log
from bench.timing import process_env

TOKENS = 1000
ROUNDS = 2


def _work(side: str, rounds: int) -> None:
    """Judge the log's tokens ``rounds`` times (after a warm-up), as ``side`` does."""
    tokens = re.findall(r"eyJ[\w-]*\.[\w-]*\.[\w-]*", access_log(TOKENS))  # minted for this instant
    if side == "ours":
        from bot.diagnosis.engine import diagnose_token
        from bot.diagnosis.model import Expectations
        from bot.knowledge import default_knowledge

        expectations = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=(ALGORITHM,))
        knowledge = default_knowledge()

        def judge(token: str) -> None:
            diagnose_token(token, expectations, time.time(), knowledge=knowledge)
    else:
        import jwt

        from bench.baseline_pyjwt import OPTIONS

        def judge(token: str) -> None:
            with contextlib.suppress(jwt.PyJWTError):
                jwt.decode(token, options=OPTIONS, audience=AUDIENCE, issuer=ISSUER, algorithms=[ALGORITHM])

    for token in tokens[:50]:
        judge(token)
    for _ in range(rounds):
        for token in tokens:
            judge(token)


def _count(side: str, rounds: int) -> int:
    run = [sys.executable, "-m", "bench.instructions", "--run", side]
    subprocess.run([*run, "0"], check=True, env=process_env())  # bytecode cached first: compiling is not counted
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *run, str(rounds)],
        capture_output=True, text=True, check=True, env=process_env())
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count: {result.stderr[-500:]}")
    return int(found.group(1))


def main() -> int:
    if sys.argv[1:2] == ["--run"]:
        _work(sys.argv[2], int(sys.argv[3]))
        return 0
    if shutil.which("valgrind") is None:
        sys.stderr.write("bench.instructions needs valgrind (apt-get install valgrind)\n")
        return 2
    started = time.monotonic()
    per_token = {side: (_count(side, ROUNDS) - _count(side, 0)) / (ROUNDS * TOKENS) for side in ("ours", "pyjwt")}
    print(f"instructions per token: ours {per_token['ours']:,.0f}, PyJWT's decode {per_token['pyjwt']:,.0f}, "
          f"ratio {per_token['ours'] / per_token['pyjwt']:.2f}x ({time.monotonic() - started:.0f} s under callgrind)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
