"""An office on dynamic DNS gets a new IP address: the proxy follows the name (seed 001).

The resolver passed to AgentConnections is the one stand-in in these tests. It plays the
office's dynamic-DNS record: `clinic.example-ddns.test` points at 127.0.0.2 until the office's
router gets a new address from its ISP, then the record is updated to 127.0.0.3. Everything
else is real: two agents bound to those two loopback addresses, TLS, pins.
"""

from __future__ import annotations

import asyncio

from proxy.agents import AgentConnections, AgentUnavailable
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, Offices, ProxySetup

HOSTNAME = "clinic.example-ddns.test"
OLD_ADDRESS, NEW_ADDRESS = "127.0.0.2", "127.0.0.3"


class DynamicDnsRecord:
    """The office's A record as the DNS provider serves it, and who asked."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.lookups: list[tuple[str, str]] = []  # (name asked, address answered)

    async def resolve(self, host: str, port: int) -> list[str]:
        assert host == HOSTNAME
        self.lookups.append((host, self.address))
        return [self.address]


async def test_a_changed_address_is_followed_on_reconnect(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    record = DynamicDnsRecord(OLD_ADDRESS)
    before = await offices.start(host=OLD_ADDRESS)
    port = before.server.port
    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant(HOSTNAME, port)})
    agents = AgentConnections(
        config, requester_id="proxy-test", resolve=record.resolve, backoff_cap=0.5
    )
    try:
        assert (await agents.request(SUBDOMAIN, "practice.info", {}))["name"] == PRACTICE_NAME
        assert record.lookups == [(HOSTNAME, OLD_ADDRESS)]

        # The office's router restarts with a new public address: the agent is now reachable
        # only there, and the dynamic-DNS client updates the record.
        await offices.stop(before)
        after = await offices.start(host=NEW_ADDRESS, port=port, name="Example Clinic, new IP")
        record.address = NEW_ADDRESS

        async with asyncio.timeout(5):
            while True:
                try:
                    info = await agents.request(SUBDOMAIN, "practice.info", {})
                    break
                except AgentUnavailable:
                    await asyncio.sleep(0.05)

        assert info["name"] == "Example Clinic, new IP"  # answered by the agent at the new IP
        assert len(after.server.connections) == 1
        practice = agents.practice(SUBDOMAIN)
        assert practice is not None and practice["name"] == "Example Clinic, new IP"
        # Looked up again for the reconnect, not served from a cache of the first answer.
        assert record.lookups[-1] == (HOSTNAME, NEW_ADDRESS)
        assert len(record.lookups) >= 2
    finally:
        await agents.close()
