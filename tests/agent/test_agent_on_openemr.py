"""The agent starts on an OpenEMR practice's config (practice.system openemr) and answers over
the link, its pool in Portico's own database beside OpenEMR's (issue 13 item 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.clock import FixedClock
from agent.daemon import Agent
from tests.support.openemr.portal import OpenEMRPortal
from tests.support.practice import NOW, TIMEZONE, cheap_hasher, link_to_agent


async def test_the_agent_starts_on_an_openemr_config_and_answers_practice_info(
    openemr_portal: OpenEMRPortal, link_keys: Path
) -> None:
    config = openemr_portal.config(link_keys)
    agent = Agent.build(config, clock=FixedClock(NOW), hasher=cheap_hasher())
    await agent.start(port=0)
    try:
        client = await link_to_agent(agent, link_keys)
        try:
            info = await client.request("practice.info", {}, session=None, deadline=20)
        finally:
            await client.close()

        def where(cursor: Any) -> tuple[str, int]:
            cursor.execute("SELECT DATABASE() AS db")
            database = cursor.fetchone()["db"]
            cursor.execute("SELECT COUNT(*) AS n FROM portal_migrations")  # unqualified
            return database, int(cursor.fetchone()["n"])

        database, migrations = await agent.db.transaction(where)
    finally:
        await agent.stop(grace=5)

    assert info["name"] == "Example Family Clinic"
    assert info["timezone"] == TIMEZONE
    assert info["booking"]["horizon_days"] == 30
    # The pool's default database is Portico's own, not OpenEMR's.
    assert database == openemr_portal.portal.name != openemr_portal.openemr.settings.name
    assert migrations == 12
