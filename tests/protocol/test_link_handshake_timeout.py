"""The handshake (TLS + HELLO/WELCOME) must finish within the handshake timeout, and the agent
may refuse a HELLO (docs/protocol.md §2, §7)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import LinkClient, LinkError, LinkRefused, Request
from protocol.events import HelloReceived
from protocol.transport import Timeouts
from tests.protocol.link_fixtures import (
    HOST,
    PATIENCE,
    SHORT,
    LinkHarness,
    SilentRequester,
    read_until_closed,
)


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


async def never_called(request: Request) -> Any:
    raise AssertionError(f"handler called for {request.method}")


async def test_peer_that_sends_nothing_is_closed_after_the_handshake_timeout(
    link: LinkHarness,
) -> None:
    server = await link.start_server(never_called, timeouts=SHORT)
    loop = asyncio.get_running_loop()

    reader, writer = await asyncio.open_connection(HOST, server.port)
    opened = loop.time()
    try:
        assert await read_until_closed(reader) == b""
    finally:
        writer.close()
    waited = loop.time() - opened

    # Not before the timeout (timers may fire up to a clock tick early), and not much after.
    assert SHORT.handshake - 0.05 <= waited < SHORT.handshake + PATIENCE
    refusal = await link.logs.wait_for("link.refused", stage="handshake")
    assert refusal["reason"] == "handshake timed out"


async def test_peer_that_completes_tls_but_never_says_hello_is_dropped(link: LinkHarness) -> None:
    server = await link.start_server(never_called, timeouts=SHORT)
    loop = asyncio.get_running_loop()

    peer = SilentRequester(link.client_tls())
    await loop.create_connection(lambda: peer, HOST, server.port)
    await asyncio.wait_for(peer.closed, PATIENCE)

    assert peer.engine.handshake_complete  # TLS itself succeeded: only HELLO was missing
    assert peer.events == []  # closed without a GOAWAY (§2: "TCP closed, no GOAWAY")
    refusal = await link.logs.wait_for("link.refused", role="responder", stage="handshake")
    assert refusal["peer_pin"] == link.proxy.pin
    assert link.hellos == []


async def test_client_gives_up_on_an_agent_that_never_answers(link: LinkHarness) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def mute(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    mute_server = await asyncio.start_server(mute, HOST, 0)
    port = mute_server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(LinkRefused, match="timed out"):
            await asyncio.wait_for(
                LinkClient.connect(
                    HOST,
                    port,
                    tls=link.client_tls(),
                    tenant="demo",
                    requester_id="proxy-test",
                    timeouts=Timeouts(handshake=SHORT.handshake),
                ),
                PATIENCE,
            )
    finally:
        for writer in accepted:
            writer.close()
        mute_server.close()
        with contextlib.suppress(Exception):
            await mute_server.wait_closed()


async def test_hello_refused_by_the_agent_makes_connect_raise(link: LinkHarness) -> None:
    def refuse(hello: HelloReceived) -> dict[str, Any]:
        raise LinkError("forbidden", f"this agent does not serve {hello.tenant!r}")

    server = await link.start_server(never_called, on_hello=refuse)

    with pytest.raises(LinkRefused) as refused:
        await link.connect(server)

    assert "forbidden" in refused.value.reason
    refusal = await link.logs.wait_for("link.refused", role="responder", stage="hello")
    assert refusal["tenant"] == "demo"
    assert refusal["code"] == "forbidden"
    # docs/protocol.md §2: every refusal is logged "with stage and reason".
    assert refusal.get("reason")
