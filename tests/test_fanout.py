"""Parts of a job done in forked children come back in order, and a failed child costs only time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from bot.fanout import can_fork, fork_map, usable_cores


def who_did(part: int) -> bytes:
    return f"{part}:{os.getpid()}".encode()


def test_each_part_after_the_first_is_done_in_a_child_and_results_keep_their_order() -> None:
    results = [item.decode().split(":") for item in fork_map(who_did, 4)]
    assert [part for part, _ in results] == ["0", "1", "2", "3"]
    pids = [int(pid) for _, pid in results]
    assert pids[0] == os.getpid() and len(set(pids)) == 4


def test_one_part_is_done_here() -> None:
    assert fork_map(who_did, 1) == [f"0:{os.getpid()}".encode()]
    assert fork_map(who_did, 0) == []


def test_a_child_that_raises_has_its_part_done_again_here() -> None:
    parent = os.getpid()

    def fails_in_children(part: int) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("boom")
        return who_did(part)

    assert fork_map(fails_in_children, 3) == [f"{part}:{parent}".encode() for part in range(3)]


def test_a_child_that_is_killed_has_its_part_done_again_here() -> None:
    parent = os.getpid()

    def killed_in_children(part: int) -> bytes:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return b"x" * 200_000 + who_did(part)  # larger than a pipe's buffer

    results = fork_map(killed_in_children, 3)
    assert [item[200_000:] for item in results] == [f"{part}:{parent}".encode() for part in range(3)]


def test_large_results_cross_the_pipe_whole() -> None:
    results = fork_map(lambda part: bytes([part]) * 3_000_000, 3)
    assert [len(item) for item in results] == [3_000_000] * 3
    assert [item[-1] for item in results] == [0, 1, 2]


def test_nothing_is_forked_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
        assert fork_map(who_did, 3) == [f"{part}:{os.getpid()}".encode() for part in range(3)]
    finally:
        stop.set()
        thread.join()


def test_output_buffered_before_the_fork_is_printed_once() -> None:
    probe = (
        "import sys; from bot.fanout import fork_map\n"
        "sys.stdout.write('before ')\n"
        "fork_map(lambda part: b'', 3)\n"
        "sys.stdout.write('after')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONUNBUFFERED": ""},
    )
    assert result.stdout == "before after"


def test_usable_cores_counts_at_least_one() -> None:
    assert usable_cores() >= 1
