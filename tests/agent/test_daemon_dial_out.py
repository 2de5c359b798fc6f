"""The agent daemon in dial_out mode (issue 15): it opens no listening socket at all, dials the
portal's link listener (a real LinkAcceptor here), serves the portal's requests over that link,
and a reload that withdraws the portal's pin ends the link and refuses the next handshake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import AgentConfig, load_config
from agent.daemon import LIVE_SETTINGS, Agent
from agent.db.pool import DatabaseSettings
from protocol.aio import LinkAcceptor, LinkClient
from protocol.service.reload import ConfigChanges
from protocol.tls import server_config
from protocol.transport import Timeouts
from tests.protocol.link_fixtures import until
from tests.support.keys import make_identity
from tests.support.logs import LogCapture
from tests.support.practice import agent_config_data, cheap_hasher, write_config_file
from tests.support.sockets import listening_ports

TENANT = "example-clinic"


class Portal:
    def __init__(self, keys: Path) -> None:
        agent_pin = (keys / "agent.pin").read_text()
        self.clients: list[LinkClient] = []
        self.acceptor = LinkAcceptor(
            server_config(keys / "proxy" / "key.pem", keys / "proxy" / "cert.pem", [agent_pin]),
            tenant_of={agent_pin: TENANT}.get,
            on_link=lambda tenant, client: self.clients.append(client),
            requester_id="replica-1",
            timeouts=Timeouts(handshake=2.0),
        )

    @property
    def live(self) -> list[LinkClient]:
        return [c for c in self.clients if c.is_usable]


@pytest.fixture
async def portal(link_keys: Path) -> AsyncIterator[Portal]:
    portal = Portal(link_keys)
    await portal.acceptor.start("127.0.0.1", 0)
    yield portal
    await portal.acceptor.close()
    for client in portal.clients:
        await client.close()


def dial_out_config(settings: DatabaseSettings, keys: Path, port: int) -> dict[str, Any]:
    data = agent_config_data(settings, keys)
    del data["listen"]
    data["link"] = {"mode": "dial_out", "portal": [f"127.0.0.1:{port}"]}
    return data


@pytest.fixture
async def agent(
    practice_db: DatabaseSettings, link_keys: Path, portal: Portal
) -> AsyncIterator[Agent]:
    data = dial_out_config(practice_db, link_keys, portal.acceptor.port)
    agent = Agent.build(AgentConfig.model_validate(data), hasher=cheap_hasher())
    yield agent
    await agent.stop(grace=1)


async def test_dial_out_opens_no_listening_socket_and_serves_the_portal(
    agent: Agent, portal: Portal, logs: LogCapture
) -> None:
    before = listening_ports()

    await agent.start()
    await until(lambda: bool(portal.live))

    info = await portal.live[0].request("practice.info")
    assert info["name"] == "Example Family Clinic"
    assert listening_ports() == before  # the portal's own listener was there already
    assert agent.server._server is None
    dialling = await logs.wait_for("agent.dialling_out")
    assert dialling["endpoints"] == [f"127.0.0.1:{portal.acceptor.port}"]
    assert logs.records("agent.listening") == []


async def test_a_reload_withdrawing_the_portal_pin_ends_the_link(
    practice_db: DatabaseSettings, portal: Portal, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    """Through SIGHUP's own path (reload_config re-reads the file): a dial_out config has no
    listen: section, and a reload must neither trip over that nor keep a withdrawn pin."""
    assert "tls.proxy_pins" in LIVE_SETTINGS
    data = dial_out_config(practice_db, link_keys, portal.acceptor.port)
    path = tmp_path / "agent.yaml"
    write_config_file(path, data)
    agent = Agent.build(load_config(path), hasher=cheap_hasher())
    try:
        await agent.start()
        await until(lambda: bool(portal.live))
        client = portal.live[0]

        # Unchanged file: nothing to do, and the link stays.
        assert agent.reload_config(path) == ConfigChanges(live=(), needs_restart=())
        # Back to listen mode in the file: only a restart does that; the agent keeps dialling.
        listen = {
            **data,
            "link": {"mode": "listen"},
            "listen": agent_config_data(practice_db, link_keys)["listen"],
        }
        write_config_file(path, listen)
        changes = agent.reload_config(path)
        assert changes is not None and "link.mode" in changes.needs_restart
        assert client.is_usable and agent.server.networks is None

        other = make_identity(tmp_path / "other", "other")
        data["tls"]["proxy_pins"] = [other.pin]
        write_config_file(path, data)
        changes = agent.reload_config(path)
        assert changes is not None and changes.live == ("tls.proxy_pins",)

        await until(lambda: not client.is_usable)
        refused = await logs.wait_for("agent.dial_out.failed", kind="pin")
        assert "not in tls.proxy_pins" in refused["reason"]
        assert portal.live == []
    finally:
        await agent.stop(grace=1)
