"""Peers that are not a pinned proxy on an allowed network are dropped before any frame is read,
and each refusal is logged as `link.refused` with a stage and a reason (docs/protocol.md §2)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from OpenSSL import SSL

from protocol.aio import LinkRefused, LinkServer, Request
from protocol.tls import ALPN_PROTOCOL, TLSConfig
from tests.protocol.link_fixtures import HOST, SHORT, LinkHarness, read_until_closed, until


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


class Calls:
    """A handler that counts its calls: a refused peer must never reach it."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def __call__(self, request: Request) -> Any:
        self.requests.append(request)
        return "should not happen"


async def start(link: LinkHarness, **options: Any) -> tuple[LinkServer, Calls]:
    handler = Calls()
    server = await link.start_server(handler, timeouts=SHORT, **options)
    return server, handler


def certificateless_client(link: LinkHarness) -> TLSConfig:
    """A client that follows every rule but one: it has no certificate to present."""
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_min_proto_version(SSL.TLS1_3_VERSION)
    context.set_max_proto_version(SSL.TLS1_3_VERSION)
    context.set_alpn_protos([ALPN_PROTOCOL])
    context.set_verify(SSL.VERIFY_NONE)  # the engine still checks the agent's pin
    return TLSConfig(
        server_side=False,
        local_pin="",
        allowed_pins=frozenset({link.agent.pin}),
        context=context,
    )


async def test_client_without_certificate_is_refused(link: LinkHarness) -> None:
    server, handler = await start(link)

    with pytest.raises(LinkRefused):
        await link.connect(server, tls=certificateless_client(link))

    refusal = await link.logs.wait_for("link.refused", role="responder")
    assert refusal["stage"] == "tls"
    assert "no certificate" in refusal["reason"]
    assert link.hellos == [] and handler.requests == []


async def test_client_with_unpinned_certificate_is_refused(link: LinkHarness) -> None:
    server, handler = await start(link)

    with pytest.raises(LinkRefused):
        await link.connect(server, tls=link.client_tls(link.stranger))

    refusal = await link.logs.wait_for("link.refused", role="responder")
    assert refusal["stage"] == "tls"
    assert "not pinned" in refusal["reason"]
    assert link.stranger.pin in refusal["reason"]  # so an operator can pin it if it is theirs
    assert "PRIVATE KEY" not in link.logs.stream.getvalue()
    assert link.hellos == [] and handler.requests == []


async def test_plaintext_client_is_closed_at_once(link: LinkHarness) -> None:
    server, handler = await start(link)

    reader, writer = await asyncio.open_connection(HOST, server.port)
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await read_until_closed(reader) == b""
    finally:
        writer.close()

    refusal = await link.logs.wait_for("link.refused", role="responder")
    assert refusal["stage"] == "tls"
    assert "did not speak TLS" in refusal["reason"]
    assert handler.requests == []
    # Refused on its first bytes, not by waiting out the handshake clock.
    assert link.logs.records("link.refused", stage="handshake") == []


async def test_client_from_outside_the_allowed_networks_is_refused(link: LinkHarness) -> None:
    server, handler = await start(link, allowed_networks=["10.99.0.0/16"])

    with pytest.raises(LinkRefused):
        await link.connect(server)

    refusal = await link.logs.wait_for("link.refused", stage="address")
    assert refusal["peer"] == HOST
    assert link.hellos == [] and handler.requests == []
    assert server.connections == set()
    # docs/protocol.md §2: every refusal is logged "with stage and reason".
    assert refusal.get("reason")


async def test_client_refuses_an_agent_whose_pin_it_does_not_hold(link: LinkHarness) -> None:
    server, handler = await start(link)

    with pytest.raises(LinkRefused) as refused:
        await link.connect(server, tls=link.client_tls(pins=[link.stranger.pin]))

    assert "TLS refused" in refused.value.reason
    own = await link.logs.wait_for("link.refused", role="requester")
    assert own["stage"] == "tls"
    assert f"not pinned ({link.agent.pin})" in own["reason"]
    # The agent sees the proxy's alert and drops the connection too.
    theirs = await link.logs.wait_for("link.refused", role="responder")
    assert theirs["stage"] == "tls"
    assert link.hellos == [] and handler.requests == []
    await until(lambda: not server.connections)
