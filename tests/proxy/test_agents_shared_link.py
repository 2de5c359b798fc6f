"""One link per tenant, opened on first use and shared: 100 concurrent first requests make the
agent see exactly one connection."""

from __future__ import annotations

import asyncio

import pytest

from proxy.agents import AgentConnections
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, Offices, ProxySetup
from tests.support.logs import LogCapture


async def test_hundred_concurrent_first_requests_share_one_link(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    agent = await offices.start()
    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", agent.server.port)})
    agents = AgentConnections(config, requester_id="proxy-test")
    try:
        assert agents.practice(SUBDOMAIN) is None  # lazily: nothing is dialled before first use

        answers = await asyncio.gather(
            *(agents.request(SUBDOMAIN, "practice.info", {}) for _ in range(100))
        )

        assert [a["name"] for a in answers] == [PRACTICE_NAME] * 100
        assert len(logs.records("link.established", role="responder")) == 1
        assert len(agent.server.connections) == 1
        assert len(logs.records("agent.connected", tenant=SUBDOMAIN)) == 1
        assert agents.practice(SUBDOMAIN) == {
            "name": PRACTICE_NAME,
            "phone": "+1 555 0100",
            "timezone": "America/New_York",
        }

        # Later requests keep using the same link.
        await agents.request(SUBDOMAIN, "practice.info", {})
        assert len(logs.records("link.established", role="responder")) == 1
    finally:
        await agents.close()


async def test_tenant_names_are_case_insensitive_and_unknown_ones_are_an_error(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    agent = await offices.start()
    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", agent.server.port)})
    agents = AgentConnections(config, requester_id="proxy-test")
    try:
        info = await agents.request(SUBDOMAIN.upper(), "practice.info", {})
        assert info["name"] == PRACTICE_NAME
        with pytest.raises(LookupError):
            await agents.request("no-such-office", "practice.info", {})
        assert agents.practice("no-such-office") is None
    finally:
        await agents.close()
