"""Changing a link key without downtime, as docs/key-rotation.md tells people to do it.

Both sides trust a *list* of pins: the agent's tls.proxy_pins and each tenant's pins in the
proxy's registry. So a key rolls in three steps: trust the new pin as well as the old, switch
the key, stop trusting the old pin. At no step does either side refuse the other's key, and once
the old pin is gone the old key is refused.

The proxy's registry changes by reload (SIGHUP, tested in test_reload_registry.py; here a new
AgentConnections with the new file stands in for it); the agent's pins change by reload
without dropping a link; the agent's own key changes by restarting it.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import AgentConfig
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from protocol.keys import write_identity
from proxy.agents import AgentConnections, AgentUnavailable
from proxy.config import ProxyConfig
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, ProxySetup
from tests.support.logs import LogCapture
from tests.support.practice import agent_config_data, cheap_hasher


class Office:
    """The test practice's agent, with the link key and proxy pins each step calls for."""

    def __init__(self, settings: DatabaseSettings, keys: Path, config_file: Path) -> None:
        self.settings = settings
        self.keys = keys
        self.config_file = config_file
        self.agent: Agent | None = None
        self.port = 0

    def write_config(self, key_dir: Path, proxy_pins: list[str]) -> None:
        data: dict[str, Any] = agent_config_data(self.settings, self.keys)
        data["tls"] = {
            "key_file": str(key_dir / "key.pem"),
            "cert_file": str(key_dir / "cert.pem"),
            "proxy_pins": proxy_pins,
        }
        data["metrics"] = {"enabled": False}
        self.config_file.write_text(yaml.safe_dump(data, sort_keys=False))

    async def start(self, key_dir: Path, proxy_pins: list[str]) -> Agent:
        """Start (or restart, on the same port) with this key and these proxy pins."""
        await self.stop()
        self.write_config(key_dir, proxy_pins)
        config = AgentConfig.model_validate(yaml.safe_load(self.config_file.read_text()))
        self.agent = Agent.build(config, hasher=cheap_hasher())
        await self.agent.start(port=self.port)
        self.port = self.agent.server.port
        return self.agent

    def reload(self, key_dir: Path, proxy_pins: list[str]) -> None:
        """Edit agent.yaml and reload it, as `systemctl reload portico-agent` does."""
        assert self.agent is not None
        self.write_config(key_dir, proxy_pins)
        changes = self.agent.reload_config(self.config_file)
        assert changes is not None and changes.live == ("tls.proxy_pins",), changes

    async def stop(self) -> None:
        if self.agent is not None:
            await self.agent.stop(grace=5)
            self.agent = None


@pytest.fixture
async def office(practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path) -> Any:
    running = Office(practice_db, link_keys, tmp_path / "agent.yaml")
    try:
        yield running
    finally:
        await running.stop()


class Replicas:
    """Proxy replicas (their links to the office), each with its own registry and link key."""

    def __init__(self, setup: ProxySetup) -> None:
        self.setup = setup
        self.running: list[AgentConnections] = []

    def start(
        self, port: int, agent_pins: list[str], link_dir: Path, name: str
    ) -> AgentConnections:
        data = self.setup.data({SUBDOMAIN: self.setup.tenant("127.0.0.1", port, pins=agent_pins)})
        data["link"] = {
            "key_file": str(link_dir / "key.pem"),
            "cert_file": str(link_dir / "cert.pem"),
        }
        replica = AgentConnections(
            ProxyConfig.model_validate(data), requester_id=name, backoff_cap=0.2
        )
        self.running.append(replica)
        return replica

    async def stop(self, replica: AgentConnections) -> None:
        self.running.remove(replica)
        await replica.close()


@pytest.fixture
async def replicas(proxy_setup: ProxySetup) -> Any:
    running = Replicas(proxy_setup)
    try:
        yield running
    finally:
        for replica in list(running.running):
            await running.stop(replica)


async def serves(replica: AgentConnections) -> bool:
    """The replica gets an answer from the office, reconnecting on its own if need be."""
    async with asyncio.timeout(5):
        while True:
            try:
                info = await replica.request(SUBDOMAIN, "practice.info", {})
            except AgentUnavailable:
                await asyncio.sleep(0.05)
                continue
            return bool(info["name"] == PRACTICE_NAME)


async def refused(replica: AgentConnections) -> AgentUnavailable:
    with pytest.raises(AgentUnavailable) as caught:
        await replica.request(SUBDOMAIN, "practice.info", {})
    return caught.value


def pin_refusals(logs: LogCapture) -> list[dict[str, Any]]:
    """Every time a proxy refused the agent's key or the agent refused a proxy's."""
    return logs.records("agent.connect_failed", kind="pin") + logs.records(
        "agent.connect_failed", kind="tls"
    )


# -- the agent's key -----------------------------------------------------------------------------


