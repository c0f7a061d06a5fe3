"""Each library's real error, captured from the library itself, fed to jwtcheck as text: jwtcheck recognises it
(an ``error_text`` diagnosis) with the right ``library`` and a fitting first cause.

Shapes: the exception's one line (``Name: message``); the Node stack (``err.stack``) or the Python traceback;
for Node, what ``console.error(err)`` prints; and a JSON log line ``{"level":"error","msg":…,"err":"Name: message"}``.
"""

from __future__ import annotations

import pytest

from tests.oracle.compare import Comparison, TextRow, shapes_for
from tests.oracle.scenarios import error_cases

pytestmark = pytest.mark.oracle

PARAMS = [
    pytest.param(f"{case.id}-{library}-{shape}", id=f"{case.id}-{library}-{shape}")
    for case in error_cases()
    for library in case.libraries
    for shape in shapes_for(library)
]


@pytest.mark.parametrize("row_id", PARAMS)
def test_jwtcheck_recognises_the_real_error_text(text_rows: dict[str, TextRow], row_id: str) -> None:
    row = text_rows[row_id]
    problems = row.problems()
    assert not problems, row.explain()


def test_the_errors_the_brief_names_are_captured(comparison: Comparison) -> None:
    """PyJWT 2.8.0's InvalidKeyError for an HS256 decode with an RSA public key PEM, and jose's error for an
    RS256 verify given a Uint8Array secret, are among the texts above (this checks the capture, not jwtcheck)."""
    pyjwt = comparison.runs["pyjwt"].answers["error-hs256_with_rsa_public_key"]
    assert pyjwt.error is not None and pyjwt.error.name == "InvalidKeyError", pyjwt.short()
    jose = comparison.runs["jose"].answers["error-rs256_with_secret"]
    assert jose.error is not None, jose.short()
