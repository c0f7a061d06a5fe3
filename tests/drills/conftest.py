"""The drills run in plain ``pytest`` and alone with ``pytest -m drills``; without ``redis-server`` they skip."""

from __future__ import annotations

import pytest

from tests.drills.harness import redis_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/drills/" in str(item.path).replace("\\", "/") and redis_server() is None:
            item.add_marker(pytest.mark.skip(reason="the drills start their own redis-server: none on PATH"))
