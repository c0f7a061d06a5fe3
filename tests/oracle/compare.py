"""The comparison both the tests and ``python -m tests.oracle.report`` read: every scenario to the three libraries
and to jwtcheck, every captured error text to jwtcheck."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from tests.oracle.jwtcheck_cli import JwtcheckAnswer, ask_jwtcheck, ask_jwtcheck_text
from tests.oracle.libraries import LIBRARIES, LibraryAnswer, LibraryError, LibraryRun, ask_libraries
from tests.oracle.paths import OraclePaths
from tests.oracle.scenarios import ErrorCase, Scenario, error_cases, generate

NODE_SHAPES = ("one_line", "stack", "console", "json_log")
PYTHON_SHAPES = ("one_line", "traceback", "json_log")


def shapes_for(library: str) -> tuple[str, ...]:
    return PYTHON_SHAPES if library == "pyjwt" else NODE_SHAPES


def error_text(error: LibraryError, shape: str) -> str:
    """The library's error as it reaches an on-call engineer: the exception's one line, the stack trace or
    traceback a crash prints, what Node's console.error(err) prints, or a JSON log line."""
    if shape == "one_line":
        return error.one_line
    if shape in ("stack", "traceback"):
        return error.stack
    if shape == "console":
        assert error.inspect is not None
        return error.inspect
    if shape == "json_log":
        record = {"level": "error", "msg": "JWT verification failed", "err": error.one_line}
        return json.dumps(record, separators=(",", ":"))
    raise ValueError(shape)


@dataclass(frozen=True)
class Row:
    scenario: Scenario
    libraries: dict[str, LibraryAnswer]
    jwtcheck: JwtcheckAnswer

    @property
    def consensus(self) -> bool | None:
        """True (all accept), False (all refuse), None (the libraries split)."""
        verdicts = {answer.accepted for answer in self.libraries.values()}
        return verdicts.pop() if len(verdicts) == 1 else None

    @property
    def jwtcheck_agrees(self) -> bool:
        return self.consensus is not None and self.consensus == self.jwtcheck.accepted

    def names_the_split(self) -> bool:
        """Where the libraries split, jwtcheck's JSON says so (``libraries``), with each of the three on the
        side it took: the on-call engineer learns that their library may answer otherwise."""
        diagnoses = (self.jwtcheck.document or {}).get("diagnoses") or [{}]
        said = diagnoses[0].get("libraries") or {}
        expected = {library: "accepts" if answer.accepted else "refuses" for library, answer in self.libraries.items()}
        return all(said.get(library) == side for library, side in expected.items())

    def explain(self) -> str:
        said = "; ".join(f"{library}: {answer.short()}" for library, answer in self.libraries.items())
        return (
            f"{self.scenario.id} [{self.scenario.description}] ({self.scenario.expectations()})\n"
            f"    libraries: {said}\n"
            f"    jwtcheck: {self.jwtcheck.short()}"
        )


@dataclass(frozen=True)
class TextRow:
    case: ErrorCase
    library: str
    shape: str
    text: str
    answer: LibraryAnswer
    jwtcheck: JwtcheckAnswer | None  # None when the library did not refuse (no error text to feed)

    @property
    def id(self) -> str:
        return f"{self.case.id}-{self.library}-{self.shape}"

    def problems(self) -> list[str]:
        if self.answer.error is None:
            return [f"{self.library} accepted the {self.case.id} token: no error text to feed"]
        assert self.jwtcheck is not None
        found = [
            diagnosis
            for diagnosis in (self.jwtcheck.document or {}).get("diagnoses", ())
            if diagnosis.get("source") == "error_text"
        ]
        if not found:
            return ["not recognised (no error_text diagnosis)"]
        first = found[0]
        causes = [cause["id"] for cause in first.get("causes", ())]
        problems = []
        if first.get("library") != self.library:
            problems.append(f"library {first.get('library')!r}, not {self.library!r}")
        if not causes or causes[0] not in self.case.causes:
            problems.append(f"causes {causes}, expected first one of {sorted(self.case.causes)}")
        return problems

    def explain(self) -> str:
        got = "nothing" if self.jwtcheck is None else self.jwtcheck.short()
        return f"{self.id}: {'; '.join(self.problems())}\n    text: {self.text[:300]!r}\n    jwtcheck: {got}"


@dataclass(frozen=True)
class Comparison:
    rows: list[Row]
    runs: dict[str, LibraryRun]
    cases: list[ErrorCase]

    def agreed(self) -> list[Row]:
        return [row for row in self.rows if row.consensus is not None]

    def disagreements(self) -> list[Row]:
        return [row for row in self.agreed() if not row.jwtcheck_agrees]

    def splits(self) -> list[Row]:
        return [row for row in self.rows if row.consensus is None]

    def text_rows(self) -> Iterator[TextRow]:
        for case in self.cases:
            for library in case.libraries:
                answer = self.runs[library].answers[case.scenario.id]
                for shape in shapes_for(library):
                    if answer.error is None:
                        yield TextRow(case, library, shape, "", answer, None)
                        continue
                    text = error_text(answer.error, shape)
                    yield TextRow(case, library, shape, text, answer, ask_jwtcheck_text(text))


def compare(paths: OraclePaths) -> Comparison:
    scenarios = generate()
    cases = error_cases()
    runs = ask_libraries(scenarios + [case.scenario for case in cases], paths)
    answers = ask_jwtcheck(scenarios)
    rows = [
        Row(scenario, {library: runs[library].answers[scenario.id] for library in LIBRARIES}, answers[scenario.id])
        for scenario in scenarios
    ]
    return Comparison(rows=rows, runs=runs, cases=cases)
