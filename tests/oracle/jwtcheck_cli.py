"""Asking jwtcheck, in process, through its public command line and JSON contract (``jwtcheck/diagnosis@1``) only.

Nothing of ``bot.diagnosis`` is imported: the engine's internals change while this suite holds still.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.cli import main
from tests.oracle.scenarios import Scenario
from tests.oracle.tokens import HS_SECRET, SECRET_ENV, public_pem


@dataclass(frozen=True)
class JwtcheckAnswer:
    exit_code: int
    verdict: str | None  # diagnoses[0].verdict; None when jwtcheck printed no diagnosis
    causes: tuple[str, ...]  # diagnoses[0].causes[].id
    library: str | None  # diagnoses[0].library
    document: dict[str, Any] | None
    stderr: str

    @property
    def accepted(self) -> bool:
        return self.verdict == "valid"

    def short(self) -> str:
        if self.verdict is None:
            return f"no diagnosis (exit {self.exit_code}: {self.stderr.strip()[:120]})"
        causes = ", ".join(self.causes) or "no cause"
        library = f", library {self.library}" if self.library else ""
        return f"{self.verdict} ({causes}{library})"


def run_cli(argv: list[str]) -> JwtcheckAnswer:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv, stdout=out)
    text = out.getvalue().strip()
    document = json.loads(text) if text else None
    first = (document or {}).get("diagnoses") or [None]
    diagnosis = first[0] or {}
    return JwtcheckAnswer(
        exit_code=code,
        verdict=diagnosis.get("verdict"),
        causes=tuple(cause["id"] for cause in diagnosis.get("causes", ())),
        library=diagnosis.get("library"),
        document=document,
        stderr=err.getvalue(),
    )


@contextlib.contextmanager
def keys_for_jwtcheck() -> Iterator[Path]:
    """The HS secret in the environment variable jwtcheck is told to read, the RSA public key in a temp file."""
    previous = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = HS_SECRET
    try:
        with tempfile.TemporaryDirectory(prefix="jwtcheck-oracle-") as folder:
            pem = Path(folder) / "rs256-public.pem"
            pem.write_text(public_pem())
            yield pem
    finally:
        if previous is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = previous


def scenario_argv(scenario: Scenario, pem: Path) -> list[str]:
    argv = [scenario.token, "--json", "--at", scenario.at_iso, "--leeway", f"{scenario.leeway:g}", "--jobs", "1"]
    for audience in scenario.audiences or ():
        argv += ["--aud", audience]
    if scenario.issuer is not None:
        argv += ["--iss", scenario.issuer]
    for algorithm in scenario.algorithms:
        argv += ["--alg", algorithm]
    argv += ["--secret-env", SECRET_ENV] if scenario.key == "hs" else ["--key", str(pem)]
    return argv


def ask_jwtcheck(scenarios: list[Scenario]) -> dict[str, JwtcheckAnswer]:
    with keys_for_jwtcheck() as pem:
        return {scenario.id: run_cli(scenario_argv(scenario, pem)) for scenario in scenarios}


def ask_jwtcheck_text(text: str) -> JwtcheckAnswer:
    """An error text as someone pastes it, with no expectations."""
    return run_cli([text, "--json", "--jobs", "1"])
