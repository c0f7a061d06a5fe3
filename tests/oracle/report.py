"""``python -m tests.oracle.report``: how often jwtcheck agrees with the real JWT libraries, and where it does not.

Installs the libraries first when they are missing (tests/oracle/install.sh). Prints the figures, then every
disagreement, every scenario on which the libraries split, and every error text jwtcheck does not recognise
as it should. Exit status 0 whatever the figures: this reports, the tests judge.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

from tests.oracle.compare import Comparison, Row, compare
from tests.oracle.libraries import LIBRARIES
from tests.oracle.paths import OracleUnavailable, ensure_installed
from tests.oracle.scenarios import SEED

NAMES = {"jsonwebtoken": "jsonwebtoken", "jose": "jose", "pyjwt": "PyJWT"}


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def _grouped(rows: list[Row]) -> list[str]:
    by_group: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_group[row.scenario.group].append(row)
    lines = []
    for group, members in by_group.items():
        lines.append(f"  -- {group} ({len(members)})")
        lines.extend("  " + row.explain().replace("\n", "\n  ") for row in members)
    return lines


def render(comparison: Comparison, started: float) -> str:
    texts = list(comparison.text_rows())  # jwtcheck reads every captured error text
    seconds = time.perf_counter() - started
    rows = comparison.rows
    agreed = comparison.agreed()
    disagreements = comparison.disagreements()
    splits = comparison.splits()
    versions = ", ".join(f"{NAMES[lib]} {comparison.runs[lib].version}" for lib in LIBRARIES)
    accept = sum(1 for row in agreed if row.consensus)
    same = len(agreed) - len(disagreements)
    lines = [
        f"jwtcheck against the real JWT libraries ({versions}); seed {SEED}; {seconds:.1f} s",
        f"scenarios: {len(rows)}",
        f"all three libraries agree: {len(agreed)} ({accept} accept, {len(agreed) - accept} refuse)",
        f"  jwtcheck agrees: {same} ({_pct(same, len(agreed))})",
        f"  jwtcheck disagrees: {len(disagreements)}",
        f"the libraries split: {len(splits)}",
        f"  jwtcheck's JSON names each library's side: {sum(row.names_the_split() for row in splits)}",
        "per library, jwtcheck's verdict matches the library's decision (valid = accept), over all scenarios:",
    ]
    for library in LIBRARIES:
        same = sum(1 for row in rows if row.libraries[library].accepted == row.jwtcheck.accepted)
        lines.append(f"  {NAMES[library]}: {same}/{len(rows)} ({_pct(same, len(rows))})")
    bad = [row for row in texts if row.problems()]
    lines.append(
        f"error texts captured from the libraries: {len(texts)}; recognised with the right library and a fitting "
        f"cause: {len(texts) - len(bad)} ({_pct(len(texts) - len(bad), len(texts))}); not: {len(bad)}"
    )
    lines.append("")
    lines.append(f"Disagreements where all three libraries agree ({len(disagreements)}):")
    lines.extend(_grouped(disagreements) or ["  none"])
    lines.append("")
    lines.append(f"Scenarios on which the libraries split ({len(splits)}):")
    lines.extend(_grouped(splits) or ["  none"])
    lines.append("")
    lines.append(f"Error texts not recognised as they should be ({len(bad)}):")
    lines.extend(("  " + row.explain().replace("\n", "\n  ")) for row in bad)
    if not bad:
        lines.append("  none")
    return "\n".join(lines) + "\n"


def main() -> int:
    started = time.perf_counter()
    try:
        paths = ensure_installed()
    except OracleUnavailable as problem:
        sys.stderr.write(f"tests.oracle.report: {problem}\n")
        return 2
    comparison = compare(paths)
    sys.stdout.write(render(comparison, started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
