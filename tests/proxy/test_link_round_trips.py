"""Pages ask the agent for what they need once: a repeated link call is a round trip (and an
agent request) a patient waits for with nothing to show for it. Counted on the agent's own
per-method request counter."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import Portal, portal

REQUESTS = "portico_agent_link_requests_total"


def answered(site: Portal, method: str) -> float:
    sample = site.office.agent.metrics.registry.get_sample_value(
        REQUESTS, {"method": method, "code": "ok"}
    )
    return sample or 0.0


async def test_the_sign_up_page_asks_for_the_office_rules_once(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access={"self_registration": True}) as site:
        before = answered(site, "practice.info")
        register = await site.browser().get("/register")
        assert register.status == 200
        assert register.form("/register").fields.keys() >= {"first_name", "email", "password"}
        assert answered(site, "practice.info") - before == 1
