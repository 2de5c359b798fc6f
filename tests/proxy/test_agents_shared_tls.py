"""Every office's link shares one TLS context (issue 14: a context per office cost ~20 KiB of
memory each); each connection is still checked against its own office's pins, and an office
added by a reload is served without the others' links being opened again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import LinkServer, Request
from protocol.events import HelloReceived
from protocol.tls import server_config
from proxy.agents import AgentConnections, AgentUnavailable
from tests.proxy.agent_fixtures import ProxySetup
from tests.support.logs import LogCapture


class AnyOffice:
    """The real link server, with the agent's key, answering for whichever office says HELLO."""

    def __init__(self, keys: Path) -> None:
        tls = server_config(
            keys / "agent/key.pem", keys / "agent/cert.pem", [(keys / "proxy.pin").read_text()]
        )
        self.hellos: list[str] = []
        self.server = LinkServer(
            self._answer, tls=tls, on_hello=self._welcome, agent_version="test"
        )

    def _welcome(self, hello: HelloReceived) -> dict[str, Any]:
        self.hellos.append(hello.tenant)
        return {"name": hello.tenant.title(), "phone": "+1 555 0100", "timezone": "UTC"}

    async def _answer(self, request: Request) -> Any:
        return {"office": request.tenant}


@pytest.fixture
async def office(link_keys: Path) -> AsyncIterator[AnyOffice]:
    office = AnyOffice(link_keys)
    await office.server.start("127.0.0.1", 0)
    try:
        yield office
    finally:
        await office.server.close(grace=1.0)


async def test_each_office_is_checked_against_its_own_pins(
    office: AnyOffice, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    port = office.server.port
    good = proxy_setup.tenant("127.0.0.1", port)
    # The same agent, but this office pins another key (the proxy's own, as it happens).
    wrong = proxy_setup.tenant("127.0.0.1", port, pins=[proxy_setup.proxy_pin])
    agents = AgentConnections(
        proxy_setup.config({"north": good, "west": wrong}), requester_id="proxy-test"
    )
    try:
        with pytest.raises(AgentUnavailable):
            await agents.request("west", "office.name", {})
        assert await agents.request("north", "office.name", {}) == {"office": "north"}
        with pytest.raises(AgentUnavailable):
            await agents.request("west", "office.name", {})

        failure = await logs.wait_for("agent.connect_failed", tenant="west")
        assert failure["kind"] == "pin"
        assert proxy_setup.agent_pin in failure["reason"]
        assert office.hellos == ["north"]  # west never got as far as saying HELLO
    finally:
        await agents.close()


async def test_an_office_added_by_a_reload_is_served_and_the_others_keep_their_links(
    office: AnyOffice, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    port = office.server.port
    north = proxy_setup.tenant("127.0.0.1", port)
    agents = AgentConnections(proxy_setup.config({"north": north}), requester_id="proxy-test")
    try:
        assert await agents.request("north", "office.name", {}) == {"office": "north"}

        south = proxy_setup.tenant("127.0.0.1", port, name="South Clinic")
        wrong = proxy_setup.tenant("127.0.0.1", port, pins=[proxy_setup.proxy_pin])
        changes = agents.apply_registry(
            proxy_setup.config({"north": north, "south": south, "west": wrong}).tenants
        )
        assert changes.added == ("south", "west")
        assert changes.relinked == ()

        assert await agents.request("south", "office.name", {}) == {"office": "south"}
        assert await agents.request("north", "office.name", {}) == {"office": "north"}
        with pytest.raises(AgentUnavailable):
            await agents.request("west", "office.name", {})
        failure = await logs.wait_for("agent.connect_failed", tenant="west")
        assert failure["kind"] == "pin"
        # north's link from before the reload still carries its requests: one HELLO each.
        assert sorted(office.hellos) == ["north", "south"]
        assert agents.link_states()["north"].state == "connected"
    finally:
        await agents.close()
