"""Security review of issue 11's link fixes:

> the agent's GOAWAY drain now waits for split requests to finish — is that wait bounded (a
> requester that never sends the rest)?

At shutdown it was (the 20 s grace), but not when a reload withdraws a proxy's pin: the
connection then stayed open for as long as the withdrawn proxy kept its split request
unfinished (answering PINGs keeps it alive), and a request begun before the withdrawal could
be completed, and served, at any later time. After its GOAWAY the agent now waits at most
`Timeouts.drain` for the rest, then closes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from protocol.frames import FrameType, encode_frame, encode_message
from protocol.transport import DEFAULT_TIMEOUTS
from tests.protocol.link_fixtures import HOST, PATIENCE, LinkHarness, until
from tests.protocol.raw_link import RawLink, body

DRAIN = 0.5


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


async def test_a_withdrawn_proxy_cannot_hold_the_link_with_an_unfinished_request(
    link: LinkHarness,
) -> None:
    server = await link.start_server(timeouts=replace(DEFAULT_TIMEOUTS, drain=DRAIN))
    raw = await RawLink.open(HOST, server.port, link.client_tls())
    try:
        assert (await raw.hello("demo")).type is FrameType.WELCOME
        request = {"method": "echo", "params": {}, "pad": "p" * 200_000}
        first, *_rest = encode_message(FrameType.REQUEST, 1, json.dumps(request).encode(), 65536)
        raw.send(first + encode_frame(FrameType.PING, 0, 0, b"in-order"))
        assert (await raw.next_frame()).type is FrameType.PONG  # the agent has the first frame

        server.reconfigure(
            tls=server.tls.with_allowed_pins([link.stranger.pin]), allowed_networks=None
        )
        goaway = await raw.next_frame()
        assert (goaway.type, body(goaway)["last_stream_id"]) == (FrameType.GOAWAY, 1)

        async def keep_alive() -> None:  # a live peer, just never finishing the request
            while True:
                raw.send(encode_frame(FrameType.PING, 0, 0, b"still-in"))
                await asyncio.sleep(DRAIN / 5)

        pinging = asyncio.create_task(keep_alive())
        try:
            async with asyncio.timeout(PATIENCE + DRAIN):
                await until(lambda: not server.connections)
        finally:
            pinging.cancel()
    finally:
        raw.close()
