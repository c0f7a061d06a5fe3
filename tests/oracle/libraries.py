"""Asking the real libraries: one batch process per library, all three at once.

Each runner reads every case as one JSON document on stdin and writes one JSON document of results:
``{"library", "version", "results": {id: {"accepted": bool, "error": {...} | null}}}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.oracle.paths import HERE, OraclePaths
from tests.oracle.scenarios import Scenario
from tests.oracle.tokens import HS_SECRET, public_pem

LIBRARIES = ("jsonwebtoken", "jose", "pyjwt")
# The pins: the JS ones as js/package.json has them (npm ci installs exactly the lockfile), PyJWT as install.sh.
EXPECTED_VERSIONS = {
    **json.loads((HERE / "js" / "package.json").read_text())["dependencies"],
    "pyjwt": "2.8.0",
}


@dataclass(frozen=True)
class LibraryError:
    name: str
    message: str
    stack: str  # a Node stack (err.stack) or a Python traceback (traceback.format_exc())
    inspect: str | None  # Node only: what console.error(err) prints
    qualified_name: str | None  # Python only: the class with its module, as a traceback names it
    code: str | None

    @property
    def one_line(self) -> str:
        return f"{self.name}: {self.message}"


@dataclass(frozen=True)
class LibraryAnswer:
    accepted: bool
    error: LibraryError | None

    def short(self) -> str:
        if self.accepted:
            return "accept"
        assert self.error is not None
        return f"refuse ({self.error.one_line})"


@dataclass(frozen=True)
class LibraryRun:
    library: str
    version: str
    answers: dict[str, LibraryAnswer]


def _command(library: str, paths: OraclePaths) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "ORACLE_NODE_MODULES": str(paths.node_modules)}
    if library == "pyjwt":
        return [sys.executable, "-I", str(HERE / "pyjwt_runner.py"), str(paths.pyjwt)], env
    return [paths.node, str(HERE / "js" / f"{library}.mjs")], env


def _parse(library: str, raw: dict[str, Any]) -> LibraryRun:
    answers = {}
    for case_id, result in raw["results"].items():
        error = result["error"]
        answers[case_id] = LibraryAnswer(
            accepted=bool(result["accepted"]),
            error=None
            if error is None
            else LibraryError(
                name=str(error.get("name")),
                message=str(error.get("message")),
                stack=str(error.get("stack")),
                inspect=error.get("inspect"),
                qualified_name=error.get("qualified_name"),
                code=error.get("code"),
            ),
        )
    return LibraryRun(library=raw["library"], version=raw["version"], answers=answers)


def _ask_one(library: str, paths: OraclePaths, document: str) -> LibraryRun:
    command, env = _command(library, paths)
    done = subprocess.run(command, input=document, capture_output=True, text=True, env=env, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {library} runner failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return _parse(library, json.loads(done.stdout))


def ask_libraries(cases: Sequence[Scenario], paths: OraclePaths) -> dict[str, LibraryRun]:
    """Every case to every library, the three processes side by side."""
    document = json.dumps(
        {"secret": HS_SECRET, "public_pem": public_pem(), "cases": [case.for_runner() for case in cases]}
    )
    with ThreadPoolExecutor(max_workers=len(LIBRARIES)) as pool:
        futures = {library: pool.submit(_ask_one, library, paths, document) for library in LIBRARIES}
        runs = {library: future.result() for library, future in futures.items()}
    for library, run in runs.items():
        missing = {case.id for case in cases} - set(run.answers)
        if missing:
            raise RuntimeError(f"the {library} runner gave no answer for {sorted(missing)[:5]}")
    return runs


def runner_path(library: str) -> Path:
    return HERE / "pyjwt_runner.py" if library == "pyjwt" else HERE / "js" / f"{library}.mjs"
