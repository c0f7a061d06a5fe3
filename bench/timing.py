"""Side-by-side timing: candidate and baseline interleaved in the same run, paired runs compared."""

from __future__ import annotations

import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    target: float | None  # None: reported, no target
    unit: str = "x"
    lower_is_better: bool = True
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.lower_is_better else self.value >= self.target

    def line(self) -> str:
        value = f"{self.value:.2f}{self.unit}" if self.unit == "x" else f"{self.value:,.1f} {self.unit}"
        if self.target is None:
            target, verdict = "(reported)", ""
        else:
            sign = "<=" if self.lower_is_better else ">="
            target_text = f"{self.target:g}{self.unit}" if self.unit == "x" else f"{self.target:g} {self.unit}"
            target, verdict = f"target {sign} {target_text}", "ok" if self.met else "MISSED"
        return f"{self.name:<58} {value:>12}  {target:<22} {verdict}  {self.note}".rstrip()


@dataclass(frozen=True)
class Timing:
    ours: float  # median seconds
    theirs: float
    ratio: float  # the median of the ratios of adjacent runs: a burst of load on this shared machine
    # (another tenant, a CPU steal) slows one pair, not the figure


def interleaved(
    candidate: Callable[[], object], baseline: Callable[[], object], rounds: int = 7, warmup: int = 1
) -> Timing:
    """Each measured ``rounds`` times, in alternation so that machine noise hits both alike."""
    for _ in range(warmup):
        candidate()
        baseline()
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(_timed(candidate))
        theirs.append(_timed(baseline))
    ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    return Timing(statistics.median(ours), statistics.median(theirs), ratio)


_PYCACHE = tempfile.mkdtemp(prefix="jwtcheck-bench-pycache-")
atexit.register(shutil.rmtree, _PYCACHE, ignore_errors=True)


def process_env(**extra: str) -> dict[str, str]:
    """The environment of every measured process, ours and the baselines alike.

    Bytecode is cached as for an installed program (``PYTHONDONTWRITEBYTECODE``, which a development
    shell may set, would make every start of ours recompile the package from source while PyJWT's
    installed modules load from their caches), in a temporary folder so that the checkout stays clean.
    The warm-up round of :func:`interleaved` fills the cache for both sides.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE
    env.update(extra)
    return env


def run_process(args: list[str], stdin: bytes | None = None) -> Callable[[], object]:
    env = process_env()

    def run() -> object:
        result = subprocess.run(args, input=stdin, capture_output=True, check=False, env=env)
        if result.returncode not in (0, 1):
            sys.stderr.write(result.stderr.decode(errors="replace")[-2000:])
            raise RuntimeError(f"{args[:3]} exited {result.returncode}")
        return result

    return run


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started
