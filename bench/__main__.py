"""``python -m bench``: every figure with its target. Exit status 1 when a target is missed."""

from __future__ import annotations

import platform
import sys

from bench.cli_figures import figures as cli_figures


def main() -> int:
    print(
        f"jwtcheck benchmarks on {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}; ratios are ours / baseline in the same run"
    )
    results = []
    for figure in cli_figures():
        print(figure.line(), flush=True)
        results.append(figure)
    from bench.load import figures as load_figures

    for figure in load_figures():
        print(figure.line(), flush=True)
        results.append(figure)
    missed = [figure.name for figure in results if figure.met is False]
    summary = f"{len(results) - len(missed)} of {len(results)} figures on target"
    print(f"\n{summary}" + (f"; missed: {missed}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
