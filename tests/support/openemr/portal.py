"""An OpenEMR practice as Portico runs beside it: OpenEMR's database and Portico's own.

With ``practice.system: openemr`` Portico keeps its ``portal_*`` tables in a database of their
own (``database.portal_name``) on the OpenEMR server, and the OpenEMR database gets no new
table (agent/db/portal_schema.py). Tests of the OpenEMR store, of booking and access on
OpenEMR, and of the agent started on an OpenEMR config all need that pair; this is it.

API (keep it small; other areas use it):

- ``openemr_with_portal(server, sql_mode)``: a context manager giving an :class:`OpenEMRPortal`, an
  OpenEMR database installed as the ``openemr_db`` fixture installs it, plus a portal
  database created and migrated by the agent's real ``migrate`` path for the openemr system;
  both dropped at the end. Every connection opened meanwhile runs in `sql_mode`.
- The fixture ``openemr_portal`` (tests/conftest.py) runs it once per OpenEMR sql_mode.
- ``OpenEMRPortal.config_data(keys, **booking)``: agent.yaml as data for that pair (practice
  system openemr, database.name = the OpenEMR database, database.portal_name = the portal
  database), on top of the small practice's config of tests/support/practice.py.
- ``OpenEMRPortal.portal`` is also what the agent's pool connects to (its default database):
  ``Database(portal.portal)`` + ``OpenEMRStore(db, openemr_settings(config))`` is the store
  exactly as the agent builds it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import AgentConfig
from agent.db.migrate import apply_migrations
from agent.db.pool import DatabaseSettings
from tests.support.database import MariaDB, connect
from tests.support.openemr import OpenEMRDatabase, openemr_database
from tests.support.openemr.rows import install
from tests.support.practice import agent_config_data


@dataclass(frozen=True)
class OpenEMRPortal:
    """An installed OpenEMR database and Portico's migrated portal database beside it."""

    openemr: OpenEMRDatabase  # database.name: OpenEMR's tables, written as OpenEMR writes them
    portal: DatabaseSettings  # database.portal_name: Portico's portal_* tables; the pool's

    def config_data(self, keys: Path, **booking: Any) -> dict[str, Any]:
        """agent.yaml as data for this pair (practice.system openemr); tests add or replace
        sections. `booking` as tests.support.practice.agent_config_data takes it."""
        data = agent_config_data(self.openemr.settings, keys, **booking)
        data["practice"]["system"] = "openemr"
        data["database"]["portal_name"] = self.portal.name
        return data

    def config(self, keys: Path, **booking: Any) -> AgentConfig:
        return AgentConfig.model_validate(self.config_data(keys, **booking))


@contextmanager
def openemr_with_portal(server: MariaDB, sql_mode: str) -> Iterator[OpenEMRPortal]:
    """An installed OpenEMR database and a portal database migrated for it (see the module
    docstring); both dropped at the end."""
    portal = server.settings(f"portico_p_{secrets.token_hex(5)}")
    with openemr_database(server, sql_mode) as openemr:
        install(openemr)
        try:
            # The agent's own path: creates the database, then the portal-only migrations.
            apply_migrations(portal, "openemr")
            yield OpenEMRPortal(openemr, portal)
        finally:
            admin = connect(server.settings(""))
            with admin, admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{portal.name}`")
