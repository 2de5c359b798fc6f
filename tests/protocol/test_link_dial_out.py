"""Dial-out (issue 15): the agent dials, the proxy accepts, and the roles stay as they were.

The agent's LinkServer dials with a client-side TLS config and still answers requests; the
proxy's LinkAcceptor is the TLS server, names the office by the verified pin, sends HELLO and
hands over a LinkClient. Anyone else is refused in the handshake, before any frame, and logged.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import DialledLink, LinkAcceptor, LinkClient, LinkRefused, LinkServer, Request
from protocol.events import HelloReceived
from protocol.tls import TLSConfig, client_config, server_config
from protocol.transport import Timeouts
from tests.protocol.link_fixtures import HOST, PRACTICE, LinkHarness, read_until_closed, until
from tests.protocol.test_link_refusals import certificateless_client

TENANT = "demo"
SHORT = Timeouts(handshake=2.0, ping_interval=0.2, idle=0.6)


class Portal:
    """A proxy's link listener, and the links it has been handed, by office."""

    def __init__(self, link: LinkHarness, pins: dict[str, str] | None) -> None:
        self.offices = dict(pins or {})
        self.links: list[tuple[str, LinkClient]] = []
        tls = None
        if pins:
            tls = server_config(link.proxy.key_file, link.proxy.cert_file, list(pins))
        self.acceptor = LinkAcceptor(
            tls,
            tenant_of=self.offices.get,
            on_link=lambda tenant, client: self.links.append((tenant, client)),
            requester_id="replica-1",
            timeouts=SHORT,
        )

    def repin(self, link: LinkHarness, pins: dict[str, str]) -> None:
        self.offices = dict(pins)
        self.acceptor.tenant_of = self.offices.get
        tls = server_config(link.proxy.key_file, link.proxy.cert_file, list(pins))
        self.acceptor.reconfigure(tls)


class Calls:
    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def __call__(self, request: Request) -> Any:
        self.requests.append(request)
        return {"method": request.method, "tenant": request.tenant}


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


@pytest.fixture
async def portal(link: LinkHarness) -> AsyncIterator[Portal]:
    portal = Portal(link, {link.agent.pin: TENANT})
    await portal.acceptor.start(HOST, 0)
    try:
        yield portal
    finally:
        for _, client in portal.links:
            await client.close()
        await portal.acceptor.close()


def dialling_agent(
    link: LinkHarness, handler: Calls, *, tls: TLSConfig | None = None, tenant: str = TENANT
) -> LinkServer:
    def on_hello(hello: HelloReceived) -> dict[str, Any]:
        if hello.tenant != tenant:
            from protocol.errors import ErrorCode, LinkError

            raise LinkError(ErrorCode.FORBIDDEN, "this agent serves another practice")
        return PRACTICE

    return LinkServer(
        handler,
        tls=tls or client_config(link.agent.key_file, link.agent.cert_file, [link.proxy.pin]),
        on_hello=on_hello,
        agent_version="0.1-test",
        timeouts=SHORT,
    )


async def test_the_agent_dials_and_the_portal_requests(link: LinkHarness, portal: Portal) -> None:
    handler = Calls()
    agent = dialling_agent(link, handler)
    dialled = await agent.dial(HOST, portal.acceptor.port)
    try:
        assert isinstance(dialled, DialledLink)
        assert dialled.requester_id == "replica-1"
        assert dialled.peer_pin == link.proxy.pin
        await until(lambda: bool(portal.links))
        tenant, client = portal.links[0]
        assert tenant == TENANT
        assert client.peer_pin == link.agent.pin
        assert client.welcome.practice == PRACTICE
        answers = await asyncio.gather(*(client.request(f"m{i}", {}) for i in range(20)))
        assert [a["method"] for a in answers] == [f"m{i}" for i in range(20)]
        assert {r.tenant for r in handler.requests} == {TENANT}
        # Liveness as on any link: PINGs keep it up well past the idle timeout.
        await asyncio.sleep(SHORT.idle * 2)
        assert client.is_usable and dialled.is_open
    finally:
        await agent.close(grace=1)
    await until(lambda: not portal.links[0][1].is_usable)


async def test_agent_closing_its_link_says_goaway(link: LinkHarness, portal: Portal) -> None:
    agent = dialling_agent(link, Calls())
    dialled = await agent.dial(HOST, portal.acceptor.port)
    await until(lambda: bool(portal.links))
    dialled.close()
    await asyncio.wait_for(asyncio.shield(dialled.closed), 5)
    await until(lambda: not portal.links[0][1].is_usable)
    await link.logs.wait_for("link.peer_going_away", role="requester")
    await agent.close(grace=1)


async def test_agent_refuses_a_portal_key_it_has_not_pinned(
    link: LinkHarness, portal: Portal
) -> None:
    tls = client_config(link.agent.key_file, link.agent.cert_file, [link.stranger.pin])
    agent = dialling_agent(link, Calls(), tls=tls)
    with pytest.raises(LinkRefused) as refused:
        await agent.dial(HOST, portal.acceptor.port)
    assert "not pinned" in refused.value.reason
    assert link.proxy.pin in refused.value.reason
    assert portal.links == []
    await agent.close(grace=1)


