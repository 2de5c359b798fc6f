"""Fixtures for the proxy's tests: the agent tests' keys and database, real agents, logs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from tests.proxy.agent_fixtures import Offices, ProxySetup
from tests.support.database import MariaDB, fresh_database
from tests.support.keys import make_keys
from tests.support.logs import LogCapture, captured_logs
from tests.support.practice import seed_small_practice


@pytest.fixture(scope="session")
def link_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """agent/ and proxy/ identities, with agent.pin and proxy.pin beside them."""
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def practice_db(mariadb: MariaDB) -> Iterator[DatabaseSettings]:
    """A fresh, migrated database holding the small practice of tests/support/practice.py."""
    with fresh_database(mariadb) as settings:
        seed_small_practice(settings)
        yield settings


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Everything the proxy and the agents log during the test, as parsed JSON records."""
    with captured_logs() as capture:
        yield capture


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
