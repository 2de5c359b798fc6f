"""The agent's own answers stay RemoteError, even `unavailable`: only a lost link is
AgentUnavailable. The difference shows on the page: the agent's message (e.g. its database is
down: "try again in a few minutes, or call ...") is the office's own words."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from proxy.agents import AgentConnections, AgentUnavailable
from tests.proxy.agent_fixtures import SUBDOMAIN, Offices, ProxySetup
from tests.support.tcp_relay import TcpRelay


async def test_application_errors_are_remote_errors_on_a_link_that_stays_up(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    agent = await offices.start()
    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", agent.server.port)})
    agents = AgentConnections(config, requester_id="proxy-test")
    try:
        with pytest.raises(RemoteError) as unknown:
            await agents.request(SUBDOMAIN, "no.such.method", {})
        assert unknown.value.code == "not_found"
        with pytest.raises(RemoteError) as signed_out:
            await agents.request(SUBDOMAIN, "appointments.list", {}, session="not-a-session")
        assert signed_out.value.code == "unauthenticated"

        assert len(agent.server.connections) == 1  # the link survived both
    finally:
        await agents.close()


async def test_the_agents_database_being_down_is_its_answer_not_a_lost_link(
    practice_db: DatabaseSettings, link_keys: Path, proxy_setup: ProxySetup
) -> None:
    relay = TcpRelay(practice_db.host, practice_db.port)
    await relay.start()
    offices = Offices(
        dataclasses.replace(practice_db, host="127.0.0.1", port=relay.port), link_keys
    )
    agent = await offices.start()
    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", agent.server.port)})
    agents = AgentConnections(config, requester_id="proxy-test")
    try:
        assert await agents.request(SUBDOMAIN, "booking.appointment_types", {})

        await relay.cut()  # the practice's database server goes down; the agent stays up
        with pytest.raises(RemoteError) as down:
            await agents.request(SUBDOMAIN, "booking.appointment_types", {})

        assert down.value.code == "unavailable"
        assert not isinstance(down.value, AgentUnavailable)
        assert "+1 555 0100" in down.value.message  # the office's words, with its phone
        assert len(agent.server.connections) == 1  # and the link is still the same one
    finally:
        await agents.close()
        await offices.close()
        await relay.cut()
