"""jwtcheck --at-log and --probe: whose clock is off, from the log's own timestamps and a Date header."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bot.cli import main
from tests.support.tokens import T, claims, make_token

AT = "2026-11-28T21:00:00Z"
L = T - 3600  # the log was written an hour before the replay instant


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old, sys.stderr = sys.stderr, err
    try:
        code = main(argv, stdin=io.StringIO(stdin), stdout=out)
    finally:
        sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def clf(seconds: float) -> str:
    return time.strftime("[%d/%b/%Y:%H:%M:%S +0000]", time.gmtime(seconds))


def syslog(seconds: float) -> str:
    return time.strftime("%b %d %H:%M:%S", time.gmtime(seconds))


def test_at_log_judges_each_token_at_its_own_lines_time() -> None:
    lines = [
        f"{iso(L)} WARN rejected {make_token(claims(iat=L - 60, exp=L + 60))}",  # fine then, expired by AT
        f'10.0.0.7 - - {clf(L + 120)} "GET /orders HTTP/1.1" 401 auth={make_token(claims(iat=L - 4000, exp=L - 3000))}',
        f"{syslog(L + 180)} api-7 orders[311]: token {make_token(claims(iat=L - 60, exp=L + 60))}",
    ]
    code, out, _ = run(["--at-log", "--at", AT, "--json", "-"], stdin="\n".join(lines))
    document = json.loads(out)
    verdicts = [d["verdict"] for d in document["diagnoses"]]
    assert code == 1 and verdicts == ["valid", "invalid", "invalid"]
    assert [c["id"] for c in document["diagnoses"][1]["causes"]] == ["expired"]
    assert document["diagnoses"][0]["judged_at"] == iso(L)
    plain = run(["--at", AT, "--json", "-"], stdin="\n".join(lines))[1]
    assert json.loads(plain)["diagnoses"][0]["verdict"] == "invalid"  # by the replay instant


def test_at_log_estimates_how_far_the_issuer_runs_ahead_of_the_log() -> None:
    lines = [
        f"{iso(L + 60 * n)} WARN 401 {make_token(claims(iat=L + 60 * n + 42, nbf=L + 60 * n + 42, n=n))}"
        for n in range(3)
    ]
    code, out, _ = run(["--at-log", "--at", AT, "--summary", "-"], stdin="\n".join(lines))
    assert code == 1
    assert "login.acme.test's clock is at least 40 s ahead of the log's timestamps (3 log lines" in out
    assert "a leeway of 50 s accepts these tokens" in out  # at least 40 s ahead, rounded up to 10 s


class _SkewedDate(BaseHTTPRequestHandler):
    offset = -38.0

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(time.time() + self.offset, usegmt=True)

    def do_HEAD(self) -> None:
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def skewed_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SkewedDate)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()


def test_probe_reads_the_services_clock_and_says_which_side_to_fix(tmp_path: Path) -> None:
    now = int(time.time())
    with skewed_service() as url:
        config = tmp_path / "services.toml"
        config.write_text(
            f'[services.orders]\naudiences = ["orders-api"]\nprobe_url = "{url}"\nallow_http = true\n', encoding="utf-8"
        )
        token = make_token(claims(iat=now + 30, nbf=now + 30, exp=now + 3600))
        code, out, err = run(["--config", str(config), "--probe", token])
    assert code == 1, err
    assert "orders's clock is 3" in out and "behind this host (±1 s)" in out
    assert "login.acme.test's clock is at least" in out and "ahead of this host" in out
    assert "Fix NTP on login.acme.test's hosts" in out and "Fix NTP on orders's hosts" in out
    assert "a leeway of 70 s accepts these tokens" in out  # a lead of 60-odd s, rounded up to 10 s


def test_probe_in_json(tmp_path: Path) -> None:
    with skewed_service() as url:
        config = tmp_path / "services.toml"
        config.write_text(f'[services.orders]\nprobe_url = "{url}"\nallow_http = true\n', encoding="utf-8")
        _, out, _ = run(["--config", str(config), "--probe", "--json", make_token()])
    [service] = [item for item in json.loads(out)["clocks"]["estimates"] if item["clock"] == "orders"]
    assert service["clock"] == "orders" and -40 < service["offset_at_least"] < service["offset_at_most"] < -36


def test_probe_needs_a_probe_url(tmp_path: Path) -> None:
    config = tmp_path / "services.toml"
    config.write_text('[services.orders]\naudiences = ["orders-api"]\n', encoding="utf-8")
    code, _, err = run(["--config", str(config), "--probe", make_token()])
    assert code == 2 and "--probe needs a service with probe_url" in err and err.count("\n") == 1


def test_an_unreachable_probe_is_said_and_the_diagnosis_still_printed(tmp_path: Path) -> None:
    config = tmp_path / "services.toml"
    config.write_text(
        '[services.orders]\nprobe_url = "http://127.0.0.1:9/health"\nallow_http = true\n', encoding="utf-8"
    )
    code, out, err = run(["--config", str(config), "--probe", make_token(claims(exp=T + 10**8))])
    assert code == 0 and "NO PROBLEM FOUND in this token" in out and "clock probe of orders failed" in err
