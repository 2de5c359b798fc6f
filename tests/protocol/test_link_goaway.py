"""LinkServer.close() is graceful: GOAWAY, in-flight requests finish, new ones get `shutdown`
(docs/protocol.md §9)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import LinkRefused, RemoteError, Request
from tests.protocol.link_fixtures import PATIENCE, LinkHarness, until


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


async def test_close_lets_in_flight_requests_finish_and_refuses_new_ones(
    link: LinkHarness,
) -> None:
    release = asyncio.Event()
    waiting: list[int] = []
    served: list[str] = []

    async def handler(request: Request) -> Any:
        served.append(request.method)
        if request.method == "slow":
            waiting.append(request.params["i"])
            await release.wait()
            return {"finished": request.params["i"]}
        return "fast"

    server = await link.start_server(handler)
    client = await link.connect(server)
    port = server.port
    in_flight = [asyncio.create_task(client.request("slow", {"i": i})) for i in range(3)]
    await until(lambda: len(waiting) == 3)

    closing = asyncio.create_task(server.close(grace=5))
    await asyncio.sleep(0)  # close() has now written its GOAWAY; the client has not read it
    racing = asyncio.create_task(client.request("raced-the-goaway"))
    await until(lambda: not client.is_usable)  # the client has read the GOAWAY
    with pytest.raises(RemoteError) as after:
        await client.request("after-the-goaway")
    with pytest.raises(RemoteError) as raced:
        await asyncio.wait_for(racing, PATIENCE)

    for error in (after.value, raced.value):
        assert error.code == "shutdown"
        assert error.retryable
    assert not any(task.done() for task in in_flight)  # still running, not failed
    assert not closing.done()

    release.set()
    results = await asyncio.wait_for(asyncio.gather(*in_flight), PATIENCE)

    assert results == [{"finished": i} for i in range(3)]
    await asyncio.wait_for(closing, PATIENCE)
    assert served == ["slow"] * 3  # neither late request reached a handler
    assert server.connections == set()
    await until(lambda: client._connection.closed.done())  # the agent closed the link
    assert not client.is_usable
    with pytest.raises(LinkRefused):  # and stopped listening
        await link.connect(port)


async def test_close_cancels_requests_that_outlive_the_grace_period(link: LinkHarness) -> None:
    cancelled = asyncio.Event()

    async def handler(request: Request) -> Any:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = await link.start_server(handler)
    client = await link.connect(server)
    stuck = asyncio.create_task(client.request("stuck"))
    await until(lambda: any(c.tasks for c in server.connections))

    await asyncio.wait_for(server.close(grace=0.2), PATIENCE)

    assert cancelled.is_set()
    with pytest.raises(RemoteError) as lost:
        await asyncio.wait_for(stuck, PATIENCE)
    assert lost.value.code == "unavailable"  # the link dropped with it unanswered (§9)
    assert lost.value.retryable
    assert not client.is_usable
