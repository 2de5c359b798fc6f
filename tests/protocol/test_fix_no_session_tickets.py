"""Issue 11, the link: "Session tickets are issued although docs/protocol.md says they are not
used: turn them off."

A stdlib `ssl` client completes a real handshake with the agent's LinkServer and exchanges
HELLO/WELCOME (TLS 1.3 tickets arrive after the handshake, before the first answer): it must
hold no ticket.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from protocol.frames import FrameType, encode_frame
from tests.protocol.link_fixtures import HOST, PATIENCE, LinkHarness
from tests.protocol.test_fix_alpn_required import stdlib_client

HELLO = encode_frame(
    FrameType.HELLO,
    0,
    0,
    json.dumps({"versions": [1], "tenant": "demo", "requester_id": "stdlib"}).encode(),
)


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


async def welcomed(port: int, context: ssl.SSLContext) -> ssl.SSLObject:
    """The client's TLS object after a HELLO/WELCOME exchange."""
    reader, writer = await asyncio.open_connection(HOST, port, ssl=context)
    try:
        writer.write(HELLO)
        header = await asyncio.wait_for(reader.readexactly(12), PATIENCE)
        assert header[1] == FrameType.WELCOME
        ssl_object: ssl.SSLObject = writer.get_extra_info("ssl_object")
        return ssl_object
    finally:
        writer.close()


async def test_no_session_ticket_is_issued(link: LinkHarness) -> None:
    server = await link.start_server()
    context = stdlib_client(link, ["portico/1"])

    ssl_object = await welcomed(server.port, context)

    assert ssl_object.version() == "TLSv1.3"
    session = ssl_object.session
    assert session is not None
    assert not session.has_ticket
    assert session.ticket_lifetime_hint == 0
