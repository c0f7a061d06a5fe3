"""Issue 14: what jwtcheck prints cannot drive or reorder a terminal, and printing never crashes.

Tokens whose claim names and values hold ESC and OSC sequences, C1 controls, DEL, bidi controls and a lone
surrogate go through every output (plain, ``--json``, ``--at-log``, ``--summary``), in process and as a
subprocess whose stdout can only encode ASCII."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import pytest

from bot.cli import main
from bot.cli.output import json_text, terminal_text, unicode_capable, write, write_json_pieces
from tests.support.tokens import T

AT = "2026-11-28T21:00:00Z"
HOSTILE = [
    "\x1b[2J\x1b[31m",  # clear the screen, turn red
    "\x1b]0;owned\x07",  # OSC: set the window title
    "\x1b]8;;https://evil.test/\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31m\x9d0;c1\x9c",  # C1 CSI and OSC
    "del\x7f",
    "\u202eevil\u202c",  # RIGHT-TO-LEFT OVERRIDE, POP DIRECTIONAL FORMATTING
    "\u2066\u2067\u2068\u2069\u200e\u200f\u061c",  # isolates, marks
    "\u2028\u2029\x85",  # line and paragraph separators, NEL
    "\ud800",  # a lone surrogate
]
SGR = re.compile(r"\x1b\[[0-9;]*m")


def hostile_token(*, iss: str = "\ud800https://login.acme.test/\u202e") -> str:
    """A token whose claim names and values hold every character above; PyJWT would not make it."""
    payload: dict[str, Any] = {"iss": iss, "aud": "orders-api", "iat": T - 60, "exp": T + 840}
    for number, text in enumerate(HOSTILE):
        payload[f"n{number}{text}"] = f"v{text}"
    body = json.dumps(payload)  # ASCII, with \\uXXXX escapes: the lone surrogate survives as one
    return f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}))}.{_b64(body)}.c2lnbmF0dXJl"


def _b64(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def log_of(token: str) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T - 30))
    return f"{stamp} WARN rejected {token}\n{stamp} WARN again {token}\n"


def assert_safe(text: str) -> None:
    """Nothing but printable characters, line breaks and tabs."""
    unsafe = sorted({f"U+{ord(char):04X}" for char in text if not (char.isprintable() or char in "\n\t")})
    assert unsafe == [], unsafe


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(argv: list[str], stdin: str = "", out: io.StringIO | None = None) -> tuple[int, str, str]:
    out = out if out is not None else io.StringIO()
    err = io.StringIO()
    old, sys.stderr = sys.stderr, err
    try:
        code = main(argv, stdin=io.StringIO(stdin), stdout=out)
    finally:
        sys.stderr = old
    return code, out.getvalue(), err.getvalue()


MODES = [
    ["--at", AT],
    ["--at", AT, "--json"],
    ["--at", AT, "--summary"],
    ["--at-log", "--at", AT],
    ["--at-log", "--at", AT, "--json"],
]


@pytest.mark.parametrize("mode", MODES)
def test_no_control_or_bidi_character_reaches_the_output(mode: list[str]) -> None:
    code, out, err = run([*mode, "-"], stdin=log_of(hostile_token()))
    assert code in (0, 1) and err == ""
    assert_safe(out)
    assert "n0\\u001b[2J" in out or "--summary" in mode  # the names are there, escaped
    if "--json" in mode:
        document = json.loads(out)
        claims = document["diagnoses"][0]["token"]["claims"]
        assert claims["iss"] == "\ud800https://login.acme.test/\u202e"  # the same values, escaped in the text
        assert claims["n5\u202eevil\u202c"] == "v\u202eevil\u202c"


def test_at_log_clock_lines_name_a_hostile_issuer_safely() -> None:
    code, out, err = run(["--at-log", "--at", AT, "-"], stdin=log_of(hostile_token(iss="\x1b]0;t\x07\u202eidp\ud800")))
    assert code in (0, 1) and err == ""
    clocks = out[out.index("\nClocks\n") :]
    assert "\\u001b]0;t\\u0007\\u202eidp\\ud800's clock" in clocks
    assert_safe(out)


@pytest.mark.parametrize("mode", [["--at", AT], ["--at-log", "--at", AT], ["--at", AT, "--json"]])
def test_on_a_colour_terminal_only_our_own_colour_codes_pass(mode: list[str]) -> None:
    code, out, _ = run([*mode, "-"], stdin=log_of(hostile_token()), out=Terminal())
    assert code in (0, 1)
    if "--json" not in mode:
        assert SGR.search(out)  # coloured
    assert_safe(SGR.sub("", out))
    assert "\x1b]" not in out and "\x1b[2J" not in out


def test_an_argument_echoed_in_an_error_is_escaped() -> None:
    code, out, err = run(["--service", "x\x1b]0;t\x07", "--at", AT, "token"])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert_safe(err)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("mode", [*MODES, ["--at", AT, "--json", "--jobs", "1"]])
def test_a_terminal_that_cannot_encode_it_gets_escapes_not_a_crash(encoding: str, mode: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONIOENCODING": encoding, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", *mode, "-"],
        input=log_of(hostile_token()).encode(),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr and result.stderr == b""
    out = result.stdout.decode("ascii")  # ASCII only, whatever the stream could have encoded
    assert_safe(out)
    if "--json" in mode:
        claims = json.loads(out)["diagnoses"][0]["token"]["claims"]
        assert claims["iss"] == "\ud800https://login.acme.test/\u202e"


def test_the_c_locale_prints_too() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIOENCODING", "PYTHONUTF8"))}
    env.update(PYTHONPATH=os.getcwd(), LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--at-log", "--at", AT, "-"],
        input=log_of(hostile_token()).encode(),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode in (0, 1) and result.stderr == b""
    assert_safe(result.stdout.decode("utf-8"))


# --- the gate itself ------------------------------------------------------------------------------------


def test_terminal_text_escapes_all_but_layout_and_our_colour() -> None:
    text = "a\tb\n\x1b[1mbold\x1b[0m \x1b]0;t\x07 \u202e \ud800 \x7f \x9b"
    plain = terminal_text(text)
    assert_safe(plain)
    assert plain.startswith("a\tb\n\\u001b[1mbold")
    coloured = terminal_text(text, colour=True)
    assert coloured.startswith("a\tb\n\x1b[1mbold\x1b[0m \\u001b]0;t\\u0007 \\u202e \\ud800 \\u007f \\u009b")
    assert terminal_text("plain — text\n") == "plain — text\n"


@pytest.mark.parametrize("ascii_only", [False, True])
def test_json_text_keeps_the_values(ascii_only: bool) -> None:
    value = {"k\u202e": ["\ud800", "\x7f\x9b", "é — 😀", "\u2028"]}
    text = json_text(json.dumps(value, ensure_ascii=False, indent=2), ascii_only=ascii_only)
    assert_safe(text)
    assert not ascii_only or text.isascii()
    assert json.loads(text) == value
    assert ("😀" in text) is not ascii_only and ("\\ud83d\\ude00" in text) is ascii_only


def test_writing_never_fails_for_want_of_an_encoding() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    assert not unicode_capable(stream)
    write(stream, "é — \ud800\n")
    stream.flush()
    assert raw.getvalue() == b"\\xe9 \\u2014 \\ud800\n"
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert unicode_capable(utf8)
    write(utf8, "\ud800")  # a lone surrogate cannot be UTF-8 either
    assert unicode_capable(io.StringIO())


def test_json_pieces_are_written_as_they_are_unless_they_need_an_escape() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8")
    write_json_pieces(stream, [b'{"a":', memoryview(b'"b"}'), b"\n"])
    stream.flush()
    assert raw.getvalue() == b'{"a":"b"}\n'
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8")
    write_json_pieces(stream, [b'{"a":"', "\u202e\x7f é".encode(), b'"}\n'])
    stream.flush()
    assert raw.getvalue() == '{"a":"\\u202e\\u007f é"}\n'.encode()
    assert json.loads(raw.getvalue()) == {"a": "\u202e\x7f é"}


def test_every_view_of_a_buffer_is_judged_by_the_whole_buffer() -> None:
    """Views of one buffer share its verdict (it is judged once): a clean view of a buffer that holds a DEL
    elsewhere still goes through the escaping path."""
    buffer = b'{"a":"b","c":"\x7f"}\n'
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8")
    view = memoryview(buffer)
    write_json_pieces(stream, [view[:9], view[9:]])
    stream.flush()
    assert raw.getvalue() == b'{"a":"b","c":"\\u007f"}\n'


def test_printable_characters_beyond_ascii_go_out_as_they_are_where_the_stream_takes_them() -> None:
    document = '{"iss":"https://idp.exämple.test/","note":"… ≤ 5 s"}\n'.encode()
    utf8 = io.BytesIO()
    stream = io.TextIOWrapper(utf8, encoding="utf-8")
    write_json_pieces(stream, [memoryview(document)[:20], memoryview(document)[20:]])
    stream.flush()
    assert utf8.getvalue() == document
    ascii_only = io.BytesIO()
    stream = io.TextIOWrapper(ascii_only, encoding="ascii")
    write_json_pieces(stream, [document])
    stream.flush()
    assert ascii_only.getvalue().isascii() and json.loads(ascii_only.getvalue()) == json.loads(document)
