"""Session fixtures of the oracle suite: the installed libraries (installed here when missing) and the comparison.

Locally, when the libraries cannot be installed (no Node, no registry), the oracle tests are skipped with the
reason; under CI (env ``CI``) they fail instead.
"""

from __future__ import annotations

import pytest

from tests.oracle.compare import Comparison, TextRow, compare
from tests.oracle.paths import OraclePaths


@pytest.fixture(scope="session")
def comparison(oracle_paths: OraclePaths) -> Comparison:
    return compare(oracle_paths)


@pytest.fixture(scope="session")
def text_rows(comparison: Comparison) -> dict[str, TextRow]:
    return {row.id: row for row in comparison.text_rows()}
