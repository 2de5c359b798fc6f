from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from tests.support.database import MariaDB, fresh_database
from tests.support.keys import make_keys
from tests.support.practice import seed_small_practice


@pytest.fixture(scope="session")
def link_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def practice_db(mariadb: MariaDB) -> Iterator[DatabaseSettings]:
    """A fresh, migrated database holding the small practice of tests/support/practice.py."""
    with fresh_database(mariadb) as settings:
        seed_small_practice(settings)
        yield settings
