"""Dial-in offices and the registry (issue 15): a reload adds one, revokes a pin (its live link
is closed with GOAWAY at once, the key refused from then on) and removes one, live; a peer the
registry does not vouch for is refused in the handshake, before any frame, and logged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from OpenSSL import SSL

from protocol.aio import LinkRefused
from protocol.tls import TLSConfig
from proxy.agents import AgentConnections, AgentUnavailable
from tests.protocol.link_fixtures import read_until_closed, until
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, ProxySetup
from tests.proxy.dial_in_fixtures import (
    SHORT,
    DialingAgent,
    dial_in_config,
    dial_out_tenant,
    new_identity,
)
from tests.support.keys import Identity
from tests.support.logs import LogCapture

NORTH = "north-clinic"


@pytest.fixture
async def agents(proxy_setup: ProxySetup) -> AsyncIterator[AgentConnections]:
    config = dial_in_config(
        proxy_setup, {SUBDOMAIN: dial_out_tenant([proxy_setup.agent_pin], PRACTICE_NAME)}
    )
    connections = AgentConnections(
        config, requester_id="registry-test", timeouts=SHORT, connect_wait=0.05
    )
    await connections.start()
    try:
        yield connections
    finally:
        await connections.close()


def port_of(agents: AgentConnections) -> int:
    port = agents.link_listener_port
    assert port is not None
    return port


def office(setup: ProxySetup, identity: Identity) -> DialingAgent:
    return DialingAgent(setup, key_file=identity.key_file, cert_file=identity.cert_file)


async def test_reload_adds_a_dial_out_office(
    agents: AgentConnections, proxy_setup: ProxySetup, tmp_path: Path, logs: LogCapture
) -> None:
    north_key = new_identity(tmp_path, "north")
    north = office(proxy_setup, north_key)
    try:
        with pytest.raises(LinkRefused):
            await north.dial(port_of(agents))  # not in the registry yet
        assert north.hellos == []

        first = {SUBDOMAIN: dial_out_tenant([proxy_setup.agent_pin], PRACTICE_NAME)}
        changes = agents.apply_registry(
            dial_in_config(
                proxy_setup, {**first, NORTH: dial_out_tenant([north_key.pin], "N")}
            ).tenants
        )
        assert (changes.added, changes.removed, changes.relinked) == ((NORTH,), (), ())
        assert agents.link_states()[NORTH].state == "waiting"

        await north.dial(port_of(agents))
        await until(lambda: agents.link_states()[NORTH].state == "connected")
        assert (await agents.request(NORTH, "hello", {}))["tenant"] == NORTH
    finally:
        await north.close()


async def test_reload_revoking_a_pin_closes_its_live_link_and_refuses_the_key(
    agents: AgentConnections, proxy_setup: ProxySetup, tmp_path: Path, logs: LogCapture
) -> None:
    new_key = new_identity(tmp_path, "next")
    both = [proxy_setup.agent_pin, new_key.pin]
    agents.apply_registry(
        dial_in_config(proxy_setup, {SUBDOMAIN: dial_out_tenant(both, PRACTICE_NAME)}).tenants
    )
    old, new = DialingAgent(proxy_setup), office(proxy_setup, new_key)
    try:
        old_link = await old.dial(port_of(agents))
        await new.dial(port_of(agents))
        await until(lambda: agents.link_states()[SUBDOMAIN].links == 2)

        changes = agents.apply_registry(
            dial_in_config(
                proxy_setup, {SUBDOMAIN: dial_out_tenant([new_key.pin], PRACTICE_NAME)}
            ).tenants
        )
        assert changes.relinked == (SUBDOMAIN,)
        # Out of use at once, and closed with GOAWAY.
        assert agents.link_states()[SUBDOMAIN].links == 1
        retiring = await logs.wait_for("agent.link_retiring", tenant=SUBDOMAIN)
        assert retiring["reason"] == "pin revoked"
        await asyncio.wait_for(asyncio.shield(old_link.closed), 5)
        await logs.wait_for("link.peer_going_away", role="responder")

        for i in range(5):
            await agents.request(SUBDOMAIN, f"m{i}", {})
        assert [r.method for r in old.requests] == []
        assert len(new.requests) == 5

        with pytest.raises(LinkRefused):
            await old.dial(port_of(agents))
        refusal = await logs.wait_for("link.refused", role="requester")
        assert refusal["stage"] == "tls"
        assert "not pinned" in refusal["reason"]
    finally:
        await old.close()
        await new.close()


async def test_reload_removing_an_office_retires_its_links(
    agents: AgentConnections, proxy_setup: ProxySetup, tmp_path: Path
) -> None:
    north_key = new_identity(tmp_path, "north")
    agents.apply_registry(
        dial_in_config(
            proxy_setup,
            {
                SUBDOMAIN: dial_out_tenant([proxy_setup.agent_pin], PRACTICE_NAME),
                NORTH: dial_out_tenant([north_key.pin], "North"),
            },
        ).tenants
    )
    agent = DialingAgent(proxy_setup)
    try:
        dialled = await agent.dial(port_of(agents))
        await until(lambda: agents.link_states()[SUBDOMAIN].state == "connected")

        changes = agents.apply_registry(
            dial_in_config(proxy_setup, {NORTH: dial_out_tenant([north_key.pin], "North")}).tenants
        )
        assert changes.removed == (SUBDOMAIN,)
        assert set(agents.link_states()) == {NORTH}
        await asyncio.wait_for(asyncio.shield(dialled.closed), 5)
        with pytest.raises(AgentUnavailable, match="removed"):
            await agents.request(SUBDOMAIN, "practice.info", {})
        with pytest.raises(LinkRefused):
            await agent.dial(port_of(agents))
    finally:
        await agent.close()


async def test_an_office_switching_to_dial_out_is_removed_and_added(
    proxy_setup: ProxySetup, tmp_path: Path
) -> None:
    listen_mode = proxy_setup.tenant("127.0.0.1", 9, name=PRACTICE_NAME)
    config = dial_in_config(proxy_setup, {SUBDOMAIN: listen_mode})
    agents = AgentConnections(config, requester_id="switch-test", timeouts=SHORT)
    await agents.start()
    agent = DialingAgent(proxy_setup)
    try:
        assert agents.link_states()[SUBDOMAIN].state == "idle"
        changes = agents.apply_registry(
            dial_in_config(
                proxy_setup, {SUBDOMAIN: dial_out_tenant([proxy_setup.agent_pin], PRACTICE_NAME)}
            ).tenants
        )
        assert (changes.added, changes.removed, changes.relinked) == ((), (), (SUBDOMAIN,))
        await agent.dial(port_of(agents))
        await until(lambda: agents.link_states()[SUBDOMAIN].state == "connected")
        assert (await agents.request(SUBDOMAIN, "x", {}))["method"] == "x"
    finally:
        await agent.close()
        await agents.close()


async def test_a_reload_that_cannot_be_served_changes_nothing(
    proxy_setup: ProxySetup,
) -> None:
    # No link listener (it is set up at start): a dial_out office cannot be added live.
    listen_mode = proxy_setup.tenant("127.0.0.1", 9, name=PRACTICE_NAME)
    agents = AgentConnections(
        dial_in_config(proxy_setup, {SUBDOMAIN: listen_mode}, listen=False), requester_id="t"
    )
    try:
        tenants = dial_in_config(
            proxy_setup,
            {SUBDOMAIN: listen_mode, NORTH: dial_out_tenant([proxy_setup.agent_pin], "North")},
        ).tenants
        with pytest.raises(ValueError, match="link listener"):
            agents.apply_registry(tenants)
        assert set(agents.link_states()) == {SUBDOMAIN}
    finally:
        await agents.close()


# -- refused before any frame ---------------------------------------------------------------------


def tls_client(
    setup: ProxySetup, *, certificate: bool = True, alpn: bytes = b"portico/1"
) -> TLSConfig:
    """A TLS 1.3 client that breaks one rule: no certificate, or another ALPN."""
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_min_proto_version(SSL.TLS1_3_VERSION)
    context.set_max_proto_version(SSL.TLS1_3_VERSION)
    context.set_alpn_protos([alpn])
    context.set_verify(SSL.VERIFY_NONE)  # the engine still checks the proxy's pin
    if certificate:
        context.use_privatekey_file(str(setup.keys / "agent" / "key.pem"))
        context.use_certificate_file(str(setup.keys / "agent" / "cert.pem"))
    return TLSConfig(
        server_side=False,
        local_pin="",
        allowed_pins=frozenset({setup.proxy_pin}),
        context=context,
    )


@pytest.mark.parametrize(
    ("peer", "reason"),
    [
        ("unknown pin", "not pinned"),
        ("no certificate", "no certificate"),
        ("wrong ALPN", "ALPN"),
    ],
)
async def test_peers_the_registry_does_not_vouch_for_are_refused_in_the_handshake(
    agents: AgentConnections,
    proxy_setup: ProxySetup,
    tmp_path: Path,
    logs: LogCapture,
    peer: str,
    reason: str,
) -> None:
    if peer == "unknown pin":
        stranger = new_identity(tmp_path, "stranger")
        agent = office(proxy_setup, stranger)
    else:
        tls = tls_client(
            proxy_setup,
            certificate=peer != "no certificate",
            alpn=b"http/1.1" if peer == "wrong ALPN" else b"portico/1",
        )
        agent = DialingAgent(proxy_setup, tls=tls)
    try:
        with pytest.raises(LinkRefused):
            await agent.dial(port_of(agents))
        refusal = await logs.wait_for("link.refused", role="requester")
        assert refusal["stage"] == "tls"
        assert reason.lower() in refusal["reason"].lower(), refusal
        assert agent.hellos == []  # no frame: not even the proxy's HELLO
        assert logs.records("agent.dialled_in") == []
        assert agents.link_states()[SUBDOMAIN].state == "waiting"
    finally:
        await agent.close()


async def test_a_plaintext_peer_is_refused_and_logged(
    agents: AgentConnections, logs: LogCapture
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(agents))
    writer.write(b"GET / HTTP/1.1\r\nHost: portal\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(read_until_closed(reader), 5)
    writer.close()
    assert b"HTTP" not in answer
    refusal = await logs.wait_for("link.refused", role="requester")
    assert refusal["stage"] == "tls"
    assert "TLS" in refusal["reason"]
    assert logs.records("agent.dialled_in") == []
