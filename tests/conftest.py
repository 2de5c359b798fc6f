from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.database import MariaDB, throwaway_database


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    """A fresh utf8mb4 database for the whole session, dropped at the end."""
    with throwaway_database() as db:
        yield db
