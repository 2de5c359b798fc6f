"""Fixtures for the proxy's tests: real agents for its offices, and its config."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from tests.proxy.agent_fixtures import Offices, ProxySetup


@pytest.fixture
async def offices(practice_db: DatabaseSettings, link_keys: Path) -> AsyncIterator[Offices]:
    offices = Offices(practice_db, link_keys)
    try:
        yield offices
    finally:
        await offices.close()


@pytest.fixture
def proxy_setup(link_keys: Path, tmp_path: Path) -> ProxySetup:
    return ProxySetup(link_keys, tmp_path)
