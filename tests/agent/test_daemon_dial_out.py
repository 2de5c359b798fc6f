"""The agent daemon in dial_out mode (issue 15): it opens no listening socket at all, dials the
portal's link listener (a real LinkAcceptor here), serves the portal's requests over that link,
and a reload that withdraws the portal's pin ends the link and refuses the next handshake."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import AgentConfig
from agent.daemon import LIVE_SETTINGS, Agent
from agent.db.pool import DatabaseSettings
from protocol.aio import LinkAcceptor, LinkClient
from protocol.tls import server_config
from protocol.transport import Timeouts
from tests.protocol.link_fixtures import until
from tests.support.keys import make_identity
from tests.support.logs import LogCapture
from tests.support.practice import agent_config_data, cheap_hasher

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


def listening_sockets() -> set[str]:
    """Inodes of this process's sockets that are in the LISTEN state (Linux /proc)."""
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if match := re.fullmatch(r"socket:\[(\d+)\]", target):
            mine.add(match[1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    listening.add(fields[9])
    return mine & listening


@pytest.fixture
async def agent(
    practice_db: DatabaseSettings, link_keys: Path, portal: Portal
) -> AsyncIterator[Agent]:
    data = dial_out_config(practice_db, link_keys, portal.acceptor.port)
    agent = Agent.build(AgentConfig.model_validate(data), hasher=cheap_hasher())
    yield agent
    await agent.stop(grace=1)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads Linux /proc")
async def test_dial_out_opens_no_listening_socket_and_serves_the_portal(
    agent: Agent, portal: Portal, logs: LogCapture
) -> None:
    before = listening_sockets()

    await agent.start()
    await until(lambda: bool(portal.live))

    info = await portal.live[0].request("practice.info")
    assert info["name"] == "Example Family Clinic"
    assert listening_sockets() == before  # the portal's own listener was there already
    assert agent.server._server is None
    dialling = await logs.wait_for("agent.dialling_out")
    assert dialling["endpoints"] == [f"127.0.0.1:{portal.acceptor.port}"]
    assert logs.records("agent.listening") == []


async def test_a_reload_withdrawing_the_portal_pin_ends_the_link(
    agent: Agent, portal: Portal, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    assert "tls.proxy_pins" in LIVE_SETTINGS
    await agent.start()
    await until(lambda: bool(portal.live))
    client = portal.live[0]
    other = make_identity(tmp_path / "other", "other")
    data = agent.config.model_dump(mode="json")
    data["tls"]["proxy_pins"] = [other.pin]

    agent.apply_live_settings(AgentConfig.model_validate(data))

    await until(lambda: not client.is_usable)
    refused = await logs.wait_for("agent.dial_out.failed", kind="pin")
    assert "not in tls.proxy_pins" in refused["reason"]
    assert portal.live == []
