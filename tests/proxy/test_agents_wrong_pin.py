"""An agent whose key is not among the tenant's pins is never talked to: no HELLO, no request.

The proxy refuses it inside the TLS handshake, the page says the office is unavailable, and the
agent logs the refusal (the proxy's TLS alert), so office IT can see why nothing arrives.
"""

from __future__ import annotations

from typing import Any

import pytest

from protocol.aio import Request
from proxy.agents import AgentConnections, AgentUnavailable
from tests.proxy.agent_fixtures import SUBDOMAIN, Offices, ProxySetup
from tests.support.logs import LogCapture


async def test_an_unpinned_agent_is_refused_before_any_request(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    agent = await offices.start()
    reached: list[Request] = []
    serve = agent.server.handler

    async def counting(request: Request) -> Any:
        reached.append(request)
        return await serve(request)

    agent.server.handler = counting
    # Pinned to some other key (the proxy's own, as it happens): not this agent's.
    tenant = proxy_setup.tenant("127.0.0.1", agent.server.port, pins=[proxy_setup.proxy_pin])
    agents = AgentConnections(
        proxy_setup.config({SUBDOMAIN: tenant}), requester_id="proxy-test", backoff_cap=0.2
    )
    try:
        for _ in range(3):
            with pytest.raises(AgentUnavailable) as caught:
                await agents.request(SUBDOMAIN, "practice.info", {}, session="s")
            assert caught.value.tenant == SUBDOMAIN

        failure = await logs.wait_for("agent.connect_failed", tenant=SUBDOMAIN)
        assert failure["kind"] == "pin"
        assert "refused pin" in failure["reason"]
        assert proxy_setup.agent_pin in failure["reason"]  # what the agent actually presented
        refusal = await logs.wait_for("link.refused", role="responder")
        assert refusal["stage"] == "tls"
        assert logs.records("link.established") == []
        assert reached == []
        assert agents.practice(SUBDOMAIN) is None
    finally:
        await agents.close()


async def test_one_of_several_pins_is_enough(offices: Offices, proxy_setup: ProxySetup) -> None:
    # While an office rotates its key, the tenant lists the old and the new pin.
    agent = await offices.start()
    pins = [proxy_setup.proxy_pin, proxy_setup.agent_pin]
    tenant = proxy_setup.tenant("127.0.0.1", agent.server.port, pins=pins)
    agents = AgentConnections(proxy_setup.config({SUBDOMAIN: tenant}), requester_id="proxy-test")
    try:
        assert (await agents.request(SUBDOMAIN, "practice.info", {}))["phone"] == "+1 555 0100"
    finally:
        await agents.close()
