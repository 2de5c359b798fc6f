"""Many requests share one connection; the agent answers them in any order, each to its caller."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import Request
from tests.protocol.link_fixtures import PATIENCE, LinkHarness


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


async def test_a_thousand_concurrent_requests_each_get_their_own_answer(link: LinkHarness) -> None:
    rng = random.Random(20240611)
    arrived: list[int] = []
    finished: list[int] = []
    in_flight = 0
    most_in_flight = 0

    async def handler(request: Request) -> Any:
        nonlocal in_flight, most_in_flight
        i = request.params["i"]
        arrived.append(i)
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(rng.uniform(0, 0.005))
        in_flight -= 1
        finished.append(i)
        return {"i": i, "square": i * i, "tag": request.params["tag"]}

    server = await link.start_server(handler)
    client = await link.connect(server)

    calls = [client.request("square", {"i": i, "tag": f"t{i:04d}"}) for i in range(1000)]
    results = await asyncio.wait_for(asyncio.gather(*calls), PATIENCE)

    assert results == [{"i": i, "square": i * i, "tag": f"t{i:04d}"} for i in range(1000)]
    assert len(link.hellos) == 1  # one HELLO: one connection carried all of them
    assert len(server.connections) == 1
    assert sorted(arrived) == list(range(1000))
    assert finished != arrived  # they really were answered out of order
    # Concurrent at the agent, yet never beyond its stream limit (the client queues the rest).
    assert 1 < most_in_flight <= client.welcome.limits.max_streams
    assert client.is_usable


async def test_later_requests_may_finish_first(link: LinkHarness) -> None:
    count = 20
    done = [asyncio.Event() for _ in range(count)]

    async def handler(request: Request) -> Any:
        # Request i waits for request i+1: the last one sent is answered first.
        i = request.params["i"]
        if i + 1 < count:
            await done[i + 1].wait()
        done[i].set()
        return {"i": i}

    server = await link.start_server(handler)
    client = await link.connect(server)

    order: list[int] = []

    async def call(i: int) -> Any:
        result = await client.request("chain", {"i": i})
        order.append(i)
        return result

    results = await asyncio.wait_for(asyncio.gather(*(call(i) for i in range(count))), PATIENCE)

    assert results == [{"i": i} for i in range(count)]
    assert order == list(reversed(range(count)))
