from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import AccessPractice, access_practice
from tests.agent.messages.cli_office import CliOffice, cli_office


@pytest.fixture
async def office(practice_db: DatabaseSettings, link_keys: Path) -> AsyncIterator[AccessPractice]:
    """The small practice's agent over a real link, mailing to a real SMTP server."""
    async with access_practice(practice_db, link_keys) as practice:
        yield practice


@pytest.fixture
def cli(practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path) -> CliOffice:
    """The small practice and an agent.yaml for running `portico-agent messages ...`."""
    return cli_office(practice_db, link_keys, tmp_path)
