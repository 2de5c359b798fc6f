"""The office's server restarts under a running proxy: patients see "call us" meanwhile, and
the pages work again afterwards without anyone restarting the proxy."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal
from tests.support.practice import cheap_hasher


async def test_pages_say_call_us_while_the_agent_is_down_then_recover(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        assert (await browser.get("/appointments")).status == 200
        original = site.office.agent
        port = original.server.port

        await original.stop(grace=1)
        down = await browser.get("/appointments")
        assert down.status == 503
        assert "+1 555 0100" in down.visible_text
        assert "Example Family Clinic" in down.visible_text

        restarted = Agent.build(original.config, clock=site.office.clock, hasher=cheap_hasher())
        await restarted.start(port=port)
        try:
            page = down
            for _ in range(100):  # the proxy reconnects on its own, with backoff
                page = await browser.get("/appointments")
                if page.status == 200:
                    break
                await asyncio.sleep(0.1)
            assert page.status == 200, page.visible_text
            assert "My appointments" in page.visible_text  # still signed in: sessions live
        finally:
            await restarted.stop(grace=1)
