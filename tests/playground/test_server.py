"""``python -m bot playground``: the README's first command starts everything and prints where to look."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from bot.__main__ import main as bot_main
from bot.playground import server
from bot.playground.server import main


def test_help_and_bad_ports_are_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["--help"]) == 0
    assert "--port" in capsys.readouterr().out
    assert main(["--port", "70000"]) == 2
    assert "port must be" in capsys.readouterr().err
    monkeypatch.setenv("PORT", "eighty")
    assert main([]) == 2
    assert main(["--bogus"]) == 2
    assert bot_main(["nope"]) == 2
    assert "playground" in capsys.readouterr().err


def test_a_port_in_use_is_said_in_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # the root logger must not keep a handler on pytest's captured stderr once this test is over
    monkeypatch.setattr(server, "configure_logging", lambda *_: None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 2
    assert f"port {port} is in use" in capsys.readouterr().err


def test_python_m_bot_playground_serves_the_page_and_stops_on_sigterm() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "JWTCHECK_CONFIG"}}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "playground", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("jwtcheck playground: open http://127.0.0.1:"), line
        url = line.split("open ", 1)[1].split()[0]
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own loopback server
            assert response.status == 200 and b"jwtcheck playground" in response.read()
        with urllib.request.urlopen(f"{url}/healthz", timeout=30) as response:  # noqa: S310
            assert b'"slack_auth": "ok"' in response.read()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
