"""The agent goes away and comes back: pages fail fast meanwhile, then work again by themselves.

"Fail fast" is what the patient notices: the page says "call the office" within a second
instead of hanging until a deadline.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from proxy.agents import AgentConnections, AgentUnavailable
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, LinkCutter, Offices, ProxySetup
from tests.support.logs import LogCapture

FAST = 1.0  # seconds: the most a request may take to say the agent is unavailable


async def fails_fast(agents: AgentConnections) -> AgentUnavailable:
    started = time.monotonic()
    with pytest.raises(AgentUnavailable) as caught:
        await agents.request(SUBDOMAIN, "practice.info", {}, deadline=10)
    assert time.monotonic() - started < FAST
    assert caught.value.tenant == SUBDOMAIN
    return caught.value


async def test_stopped_agent_fails_fast_and_a_restart_is_picked_up(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    agent = await offices.start()
    port = agent.server.port
    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", port)})
    agents = AgentConnections(config, requester_id="proxy-test", backoff_cap=0.5)
    try:
        assert (await agents.request(SUBDOMAIN, "practice.info", {}))["name"] == PRACTICE_NAME

        await offices.stop(agent)
        for _ in range(5):
            await fails_fast(agents)

        # The office's server comes back on the same port; the same AgentConnections finds it.
        await offices.start(port=port, name="Example Family Clinic (restarted)")
        async with asyncio.timeout(5):
            while True:
                try:
                    info = await agents.request(SUBDOMAIN, "practice.info", {})
                    break
                except AgentUnavailable:
                    await asyncio.sleep(0.05)
        assert info["name"] == "Example Family Clinic (restarted)"
        assert agents.practice(SUBDOMAIN) == {
            "name": "Example Family Clinic (restarted)",
            "phone": "+1 555 0100",
            "timezone": "America/New_York",
        }
        assert logs.records("agent.link_lost", tenant=SUBDOMAIN)
    finally:
        await agents.close()


async def test_requests_in_flight_when_the_link_dies_fail_at_once(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    agent = await offices.start()
    cutter = LinkCutter(agent.server.port)
    await cutter.start()
    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", cutter.port)})
    agents = AgentConnections(config, requester_id="proxy-test", backoff_cap=0.5)
    try:
        await agents.request(SUBDOMAIN, "practice.info", {})
        cutter.hold_answers()
        in_flight = [
            asyncio.create_task(agents.request(SUBDOMAIN, "practice.info", {}, deadline=10))
            for _ in range(10)
        ]
        await asyncio.sleep(0.2)
        assert not any(task.done() for task in in_flight)  # the answers are being held

        started = time.monotonic()
        await cutter.cut()  # the office's connection drops mid-request
        results = await asyncio.gather(*in_flight, return_exceptions=True)

        assert time.monotonic() - started < FAST  # not the 10 s deadline
        assert all(isinstance(r, AgentUnavailable) for r in results), results
    finally:
        await agents.close()
        await cutter.close()
