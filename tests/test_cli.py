"""The jwtcheck command: inputs, outputs, exit codes, and nothing Slack on its path."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import __version__
from bot.cli import main
from tests.keys.server import server_in_thread
from tests.keys.support import jwk_of, jwks, pem_of, rsa_key, sign
from tests.support.tokens import AUDIENCE, ISSUER, SECRET, T, claims, make_token, signature_of

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


def test_a_token_with_nothing_wrong_is_not_called_valid_until_audience_issuer_and_signature_are_checked() -> None:
    code, out, _ = run([make_token(claims(aud="some-other-api")), "--at", AT])
    assert code == 0
    assert out.startswith("NO PROBLEM FOUND in this token: checked format, times; not checked: ")
    assert "audience, issuer, signature" in out.splitlines()[0] and "VALID" not in out
    assert "not checked (no key configured)" in out
    assert "--aud AUD, --iss ISS" in out


def test_a_token_is_valid_once_audience_issuer_and_signature_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET_FOR_TEST", SECRET)
    code, out, _ = run(
        [make_token(), "--at", AT, "--aud", AUDIENCE, "--iss", ISSUER, "--secret-env", "JWT_SECRET_FOR_TEST"]
    )
    assert code == 0
    assert out.startswith("VALID token")


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
    config.write_text(
        '[services.orders]\naudiences = ["orders-api"]\nleeway = 30\n\n'
        '[services.billing]\naudiences = ["billing-api"]\n',
        encoding="utf-8",
    )
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
    assert code == 2 and err == f"jwtcheck: {config}:2: services.orders.leeway: must be a number of seconds\n"


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
    assert out.splitlines()[0] == (
        "500 diagnoses: 0 valid, 300 invalid, 0 malformed, 0 unverifiable, "
        "200 with no problem found but audience, issuer or signature not checked"
    )
    assert "expired" in out and "300" in out
    code, out, _ = run(["--summary", "--json", "--at", AT], stdin="\n".join(lines))
    assert json.loads(out)["causes"] == {"expired": 300}


def test_no_signature_in_any_output_mode() -> None:
    token = make_token(claims(exp=T - 7200))
    for extra in ([], ["--json"], ["--summary"]):
        _, out, err = run([f"Bearer {token}", "--at", AT, *extra])
        assert signature_of(token) not in out + err


@pytest.mark.parametrize("option", ["--service", "--aud", "--iss", "--alg", "--require"])
def test_a_token_given_as_an_option_is_refused_without_being_echoed(option: str, tmp_path: Path) -> None:
    token = make_token(claims(exp=T - 7200))
    config = tmp_path / "services.toml"
    config.write_text('[services.orders]\naudiences = ["orders-api"]\n', encoding="utf-8")
    code, out, err = run(["jwt expired", "--config", str(config), option, token])
    assert code == 2 and err.count("\n") == 1 and "looks like a token" in err
    assert signature_of(token)[:12] not in out + err and token.split(".")[1][:12] not in out + err


def test_garbage_and_non_utf8_input_get_a_message_not_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        input=b"\xff\xfe\x00eyJ\x80" * 10_000,
        capture_output=True,
        timeout=60,
        check=False,
    )
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
    for label in (
        "Token expired",
        "Clock skew",
        "not valid yet",
        "issued in the future",
        "milliseconds",
        "wrong JSON type",
        "Required claim missing",
        "Audience",
        "Issuer",
        "alg: none",
        "algorithm not allowed",
        "Encrypted",
        "Not a well-formed JWT",
        "Signature does not verify",
        "kid",
    ):
        assert label.lower() in out.lower(), label


def test_snippets_reach_the_terminal_and_json_filled_in() -> None:
    text = f"{make_token(claims(nbf=T + 70))}\nUnauthorizedError: jwt not active"
    for extra in ([], ["--json"]):
        _, out, _ = run([text, "--at", AT, *extra])
        assert "{{" not in out and "clockTolerance: 70" in out  # nbf 70 s ahead: the card's one figure


def test_demo_json_covers_every_cause_id() -> None:
    code, out, _ = run(["demo", "--json"])
    ids = {cause["id"] for d in json.loads(out)["diagnoses"] for cause in [*d["causes"], *d["warnings"]]}
    from bot.diagnosis.model import CauseId

    assert code == 0 and ids == {cause.value for cause in CauseId}


def test_the_cli_path_imports_nothing_from_slack_or_aiohttp() -> None:
    probe = (
        "import sys, io; from bot.cli import main; "
        f"main([{make_token()!r}], stdin=io.StringIO(), stdout=io.StringIO()); "
        "bad = [m for m in sys.modules if m.split('.')[0] in {'slack_bolt', 'slack_sdk', 'aiohttp', 'redis'}]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert result.stdout.strip() == ""


def test_version_loads_neither_the_engine_nor_the_config() -> None:
    probe = (
        "import sys, contextlib; from bot.cli import main\n"
        "with contextlib.suppress(SystemExit): main(['--version'])\n"
        "print(','.join(m for m in sys.modules if m.startswith('bot.') and m != 'bot.cli'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert result.stdout.splitlines() == [f"jwtcheck {__version__}", ""]


def test_python_dash_m_bot_check_is_the_same_command() -> None:
    now = int(time.time())  # no --at here: the token must be valid on the real clock
    token = make_token(claims(iat=now - 60, exp=now + 3600))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", token, "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and json.loads(result.stdout)["diagnoses"][0]["verdict"] == "valid"


# --- signature verification ----------------------------------------------------------------------------


def write_pem(tmp_path: Path, name: str = "orders.pem", key: object = None) -> Path:
    path = tmp_path / name
    path.write_bytes(pem_of(key or rsa_key()))  # type: ignore[arg-type]
    return path


def test_key_verifies_with_a_pem_file_and_says_so(tmp_path: Path) -> None:
    pem = write_pem(tmp_path)
    token = sign(rsa_key(), "RS256", kid="k-2026")
    code, out, _ = run([token, "--at", AT, "--key", str(pem)])
    assert code == 0 and out.startswith("NO PROBLEM FOUND in this token: checked format, times, signature;")
    assert f"signature    verified with the key in {pem}" in out


def test_key_with_the_wrong_key_is_signature_invalid_in_json(tmp_path: Path) -> None:
    pem = write_pem(tmp_path, key=rsa_key("other"))
    code, out, _ = run([sign(rsa_key(), "RS256"), "--at", AT, "--key", str(pem), "--json"])
    [diagnosis] = json.loads(out)["diagnoses"]
    assert code == 1 and diagnosis["signature"] == "invalid" and diagnosis["verdict"] == "invalid"
    assert diagnosis["causes"][0]["id"] == "signature_invalid"
    assert "signature (no key configured)" not in diagnosis["skipped_checks"]


def test_secret_env_names_the_variable_and_never_shows_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_JWT_SECRET", SECRET)
    token = make_token()
    code, out, err = run([token, "--at", AT, "--secret-env", "ORDERS_JWT_SECRET"])
    assert code == 0 and "signature    verified with the HMAC secret in $ORDERS_JWT_SECRET" in out
    assert SECRET not in out + err and signature_of(token) not in out + err
    monkeypatch.delenv("ORDERS_JWT_SECRET")
    code, out, _ = run([token, "--at", AT, "--secret-env", "ORDERS_JWT_SECRET", "--json"])
    [diagnosis] = json.loads(out)["diagnoses"]
    assert code == 1 and diagnosis["signature"] == "key_source_failed" and diagnosis["verdict"] == "unverifiable"
    assert "ORDERS_JWT_SECRET, which should hold the HMAC secret, is not set" in diagnosis["signature_detail"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--secret-env", "hunter2 with spaces"], "--secret-env takes the NAME of an environment variable"),
        (["--jwks", "http://127.0.0.1:9/jwks"], "only https is fetched"),
        (["--jwks", "https://user:pw@login.acme.test/jwks"], "must not carry a user name or password"),
        (["--jwks", "https://0x7f000001/jwks"], "host 0x7f000001 is 127.0.0.1, a loopback address"),
        (["--jwks", "https://metadata.google.internal/jwks"], "internal addresses are never fetched"),
        (["--key", "/nonexistent/key.pem"], "--key /nonexistent/key.pem: cannot read the key file"),
    ],
)
def test_bad_key_options_exit_two_with_one_line(argv: list[str], words: str) -> None:
    code, _, err = run(["x", *argv])
    assert code == 2 and words in err and err.count("\n") == 1 and "hunter2" not in err


def test_a_service_with_a_local_jwks_verifies_and_its_flags_override(tmp_path: Path) -> None:
    with server_in_thread() as issuer:
        url = issuer.json("/jwks", jwks(jwk_of(rsa_key(), "k-2026")))
        config = tmp_path / "services.toml"
        config.write_text(f'[services.local]\njwks_uri = "{url}"\nallow_http = true\n', encoding="utf-8")
        token = sign(rsa_key(), "RS256", kid="k-2026")
        code, out, _ = run([token, "--at", AT, "--config", str(config), "--json"])
        [diagnosis] = json.loads(out)["diagnoses"]
        assert code == 0 and diagnosis["signature"] == "verified"
        assert diagnosis["signature_detail"] == f"verified with key k-2026 from 127.0.0.1:{issuer.port}"
        rotated = issuer.json("/rotated", jwks(jwk_of(rsa_key("b"), "k-2027")))
        code, out, _ = run([token, "--at", AT, "--config", str(config), "--jwks", rotated])
        assert code == 1 and "[unknown_kid]" in out
        assert issuer.count("/jwks") == 1 and issuer.count("/rotated") == 1


def test_an_unreachable_jwks_is_a_key_source_failure_with_the_claims_still_judged(tmp_path: Path) -> None:
    with server_in_thread() as closed:
        url = closed.url("/jwks")
    config = tmp_path / "services.toml"
    config.write_text(f'[services.local]\njwks_uri = "{url}"\nallow_http = true\n', encoding="utf-8")
    token = sign(rsa_key(), "RS256", kid="k-2026", payload=claims(exp=T - 7200))
    code, out, err = run([token, "--at", AT, "--config", str(config)])
    assert code == 1 and "signature    key source failed (the JWKS at 127.0.0.1" in out and "[expired]" in out
    assert err == ""


@pytest.mark.parametrize("key", ["jwks_uri", "discovery"])
def test_a_key_source_that_hides_an_internal_address_is_one_clear_line(tmp_path: Path, key: str) -> None:
    """Issue 14: allow_http does not turn the internal-address check off; the refusal is the key source's
    one-line reason in the output, never a traceback, and nothing is fetched."""
    with server_in_thread() as issuer:
        issuer.json("/jwks", jwks(jwk_of(rsa_key(), "k-2026")))
        config = tmp_path / "services.toml"
        url = f"http://0x7f000001:{issuer.port}/jwks"
        issuers = f'issuers = ["{ISSUER}"]\n' if key == "discovery" else ""
        config.write_text(f'[services.local]\n{issuers}{key} = "{url}"\nallow_http = true\n', encoding="utf-8")
        token = sign(rsa_key(), "RS256", kid="k-2026")
        code, out, err = run([token, "--at", AT, "--config", str(config)])
        assert code == 1 and err == "" and issuer.requests == []
        [line] = [line for line in out.splitlines() if line.startswith("  signature")]
        assert "key source failed" in line and "host 0x7f000001 is 127.0.0.1, a loopback address" in line
        code, out, _ = run([token, "--at", AT, "--config", str(config), "--json"])
        [diagnosis] = json.loads(out)["diagnoses"]
        assert (
            diagnosis["verdict"] == "unverifiable"
            and "internal addresses are never fetched" in (diagnosis["signature_detail"])
        )


def test_key_files_and_secrets_need_no_aiohttp_but_a_jwks_does(tmp_path: Path) -> None:
    pem = write_pem(tmp_path)
    probe = (
        "import sys, io; from bot.cli import main; "
        "main(sys.argv[1:], stdin=io.StringIO(), stdout=io.StringIO()); "
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'slack_bolt', 'slack_sdk', 'aiohttp', 'redis'})))"
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "ORDERS_JWT_SECRET": SECRET}

    def loaded(*argv: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=60, check=True, env=env
        )
        return result.stdout.strip()

    assert loaded(sign(rsa_key(), "RS256"), "--key", str(pem)) == ""
    assert loaded(make_token(), "--secret-env", "ORDERS_JWT_SECRET") == ""
    # a name, not 127.0.0.1, which is refused before any fetch (an internal address); .test never resolves
    assert loaded(make_token(), "--jwks", "https://login.acme.test:9/jwks") == "aiohttp"


def test_time_claims_beyond_any_float_are_shown_not_crashed() -> None:
    from tests.support.tokens import raw_token

    for claim in ("exp", "nbf", "iat"):
        token = raw_token({"alg": "HS256"}, '{"iss": "x", "%s": 1%s}' % (claim, "0" * 400))  # noqa: UP031
        for extra in ([], ["--json"]):
            code, out, err = run([token, "--at", AT, *extra])
            assert code == 1 and "Traceback" not in err
            assert "wrong JSON type" in out or "invalid_claim_type" in out


def test_a_reader_that_goes_away_ends_the_output_quietly() -> None:
    process = subprocess.Popen([sys.executable, "-m", "bot", "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(64)
    process.stdout.close()  # like `jwtcheck demo | head -1`
    stderr = process.stderr.read()
    assert process.wait(timeout=60) in (0, 141) and b"Traceback" not in stderr


# --- a refusal that names no claim, and an opaque token ----------------------------------------------

OPAQUE = "2YotnFZFEjr1zCsicMWpAA"  # RFC 6749's example access token


@pytest.mark.parametrize(
    "text",
    [
        "401 Unauthorized: JWT claims validation failed",
        "invalid_token",
        'WWW-Authenticate: Bearer error="invalid_token"',
    ],
)
def test_the_seed_headline_gets_a_triage_answer_not_nothing_to_diagnose(text: str) -> None:
    code, out, err = run([text, "--at", AT])
    assert code == 1 and err == ""
    assert out.startswith("REFUSED error text (names no claim): first check Audience (aud) mismatch")
    assert "\nNext steps\n" in out and "logging.level.org.springframework.security=TRACE" in out
    assert "pbpaste | jwtcheck" in out and "(90% success)" in out
    code, out, _ = run([text, "--at", AT, "--json"])
    [diagnosis] = json.loads(out)["diagnoses"]
    assert code == 1 and diagnosis["source"] == "error_text" and diagnosis["library"] is None
    assert diagnosis["causes"][0]["id"] == "audience_mismatch" and len(diagnosis["next_steps"]) == 9


def test_chat_that_mentions_a_refusal_is_still_nothing_to_diagnose() -> None:
    code, out, err = run(["our JWT validation failed again after the deploy"])
    assert code == 2 and out == "" and err.startswith("jwtcheck: nothing to diagnose")


@pytest.mark.parametrize("extra", [[], ["--json"], ["--summary"], ["--summary", "--json"], ["--at-log"]])
def test_an_opaque_token_is_called_opaque_and_never_printed(extra: list[str]) -> None:
    code, out, err = run([*extra], stdin=f"curl -H 'Authorization: Bearer {OPAQUE}' https://api.acme.test/orders\n")
    assert code == 1 and err == ""
    assert OPAQUE not in out and OPAQUE[4:] not in out
    assert "opaque" in out.lower()
    if extra == []:
        assert out.startswith("UNVERIFIABLE token: Opaque access token, not a JWT")
        assert "  token        2Yot… (22 chars)\n" in out
    if extra == ["--json"]:
        [diagnosis] = json.loads(out)["diagnoses"]
        assert diagnosis["token"]["kind"] == "opaque" and diagnosis["token"]["redacted"] == "2Yot… (22 chars)"
        assert diagnosis["verdict"] == "unverifiable" and diagnosis["causes"][0]["id"] == "opaque_token"


def test_the_parallel_json_path_judges_opaque_tokens_and_generic_refusals_alike() -> None:
    lines = [f"Authorization: Bearer tok{n:05d}Zq9xYw8vUt" if n % 2 else "HTTP 401: invalid_token" for n in range(1100)]
    text = "\n".join(lines) + "\n"
    one = run(["--json", "--jobs", "1", "--at", AT], stdin=text)
    many = run(["--json", "--jobs", "3", "--at", AT], stdin=text)  # 1000 items: judged in two parts
    assert one == many and one[0] == 1
    diagnoses = json.loads(one[1])["diagnoses"]
    assert len(diagnoses) == 500 + 500  # error lines and opaque tokens are each kept up to 500 a text
    assert {d["token"]["kind"] for d in diagnoses if d["token"]} == {"opaque"}
    assert all(len(d["next_steps"]) == 9 for d in diagnoses if d["source"] == "error_text")
    assert "tok00001Zq9x" not in one[1]
