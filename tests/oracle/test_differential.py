"""jwtcheck against the real libraries: where jsonwebtoken 9.0.0, jose 6 and PyJWT 2.8.0 all accept or all refuse
a token, jwtcheck says ``valid`` exactly when they accept.

The libraries are asked (``libraries``), never paraphrased: a scenario on which they split is left out of
the comparison and counted by ``python -m tests.oracle.report``.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.oracle.compare import Comparison
from tests.oracle.libraries import EXPECTED_VERSIONS, LIBRARIES
from tests.oracle.scenarios import SEED, generate

pytestmark = pytest.mark.oracle


def test_the_scenarios_are_deterministic_and_about_300() -> None:
    first, second = generate(SEED), generate(SEED)
    assert [(s.id, s.token, s.at_ms, s.expectations()) for s in first] == [
        (s.id, s.token, s.at_ms, s.expectations()) for s in second
    ]
    assert 250 <= len(first) <= 350
    assert len({s.id for s in first}) == len(first)
    assert {s.group for s in first} >= {"exp", "nbf", "iat", "fraction", "ms", "types", "missing", "aud", "iss", "alg"}
    assert {s.key for s in first} == {"hs", "rsa"}
    assert [s.token for s in generate(SEED + 1)] != [s.token for s in first]


def test_the_libraries_are_the_pinned_versions(comparison: Comparison) -> None:
    assert {library: run.version for library, run in comparison.runs.items()} == {
        library: EXPECTED_VERSIONS[library] for library in LIBRARIES
    }


def test_the_oracle_is_not_degenerate(comparison: Comparison) -> None:
    """A runner that passed the wrong key or clock would refuse (or accept) everything: then agreement means
    nothing. Every library accepts some tokens of each algorithm and refuses some."""
    for library in LIBRARIES:
        answers = [(row.scenario, row.libraries[library].accepted) for row in comparison.rows]
        for alg in ("HS256", "RS256"):
            assert any(ok for scenario, ok in answers if scenario.header["alg"] == alg), f"{library} accepts no {alg}"
        assert not all(ok for _, ok in answers), f"{library} accepted every scenario"
    consensus = [row.consensus for row in comparison.rows]
    assert consensus.count(True) >= 50 and consensus.count(False) >= 50, "too few scenarios where all three agree"


def test_jwtcheck_agrees_where_the_three_libraries_agree(comparison: Comparison) -> None:
    disagreements = comparison.disagreements()
    if disagreements:
        by_group: dict[str, list[str]] = defaultdict(list)
        for row in disagreements:
            by_group[row.scenario.group].append(row.explain())
        lines = [
            f"jwtcheck disagrees with jsonwebtoken, jose and PyJWT on {len(disagreements)} of "
            f"{len(comparison.agreed())} scenarios where the three agree:"
        ]
        for group, explained in by_group.items():
            lines.append(f"-- {group} ({len(explained)})")
            lines.extend(explained)
        pytest.fail("\n".join(lines), pytrace=False)


def test_where_the_libraries_split_jwtcheck_says_which_accept_and_which_refuse(comparison: Comparison) -> None:
    silent = [row for row in comparison.splits() if not row.names_the_split()]
    if silent:
        lines = [f"jwtcheck does not name each library's side on {len(silent)} of {len(comparison.splits())} splits:"]
        lines.extend(row.explain() for row in silent)
        pytest.fail("\n".join(lines), pytrace=False)
