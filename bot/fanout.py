"""Independent parts of one job done at once in forked processes: the command line on big logs.

``jwtcheck --json -`` over a log of thousands of tokens spends its time judging tokens and encoding
their JSON, every token apart from the others. :func:`fork_map` forks one child per further part
(each child sees the parent's memory as it was, copy-on-write: nothing is pickled), does part 0
itself meanwhile, and reads each child's result, bytes, from a pipe.

Why not ``multiprocessing``: a pool took 17-32 ms to start here against 3-8 ms for fork and a pipe,
and would pickle the work; the command line's whole run is a few hundred milliseconds. A part whose
child failed (it raised, was killed, or could not be forked) is done again in the parent, so the
result never depends on a child. Children are only forked while the process has a single thread (a
thread holding a lock at the fork would leave it locked in the child) and where ``os.fork`` exists.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable
from typing import NoReturn

_SIZE = 8  # bytes of the length that precedes a child's result, so that a cut-off result is noticed


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity, where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def fork_map(work: Callable[[int], bytes], parts: int) -> list[bytes | bytearray]:
    """``[work(0), …, work(parts - 1)]``: part 0 in this process, the others in forked children."""
    if parts <= 1 or not can_fork():
        return [work(part) for part in range(parts)]
    children = [_fork(work, part) for part in range(1, parts)]
    results: list[bytes | bytearray] = [work(0)]
    for part, child in enumerate(children, start=1):
        result = _collect(child) if child is not None else None
        results.append(work(part) if result is None else result)
    return results


def _fork(work: Callable[[int], bytes], part: int) -> tuple[int, int] | None:
    """Start the child of ``part``: (its pid, the read end of its pipe), or None if it could not start."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:
        os.close(read_end)
        _run_child(work, part, write_end)
    os.close(write_end)
    return pid, read_end


def _run_child(work: Callable[[int], bytes], part: int, write_end: int) -> NoReturn:
    status = 1
    with contextlib.suppress(BaseException):  # the parent does this part again, and says what went wrong
        result = work(part)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(len(result).to_bytes(_SIZE, "big"))
            pipe.write(result)
        status = 0
    os._exit(status)  # no atexit handlers, no flush of buffers inherited from the parent


def _collect(child: tuple[int, int]) -> bytearray | None:
    """The child's result, or None when it did not finish cleanly. Read into one buffer of the announced
    size: a big result is not grown and copied chunk by chunk."""
    pid, read_end = child
    try:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            size = _read_exactly(pipe, bytearray(_SIZE))
            result = _read_exactly(pipe, bytearray(int.from_bytes(size, "big"))) if size is not None else None
            extra = pipe.read(1) if result is not None else b""
    finally:
        _, status = os.waitpid(pid, 0)
    return result if status == 0 and not extra else None


def _read_exactly(pipe: io.RawIOBase, buffer: bytearray) -> bytearray | None:
    view, filled = memoryview(buffer), 0
    while filled < len(buffer):
        count = pipe.readinto(view[filled:])
        if not count:
            return None  # the child ended early
        filled += count
    return buffer
