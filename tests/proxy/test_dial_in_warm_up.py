"""A replica that has just started holds no dial_out office's link: /healthz keeps the load
balancer away (503 "warming up") until every such office has dialled in again, and never for
longer than link.listen.warm_up_seconds (issue 15: a replica that comes back costs no page)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from proxy.agents import AgentConnections
from proxy.config import ProxyConfig
from tests.protocol.link_fixtures import until
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, ProxySetup
from tests.proxy.dial_in_fixtures import (
    HOST,
    SHORT,
    DialingAgent,
    dial_out_tenant,
    new_identity,
)
from tests.proxy.portal import serve_proxy

OTHER = "second-clinic"


def warm_up_config(setup: ProxySetup, pins: dict[str, str], warm_up: int) -> ProxyConfig:
    tenants = {name: dial_out_tenant([pin], PRACTICE_NAME) for name, pin in pins.items()}
    # An office the proxy dials (never reached here) does not hold the replica back.
    tenants["dialled-office"] = setup.tenant(HOST, 9)
    data = setup.data(tenants)
    data["link"]["listen"] = {"host": HOST, "port": 0, "warm_up_seconds": warm_up}
    return ProxyConfig.model_validate(data)


@asynccontextmanager
async def replica(config: ProxyConfig) -> AsyncIterator[tuple[AgentConnections, object]]:
    agents = AgentConnections(config, requester_id="warm-up-test", timeouts=SHORT)
    await agents.start()
    try:
        async with serve_proxy(config, agents) as client:
            yield agents, client
    finally:
        await agents.close()


async def health(client: object) -> tuple[int, str]:
    response = await client.get("/healthz")  # type: ignore[attr-defined]
    return response.status, await response.text()


async def test_healthz_waits_for_every_dial_out_office_then_says_ok(
    proxy_setup: ProxySetup,
) -> None:
    second = new_identity(proxy_setup.directory, "second")
    config = warm_up_config(proxy_setup, {SUBDOMAIN: proxy_setup.agent_pin, OTHER: second.pin}, 600)
    first_agent = DialingAgent(proxy_setup)
    second_agent = DialingAgent(proxy_setup, key_file=second.key_file, cert_file=second.cert_file)
    async with replica(config) as (agents, client):
        port = agents.link_listener_port
        assert port is not None
        try:
            assert await health(client) == (503, "warming up: offices are dialling in\n")
            await first_agent.dial(port)
            await until(lambda: agents.link_states()[SUBDOMAIN].state == "connected")
            assert (await health(client))[0] == 503  # one office is still missing
            await second_agent.dial(port)
            await until(lambda: agents.link_states()[OTHER].state == "connected")
            assert await health(client) == (200, "ok\n")
            # Warm for good: an office going offline later is that office's outage alone.
            await first_agent.close()
            await until(lambda: agents.link_states()[SUBDOMAIN].state != "connected")
            assert await health(client) == (200, "ok\n")
        finally:
            await first_agent.close()
            await second_agent.close()


async def test_an_office_that_never_dials_in_holds_the_replica_back_no_longer_than_the_warm_up(
    proxy_setup: ProxySetup,
) -> None:
    config = warm_up_config(proxy_setup, {SUBDOMAIN: proxy_setup.agent_pin}, 3)
    async with replica(config) as (_, client):
        assert (await health(client))[0] == 503
        await asyncio.sleep(3.05)  # past the warm-up: 200 however slow the machine
        assert await health(client) == (200, "ok\n")


async def test_no_warm_up_without_dial_out_offices_or_with_it_off(proxy_setup: ProxySetup) -> None:
    for config in (
        warm_up_config(proxy_setup, {}, 600),
        warm_up_config(proxy_setup, {SUBDOMAIN: proxy_setup.agent_pin}, 0),
    ):
        async with replica(config) as (_, client):
            assert await health(client) == (200, "ok\n")
