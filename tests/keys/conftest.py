"""Two local servers: the issuer the config trusts, and one a hostile token points at (it must see nothing)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.keys.server import KeyServer


@pytest.fixture
async def issuer() -> AsyncIterator[KeyServer]:
    server = await KeyServer().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def attacker() -> AsyncIterator[KeyServer]:
    server = await KeyServer().start()
    try:
        yield server
    finally:
        await server.close()
