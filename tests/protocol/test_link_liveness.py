"""PINGs keep a quiet link alive; a peer that stops answering is declared dead
(docs/protocol.md §8)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from protocol.aio import RemoteError
from tests.protocol.link_fixtures import PATIENCE, SHORT, LinkHarness, until


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


async def test_quiet_healthy_link_survives_many_idle_timeouts(link: LinkHarness) -> None:
    # Only the agent has short timers: the client never pings on its own, so the agent's
    # PINGs, and the client's PONGs to them, are the only traffic keeping the link up.
    server = await link.start_server(timeouts=SHORT)
    client = await link.connect(server)
    loop = asyncio.get_running_loop()
    assert await client.request("before") == {"method": "before", "params": {}}

    await asyncio.sleep(3 * SHORT.idle)

    assert link.logs.records("link.dead") == []
    assert len(server.connections) == 1
    assert client.is_usable
    # The agent has been pinging: the client heard from it within the last ping round.
    assert loop.time() - client._connection._last_received < SHORT.idle
    assert await client.request("after") == {"method": "after", "params": {}}


async def test_peer_that_stops_answering_is_declared_dead(link: LinkHarness) -> None:
    server = await link.start_server(timeouts=SHORT)
    client = await link.connect(server)
    assert await client.request("hello") == {"method": "hello", "params": {}}
    [connection] = server.connections

    # The client's process is alive but stuck: it reads nothing, so it answers no PING.
    assert client._connection.transport is not None
    client._connection.transport.pause_reading()
    await asyncio.wait_for(connection.closed, SHORT.idle + PATIENCE)

    dead = link.logs.records("link.dead", role="responder")
    assert len(dead) == 1
    assert dead[0]["silent_seconds"] >= SHORT.idle
    assert server.connections == set()

    # Once it reads again it learns why (GOAWAY timeout) and that the link is gone.
    client._connection.transport.resume_reading()
    goaway = await link.logs.wait_for("link.peer_going_away", role="requester")
    assert goaway["code"] == "timeout"
    await until(lambda: not client.is_usable)
    with pytest.raises(RemoteError) as refused:
        await client.request("too late")
    assert refused.value.retryable
