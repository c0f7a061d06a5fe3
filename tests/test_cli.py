"""The jwtcheck command: inputs, outputs, exit codes, and nothing Slack on its path."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.tokens import AUDIENCE, ISSUER, T, claims, make_token, signature_of

AT = "2026-11-28T21:00:00Z"


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_err = sys.stderr
    sys.stderr = err
    try:
        code = main(argv, stdin=io.StringIO(stdin), stdout=out)
    finally:
        sys.stderr = old_err
    return code, out.getvalue(), err.getvalue()


def test_a_valid_token_exits_zero_and_says_the_signature_was_not_checked() -> None:
    code, out, _ = run([make_token(), "--at", AT])
    assert code == 0
    assert out.startswith("VALID token") and "not checked (no key configured)" in out


def test_a_problem_exits_one_with_causes_fixes_and_dead_ends() -> None:
    code, out, _ = run([make_token(claims(nbf=T + 70)), "--at", AT, "--aud", AUDIENCE])
    assert code == 1
    assert "Clock skew" in out and "What fixes it" in out and "(85% success)" in out and "Don't bother" in out
    assert "Rates: AI-generated estimates from the source card (fix rate 80%)" in out


def test_standard_input_is_read_when_text_is_absent_or_a_dash() -> None:
    token = make_token(claims(exp=T - 7200))
    for argv in (["--at", AT], ["-", "--at", AT]):
        code, out, _ = run(argv, stdin=f"Authorization: Bearer {token}\n")
        assert code == 1 and "expired 2 h ago" in out


def test_nothing_to_diagnose_exits_two_with_one_line() -> None:
    code, out, err = run(["hello world"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("jwtcheck: nothing to diagnose")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["x", "--leeway", "soon"], "'soon' is not a number of seconds"),
        (["x", "--at", "yesterday"], "neither ISO 8601"),
        (["x", "--bogus"], "unrecognized arguments"),
        (["x", "--service", "orders"], "--service needs --config"),
        (["x", "--config", "/nonexistent/services.toml"], "cannot read the config file"),
        (["demo", "--fast"], "demo takes only --json"),
    ],
)
def test_wrong_arguments_exit_two_with_one_line(argv: list[str], words: str) -> None:
    code, _, err = run(argv)
    assert code == 2 and words in err and err.count("\n") == 1


def test_at_replays_an_incident_as_iso_or_unix_seconds() -> None:
    token = make_token(claims(exp=T + 60))
    assert run([token, "--at", AT])[0] == 0
    assert run([token, "--at", str(T + 120)])[0] == 1
    assert run([token, "--at", "2026-11-28T21:02:00"])[0] == 1  # no zone: UTC


def test_config_file_and_service_set_expectations_and_flags_override(tmp_path: Path) -> None:
    config = tmp_path / "services.toml"
    config.write_text('[services.orders]\naudiences = ["orders-api"]\nleeway = 30\n\n'
                      '[services.billing]\naudiences = ["billing-api"]\n', encoding="utf-8")
    token = make_token(claims(exp=T - 20))
    assert run([token, "--at", AT, "--config", str(config), "--service", "orders"])[0] == 0
    assert run([token, "--at", AT, "--config", str(config), "--service", "billing"])[0] == 1
    assert run([token, "--at", AT, "--config", str(config), "--service", "orders", "--leeway", "0"])[0] == 1
    code, _, err = run([token, "--config", str(config)])
    assert code == 2 and "choose one with --service" in err


def test_config_comes_from_the_environment_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "services.toml"
    config.write_text('[services.orders]\naudiences = ["billing-api"]\n', encoding="utf-8")
    monkeypatch.setenv("JWTCHECK_CONFIG", str(config))
    code, out, _ = run([make_token(), "--at", AT])
    assert code == 1 and "Audience" in out


def test_a_broken_config_is_one_line_naming_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "services.toml"
    config.write_text("[services.orders]\nleeway = 'x'\n", encoding="utf-8")
    code, _, err = run(["x", "--config", str(config)])
    assert code == 2 and err == f"jwtcheck: {config}:2: services.orders.leeway must be a number of seconds\n"


def test_json_output_is_one_document_with_the_contract() -> None:
    token = make_token(claims(aud="billing-api"))
    code, out, _ = run([token, "--json", "--at", AT, "--aud", AUDIENCE, "--iss", ISSUER])
    document = json.loads(out)
    assert code == 1 and document["schema"] == "jwtcheck/diagnosis@1"
    [diagnosis] = document["diagnoses"]
    assert diagnosis["causes"][0]["id"] == "audience_mismatch"
    assert diagnosis["workarounds"][0]["success_rate"] == 0.9


def test_summary_counts_causes_across_a_whole_log() -> None:
    lines = [f"GET /orders 401 token={make_token(claims(exp=T - 7200, n=n))}" for n in range(300)]
    lines += [f"GET /orders 200 token={make_token(claims(n=n))}" for n in range(200)]
    code, out, _ = run(["--summary", "--at", AT], stdin="\n".join(lines))
    assert code == 1
    assert out.splitlines()[0] == "500 diagnoses: 200 valid, 300 invalid, 0 malformed, 0 unverifiable"
    assert "expired" in out and "300" in out
    code, out, _ = run(["--summary", "--json", "--at", AT], stdin="\n".join(lines))
    assert json.loads(out)["causes"] == {"expired": 300}


def test_no_signature_in_any_output_mode() -> None:
    token = make_token(claims(exp=T - 7200))
    for extra in ([], ["--json"], ["--summary"]):
        _, out, err = run([f"Bearer {token}", "--at", AT, *extra])
        assert signature_of(token) not in out + err


def test_garbage_and_non_utf8_input_get_a_message_not_a_traceback() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "check"], input=b"\xff\xfe\x00eyJ\x80" * 10_000,
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 2 and b"Traceback" not in result.stderr


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    main([make_token(), "--at", AT], stdin=io.StringIO(), stdout=out)
    assert "\x1b[" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    out = Terminal()
    main([make_token(), "--at", AT], stdin=io.StringIO(), stdout=out)
    assert "\x1b[" not in out.getvalue()


def test_claims_cannot_restyle_the_terminal() -> None:
    _, out, _ = run([make_token(claims(name="\x1b[2J\x1b]0;pwned\x07", role="\u202eadmin")), "--at", AT])
    assert "\x1b" not in out and "\u202e" not in out


def test_demo_shows_every_cause_and_exits_zero() -> None:
    code, out, _ = run(["demo"])
    assert code == 0
    for label in ("Token expired", "Clock skew", "not valid yet", "issued in the future", "milliseconds",
                  "wrong JSON type", "Required claim missing", "Audience", "Issuer", "alg: none",
                  "algorithm not allowed", "Encrypted", "Not a well-formed JWT", "Signature does not verify",
                  "kid"):
        assert label.lower() in out.lower(), label


def test_demo_json_covers_every_cause_id() -> None:
    code, out, _ = run(["demo", "--json"])
    ids = {cause["id"] for d in json.loads(out)["diagnoses"] for cause in d["causes"]}
    from bot.diagnosis.model import CauseId

    assert code == 0 and ids == {cause.value for cause in CauseId}


def test_the_cli_path_imports_nothing_from_slack_or_aiohttp() -> None:
    probe = (
        "import sys, io; from bot.cli import main; "
        f"main([{make_token()!r}], stdin=io.StringIO(), stdout=io.StringIO()); "
        "bad = [m for m in sys.modules if m.split('.')[0] in {'slack_bolt', 'slack_sdk', 'aiohttp', 'redis'}]; "
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert result.stdout.strip() == ""


def test_python_dash_m_bot_check_is_the_same_command() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "check", make_token(), "--json"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and json.loads(result.stdout)["diagnoses"][0]["verdict"] == "valid"
