"""Fixtures every test area shares: the session's database, a fresh small practice in it, a
fresh OpenEMR database (alone, or with Portico's portal database beside it), the link's keys,
captured logs and systemd's notify socket. Their code is in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from tests.support.database import MariaDB, fresh_database, throwaway_database
from tests.support.keys import make_keys
from tests.support.logs import LogCapture, captured_logs
from tests.support.openemr import SQL_MODES, STRICT_SQL_MODE, OpenEMRDatabase, openemr_database
from tests.support.openemr.portal import OpenEMRPortal, openemr_with_portal
from tests.support.openemr.practice import OpenEMRSmallPractice, install_small_practice
from tests.support.openemr.rows import install
from tests.support.practice import SmallPractice, seed_small_practice
from tests.support.systemd import NotifySocket


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    """A fresh utf8mb4 database for the whole session, dropped at the end."""
    with throwaway_database() as db:
        yield db


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


# The practice systems a test of `small_practice` runs on.
PRACTICE_SYSTEMS = ["portico", "openemr"]


@pytest.fixture(params=PRACTICE_SYSTEMS)
def small_practice(request: pytest.FixtureRequest, mariadb: MariaDB) -> Iterator[SmallPractice]:
    """tests/support/practice.py's small practice in each practice system: `portico` (its own
    schema, as `practice_db`) and `openemr` (the OpenEMR twin, tests/support/openemr/practice.py,
    in MariaDB's strict sql_mode: the store's own tests cover OpenEMR's mode too)."""
    if request.param == "portico":
        with fresh_database(mariadb) as settings:
            seed_small_practice(settings)
            yield SmallPractice(settings)
        return
    with openemr_with_portal(mariadb, STRICT_SQL_MODE) as pair:
        ids = install_small_practice(pair.openemr)
        yield OpenEMRSmallPractice(pair.openemr, pair.portal, ids)


@pytest.fixture(params=list(SQL_MODES.values()), ids=list(SQL_MODES))
def openemr_db(request: pytest.FixtureRequest, mariadb: MariaDB) -> Iterator[OpenEMRDatabase]:
    """A freshly installed OpenEMR database (tests/support/openemr), once in OpenEMR's own
    sql_mode ('') and once in MariaDB's strict default: every connection the test opens,
    the agent's included, runs in that mode."""
    with openemr_database(mariadb, request.param) as db:
        install(db)
        yield db


@pytest.fixture(params=list(SQL_MODES.values()), ids=list(SQL_MODES))
def openemr_portal(request: pytest.FixtureRequest, mariadb: MariaDB) -> Iterator[OpenEMRPortal]:
    """`openemr_db` (both sql_modes) and, beside it, Portico's portal database migrated for
    practice.system openemr (tests/support/openemr/portal.py; `.config_data(keys)` is the
    agent.yaml for the pair)."""
    with openemr_with_portal(mariadb, request.param) as pair:
        yield pair


@pytest.fixture
def openemr_strict_db(mariadb: MariaDB) -> Iterator[OpenEMRDatabase]:
    """`openemr_db` in strict mode only, for what only a strict server refuses."""
    with openemr_database(mariadb, STRICT_SQL_MODE) as db:
        install(db)
        yield db


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Everything the code under test logs during the test, as parsed JSON records."""
    with captured_logs() as capture:
        yield capture


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    """systemd's notify socket at a path, as systemd makes it."""
    receiver = NotifySocket.at_path(tmp_path / "notify.sock")
    yield receiver
    receiver.close()


@pytest.fixture
def abstract_notify() -> Iterator[NotifySocket]:
    """systemd's notify socket in the abstract namespace ("@name")."""
    receiver = NotifySocket.abstract()
    yield receiver
    receiver.close()
