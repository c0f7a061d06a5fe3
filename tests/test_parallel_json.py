"""A big log judged on several cores prints the very document one process prints."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from bot import parallel_json
from bot.cli import main
from bot.diagnosis import scan
from bot.diagnosis.model import Expectations
from bot.fanout import fork_map
from bot.knowledge import default_catalogue, default_knowledge
from bot.parallel_json import JsonDocument, json_document
from bot.pipeline import diagnose_text
from bot.render.json import dumps, report_to_dict
from tests.support.tokens import AUDIENCE, ISSUER, NOW, T, claims, make_token, raw_token

EXPECTATIONS = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=("HS256",))


def _document(text: str, cores: int) -> JsonDocument:
    found = scan(text, default_catalogue(), at=NOW.timestamp())
    return json_document(found, EXPECTATIONS, NOW, knowledge=default_knowledge(), cores=cores)


KINDS = [
    claims(),
    claims(iat=T - 7200, exp=T - 3600),
    claims(aud="billing-api"),
    claims(iat=T + 70, nbf=T + 70, exp=T + 3670),
    claims(exp=(T + 840) * 1000),
]


def access_log(lines: int, *, kinds: list[dict[str, object]] = KINDS, error_lines: bool = True) -> str:
    rows = []
    for n in range(lines):
        token = make_token({**kinds[n % len(kinds)], "jti": str(n)})
        rows.append(f'10.0.0.{n % 250} "GET /orders/{n}" 401 auth="Bearer {token}"')
        if error_lines and n % 97 == 0:
            rows.append("jsonwebtoken: TokenExpiredError: jwt expired")
    return "\n".join(rows) + "\n"


def one_process(text: str) -> str:
    report = diagnose_text(text, EXPECTATIONS, NOW, knowledge=default_knowledge())
    return dumps(report_to_dict(report, default_knowledge()))


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel_json, "MIN_ITEMS_PER_PART", 40)


@pytest.mark.usefixtures("small_parts")
@pytest.mark.parametrize("cores", [1, 2, 3, 8])
def test_the_document_is_the_same_byte_for_byte_whatever_the_number_of_parts(
    cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts: list[int] = []

    def counted(work: Callable[[int], bytes], count: int) -> list[bytes]:
        parts.append(count)
        return fork_map(work, count)

    monkeypatch.setattr(parallel_json, "fork_map", counted)
    text = access_log(300)
    document = _document(text, cores)
    assert parts == [min(cores, 304 // 40)]
    expected = one_process(text)
    assert document.text == expected
    assert document.diagnoses == len(json.loads(expected)["diagnoses"]) == 304
    assert document.has_problems


@pytest.mark.usefixtures("small_parts")
def test_a_log_of_valid_tokens_has_no_problems_in_any_part() -> None:
    text = access_log(200, kinds=[claims()], error_lines=False)
    document = _document(text, 4)
    assert not document.has_problems and document.diagnoses == 200
    assert document.text == one_process(text)


def test_nothing_found_is_an_empty_document() -> None:
    document = _document("no token here", 4)
    assert document.diagnoses == 0 and not document.has_problems
    assert document.text == one_process("no token here")


@pytest.mark.usefixtures("small_parts")
def test_the_command_line_prints_it_for_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    text = access_log(120)
    out = io.StringIO()
    code = main(
        ["--json", "--aud", AUDIENCE, "--iss", ISSUER, "--alg", "HS256", "--at", NOW.isoformat(), "-"],
        stdin=io.StringIO(text),
        stdout=out,
    )
    assert code == 1
    assert out.getvalue() == one_process(text) + "\n"
    signatures = re.findall(r"Bearer [\w-]+\.[\w-]+\.([\w-]+)", text)
    assert len(signatures) == 120 and not any(signature in out.getvalue() for signature in signatures)


@pytest.mark.parametrize("jobs", ["1", "2", "3"])
def test_the_installed_command_writes_the_same_bytes_with_any_number_of_jobs(jobs: str) -> None:
    text = access_log(1100)  # two parts of the default size
    args = [
        "--json",
        "--aud",
        AUDIENCE,
        "--iss",
        ISSUER,
        "--alg",
        "HS256",
        "--at",
        NOW.isoformat(),
        "--jobs",
        jobs,
        "-",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=text.encode(),
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert result.returncode == 1 and result.stderr == b""
    assert result.stdout == (one_process(text) + "\n").encode()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("payload", "claims_read"),
    [
        ('{"sub":"\\ud800x","exp":1}', {"sub": "\ud800x", "exp": 1}),  # a lone surrogate
        ('{"n":123456789012345678901234567890,"exp":1}', {"n": 123456789012345678901234567890, "exp": 1}),
        ('{"big":1e400,"tiny":1e-400,"exp":1e22}', {"big": "1e400", "tiny": 0.0, "exp": 1e22}),
    ],
)
def test_values_json_libraries_refuse_still_make_valid_json(payload: str, claims_read: dict[str, object]) -> None:
    token = raw_token({"alg": "HS256"}, payload)
    piped = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--json", "-"],
        input=token.encode(),
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert piped.returncode == 1 and piped.stderr == b""
    terminal = Terminal()
    assert main(["--json", token], stdout=terminal) == 1
    for document in (json.loads(piped.stdout), json.loads(terminal.getvalue())):
        assert document["diagnoses"][0]["token"]["claims"] == claims_read
