"""Offices whose agents dial in (issue 15): their links come from the proxy's link listener,
an office may hold several, requests use a live one, and with none the page says to call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from protocol.aio import DialledLink
from proxy.agents import AgentConnections, AgentUnavailable
from tests.protocol.link_fixtures import until
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, ProxySetup
from tests.proxy.dial_in_fixtures import SHORT, DialingAgent, dial_in_config, dial_out_tenant
from tests.proxy.portal import Browser, serve_proxy
from tests.support.logs import LogCapture


@asynccontextmanager
async def dial_in_proxy(
    setup: ProxySetup, *, connect_wait: float = 5.0
) -> AsyncIterator[AgentConnections]:
    config = dial_in_config(setup, {SUBDOMAIN: dial_out_tenant([setup.agent_pin], PRACTICE_NAME)})
    agents = AgentConnections(
        config, requester_id="dial-in-test", timeouts=SHORT, connect_wait=connect_wait
    )
    try:
        await agents.start()
        yield agents
    finally:
        await agents.close()


def listener(agents: AgentConnections) -> int:
    port = agents.link_listener_port
    assert port is not None
    return port


async def test_a_dial_out_office_is_served_once_its_agent_dialled_in(
    proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    agent = DialingAgent(proxy_setup, name=PRACTICE_NAME)
    async with dial_in_proxy(proxy_setup) as agents:
        assert agents.link_states()[SUBDOMAIN].state == "waiting"
        assert agents.practice(SUBDOMAIN) is None
        try:
            dialled = await agent.dial(listener(agents))
            await until(lambda: agents.link_states()[SUBDOMAIN].state == "connected")

            answers = await asyncio.gather(
                *(agents.request(SUBDOMAIN, f"m{i}", {}) for i in range(10))
            )
            assert [a["method"] for a in answers] == [f"m{i}" for i in range(10)]
            assert {r.tenant for r in agent.requests} == {SUBDOMAIN}
            assert agent.hellos[0].requester_id == "dial-in-test"
            assert dialled.peer_pin == proxy_setup.proxy_pin
            assert agents.practice(SUBDOMAIN) == agent.practice
            status = agents.link_states()[SUBDOMAIN]
            assert (status.state, status.links, status.failures) == ("connected", 1, 0)
            arrived = await logs.wait_for("agent.dialled_in", tenant=SUBDOMAIN)
            assert arrived["agent_version"] == "dial-in-test"
            assert arrived["peer"].startswith("127.0.0.1:")
        finally:
            await agent.close()


async def test_a_request_waits_for_an_agent_that_is_dialling_in(proxy_setup: ProxySetup) -> None:
    agent = DialingAgent(proxy_setup)
    async with dial_in_proxy(proxy_setup, connect_wait=30.0) as agents:
        try:
            asked = asyncio.create_task(agents.request(SUBDOMAIN, "practice.info", {}))
            await asyncio.sleep(0)
            assert not asked.done()
            await agent.dial(listener(agents))
            assert (await asked)["name"] == agent.practice["name"]
        finally:
            await agent.close()


async def test_with_two_links_one_dying_costs_no_request(
    proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    # One agent with a link to each of two proxy addresses that lead to this replica.
    first, second = DialingAgent(proxy_setup), DialingAgent(proxy_setup)
    async with dial_in_proxy(proxy_setup) as agents:
        try:
            await first.dial(listener(agents))
            await second.dial(listener(agents))
            await until(lambda: agents.link_states()[SUBDOMAIN].links == 2)
            await agents.request(SUBDOMAIN, "warm", {})
            assert [r.method for r in second.requests] == ["warm"]  # the newest is used

            await second.server.close(grace=0)  # that path's link dies (GOAWAY, then gone)
            await until(lambda: agents.link_states()[SUBDOMAIN].links == 1)

            answers = await asyncio.gather(
                *(agents.request(SUBDOMAIN, f"m{i}", {}) for i in range(20))
            )
            assert len(answers) == 20
            assert len(first.requests) == 20
            assert agents.link_states()[SUBDOMAIN].state == "connected"
            await logs.wait_for("agent.link_lost", tenant=SUBDOMAIN)
        finally:
            await first.close()
            await second.close()


async def test_with_no_link_the_request_fails_and_the_page_says_call_the_office(
    proxy_setup: ProxySetup,
) -> None:
    async with dial_in_proxy(proxy_setup, connect_wait=0.05) as agents:
        with pytest.raises(AgentUnavailable) as caught:
            await agents.request(SUBDOMAIN, "practice.info", {})
        assert caught.value.tenant == SUBDOMAIN
        assert "dials in" in caught.value.reason
        assert agents.link_states()[SUBDOMAIN].state == "waiting"

        config = dial_in_config(
            proxy_setup, {SUBDOMAIN: dial_out_tenant([proxy_setup.agent_pin], PRACTICE_NAME)}
        )
        async with serve_proxy(config, agents) as client:
            browser = Browser(client)
            page = await browser.get("/sign-in")
            page = await browser.submit(page, "/sign-in", login="a@example.org", password="x" * 12)
            assert page.status == 503
            assert (
                f"We can't reach {PRACTICE_NAME} right now. Please call +1 555 0100."
                in page.visible_text
            )


async def test_a_link_lost_and_back_is_used_again(proxy_setup: ProxySetup) -> None:
    agent = DialingAgent(proxy_setup)
    async with dial_in_proxy(proxy_setup, connect_wait=0.05) as agents:
        try:
            dialled: DialledLink = await agent.dial(listener(agents))
            await until(lambda: agents.link_states()[SUBDOMAIN].state == "connected")
            await agents.request(SUBDOMAIN, "before", {})
            dialled.close()
            await until(lambda: agents.link_states()[SUBDOMAIN].state == "waiting")
            with pytest.raises(AgentUnavailable):
                await agents.request(SUBDOMAIN, "meanwhile", {})

            await agent.dial(listener(agents))  # the agent's reconnect
            await until(lambda: agents.link_states()[SUBDOMAIN].state == "connected")
            assert (await agents.request(SUBDOMAIN, "after", {}))["method"] == "after"
        finally:
            await agent.close()


async def test_closing_the_proxy_says_goaway_to_the_agents_and_stops_listening(
    proxy_setup: ProxySetup,
) -> None:
    agent = DialingAgent(proxy_setup)
    async with dial_in_proxy(proxy_setup) as agents:
        port = listener(agents)
        dialled = await agent.dial(port)
        await until(lambda: agents.link_states()[SUBDOMAIN].links == 1)
    try:
        await asyncio.wait_for(asyncio.shield(dialled.closed), 5)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)
    finally:
        await agent.close()