async def test_the_agent_key_rolls_while_the_registry_lists_both_pins(
    office: Office, replicas: Replicas, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    old_key, old_pin = link_keys / "agent", (link_keys / "agent.pin").read_text()
    proxy_key, proxy_pin = link_keys / "proxy", (link_keys / "proxy.pin").read_text()
    await office.start(old_key, [proxy_pin])
    before = replicas.start(office.port, [old_pin], proxy_key, "replica-a")
    assert await serves(before)

    # 1. The office makes its new key (the agent keeps using the old one) and sends the pin;
    #    the operator lists both pins and restarts the replicas one at a time.
    new_key = tmp_path / "agent-new"
    new_pin = write_identity(new_key, "portico-agent")
    during = replicas.start(office.port, [old_pin, new_pin], proxy_key, "replica-b")
    assert await serves(during)
    await replicas.stop(before)

    # 2. The office switches the agent to the new key and restarts it: the replicas reconnect
    #    on their own and accept it.
    await office.start(new_key, [proxy_pin])
    assert await serves(during)

    # 3. The operator removes the old pin, again one replica at a time.
    after = replicas.start(office.port, [new_pin], proxy_key, "replica-c")
    assert await serves(after)
    await replicas.stop(during)
    assert await serves(after)

    assert pin_refusals(logs) == []  # no step ever refused a key


async def test_once_its_pin_is_removed_the_old_agent_key_is_refused(
    office: Office, replicas: Replicas, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    proxy_key, proxy_pin = link_keys / "proxy", (link_keys / "proxy.pin").read_text()
    new_pin = write_identity(tmp_path / "agent-new", "portico-agent")
    # An agent still on the old key (say, restored from an old backup)...
    await office.start(link_keys / "agent", [proxy_pin])
    # ...meets a replica whose registry lists only the new pin.
    after = replicas.start(office.port, [new_pin], proxy_key, "replica-c")

    await refused(after)

    refusal = await logs.wait_for("agent.connect_failed", tenant=SUBDOMAIN)
    assert refusal["kind"] == "pin"


# -- the proxy's key -----------------------------------------------------------------------------


async def test_the_proxy_key_rolls_by_reloading_the_agent_without_dropping_a_link(
    office: Office, replicas: Replicas, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    agent_key, agent_pin = link_keys / "agent", (link_keys / "agent.pin").read_text()
    old_key, old_pin = link_keys / "proxy", (link_keys / "proxy.pin").read_text()
    await office.start(agent_key, [old_pin])
    old_replica = replicas.start(office.port, [agent_pin], old_key, "old-key-replica")
    assert await serves(old_replica)

    # 1. The operator makes the proxies' new key and sends its pin; the office lists both pins
    #    and reloads the agent. The link the old-key replica already has stays up.
    new_key = tmp_path / "proxy-new"
    new_pin = write_identity(new_key, "portico-proxy")
    office.reload(agent_key, [old_pin, new_pin])
    assert await serves(old_replica)

    # 2. The replicas move to the new key one at a time; meanwhile both keys are served.
    new_replica = replicas.start(office.port, [agent_pin], new_key, "new-key-replica")
    assert await serves(new_replica)
    assert await serves(old_replica)
    await replicas.stop(old_replica)

    # 3. The office removes the old pin and reloads again.
    office.reload(agent_key, [new_pin])
    assert await serves(new_replica)

    assert pin_refusals(logs) == []
    for replica in ("old-key-replica", "new-key-replica"):  # one link each, never redialled
        assert len(logs.records("link.established", requester_id=replica)) == 1, replica


async def test_once_its_pin_is_removed_the_old_proxy_key_is_refused(
    office: Office, replicas: Replicas, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    agent_key, agent_pin = link_keys / "agent", (link_keys / "agent.pin").read_text()
    old_key, old_pin = link_keys / "proxy", (link_keys / "proxy.pin").read_text()
    new_pin = write_identity(tmp_path / "proxy-new", "portico-proxy")
    await office.start(agent_key, [old_pin, new_pin])
    forgotten = replicas.start(office.port, [agent_pin], old_key, "forgotten-replica")
    assert await serves(forgotten)

    # A replica nobody moved to the new key loses the office when the old pin goes.
    office.reload(agent_key, [new_pin])

    # Its link is told to go away; every new one it dials is refused.
    async with asyncio.timeout(5):
        while not logs.records("agent.connect_failed", tenant=SUBDOMAIN):
            with contextlib.suppress(AgentUnavailable):
                await forgotten.request(SUBDOMAIN, "practice.info", {})
            await asyncio.sleep(0.05)
    await refused(forgotten)
    refusal = await logs.wait_for("agent.connect_failed", tenant=SUBDOMAIN)
    assert refusal["kind"] == "tls"  # the agent refused this proxy's key