async def test_nothing_listening_is_a_plain_connect_failure(link: LinkHarness) -> None:
    agent = dialling_agent(link, Calls())
    with pytest.raises(LinkRefused) as refused:
        await agent.dial(HOST, 9)  # discard port: nothing listens there
    assert refused.value.reason.startswith("cannot connect")
    assert isinstance(refused.value.__cause__, ConnectionRefusedError)


async def test_a_listen_mode_server_cannot_dial(link: LinkHarness) -> None:
    server = LinkServer(
        Calls(),
        tls=server_config(link.agent.key_file, link.agent.cert_file, [link.proxy.pin]),
        on_hello=lambda hello: PRACTICE,
        agent_version="0.1-test",
    )
    with pytest.raises(ValueError, match="client-side"):
        await server.dial(HOST, 9)


# -- refusals at the portal's listener: before any frame, each logged --------------------------


async def test_unknown_key_is_refused_in_the_handshake(link: LinkHarness, portal: Portal) -> None:
    tls = client_config(link.stranger.key_file, link.stranger.cert_file, [link.proxy.pin])
    stranger = dialling_agent(link, Calls(), tls=tls)
    with pytest.raises(LinkRefused):
        await stranger.dial(HOST, portal.acceptor.port)
    refusal = await link.logs.wait_for("link.refused", role="requester", stage="tls")
    assert f"not pinned ({link.stranger.pin})" in refusal["reason"]
    assert portal.links == [] and portal.acceptor.pending == set()


async def test_peer_without_certificate_is_refused(link: LinkHarness, portal: Portal) -> None:
    stranger = dialling_agent(link, Calls(), tls=certificateless_client(link))
    with pytest.raises(LinkRefused):
        await stranger.dial(HOST, portal.acceptor.port)
    refusal = await link.logs.wait_for("link.refused", role="requester", stage="tls")
    assert "no certificate" in refusal["reason"]
    assert portal.links == []


async def test_plaintext_peer_is_closed_at_once(link: LinkHarness, portal: Portal) -> None:
    reader, writer = await asyncio.open_connection(HOST, portal.acceptor.port)
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await read_until_closed(reader) == b""
    finally:
        writer.close()
    refusal = await link.logs.wait_for("link.refused", role="requester", stage="tls")
    assert "did not speak TLS" in refusal["reason"]
    assert portal.links == []


async def test_wrong_alpn_is_refused(link: LinkHarness, portal: Portal) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(link.agent.cert_file, link.agent.key_file)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with pytest.raises((ssl.SSLError, ConnectionError)):
        reader, writer = await asyncio.open_connection(HOST, portal.acceptor.port, ssl=context)
        try:
            await read_until_closed(reader)
        finally:
            writer.close()
    refusal = await link.logs.wait_for("link.refused", role="requester", stage="tls")
    assert "ALPN" in refusal["reason"]
    assert portal.links == []


async def test_no_office_set_up_refuses_everyone(link: LinkHarness) -> None:
    portal = Portal(link, None)
    await portal.acceptor.start(HOST, 0)
    try:
        # A load balancer's health check (connect, say nothing, close) is no refusal to log.
        _, writer = await asyncio.open_connection(HOST, portal.acceptor.port)
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.05)
        assert link.logs.records("link.refused") == []
        agent = dialling_agent(link, Calls())
        with pytest.raises(LinkRefused):
            await agent.dial(HOST, portal.acceptor.port)
        refusal = await link.logs.wait_for("link.refused", stage="pin")
        assert "no office" in refusal["reason"]
        assert portal.links == []
    finally:
        await portal.acceptor.close()


async def test_the_hello_names_the_office_of_the_pin(link: LinkHarness, portal: Portal) -> None:
    # The agent's key is pinned for "demo"; an agent that serves another practice refuses.
    agent = dialling_agent(link, Calls(), tenant="elsewhere")
    with pytest.raises(LinkRefused) as refused:
        await agent.dial(HOST, portal.acceptor.port)
    assert "HELLO refused" in refused.value.reason
    refusal = await link.logs.wait_for("link.refused", role="requester", stage="hello")
    assert "forbidden" in refusal["reason"]
    assert portal.links == []


async def test_a_repin_refuses_the_next_handshake(link: LinkHarness, portal: Portal) -> None:
    agent = dialling_agent(link, Calls())
    await agent.dial(HOST, portal.acceptor.port)
    await until(lambda: len(portal.links) == 1)
    portal.repin(link, {link.stranger.pin: "other"})
    with pytest.raises(LinkRefused):
        await agent.dial(HOST, portal.acceptor.port)
    refusal = await link.logs.wait_for("link.refused", role="requester", stage="tls")
    assert f"not pinned ({link.agent.pin})" in refusal["reason"]
    assert len(portal.links) == 1
    await agent.close(grace=1)


async def test_agent_reload_withdrawing_the_portal_pin_closes_the_dialled_link(
    link: LinkHarness, portal: Portal
) -> None:
    agent = dialling_agent(link, Calls())
    dialled = await agent.dial(HOST, portal.acceptor.port)
    await until(lambda: len(portal.links) == 1)
    withdrawn = agent.reconfigure(
        tls=agent.tls.with_allowed_pins([link.stranger.pin]), allowed_networks=None
    )
    assert withdrawn == 1
    await asyncio.wait_for(asyncio.shield(dialled.closed), 5)
    await until(lambda: not portal.links[0][1].is_usable)
    await agent.close(grace=1)
