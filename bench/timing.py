"""Side-by-side timing: candidate and baseline interleaved in the same run, medians compared."""

from __future__ import annotations

import statistics
import subprocess
import sys
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


def interleaved(candidate: Callable[[], object], baseline: Callable[[], object], rounds: int = 7,
                warmup: int = 1) -> tuple[float, float]:
    """Median seconds of each, measured in alternation so that machine noise hits both alike."""
    for _ in range(warmup):
        candidate()
        baseline()
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(_timed(candidate))
        theirs.append(_timed(baseline))
    return statistics.median(ours), statistics.median(theirs)


def run_process(args: list[str], stdin: bytes | None = None) -> Callable[[], object]:
    def run() -> object:
        result = subprocess.run(args, input=stdin, capture_output=True, check=False)
        if result.returncode not in (0, 1):
            sys.stderr.write(result.stderr.decode(errors="replace")[-2000:])
            raise RuntimeError(f"{args[:3]} exited {result.returncode}")
        return result

    return run


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started
