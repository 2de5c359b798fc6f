"""LinkClient.close(grace): a link being closed on purpose (the proxy retiring it after a
reload) first lets the requests already on it be answered, for up to `grace` seconds; only
then does it say GOAWAY and close. Without a grace period it closes at once, as before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import RemoteError, Request
from tests.protocol.link_fixtures import PATIENCE, LinkHarness


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


class Gate:
    """A handler that answers once the test opens the gate."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.open = asyncio.Event()

    async def __call__(self, request: Request) -> Any:
        self.started.set()
        await self.open.wait()
        return f"answered {request.method}"


async def test_requests_in_flight_are_answered_before_the_link_closes(link: LinkHarness) -> None:
    gate = Gate()
    client = await link.connect(await link.start_server(gate))
    call = asyncio.create_task(client.request("slow"))
    await asyncio.wait_for(gate.started.wait(), PATIENCE)

    closing = asyncio.create_task(client.close(grace=PATIENCE))
    await asyncio.sleep(0.2)
    assert not closing.done()  # still waiting for the answer
    assert client.is_usable

    gate.open.set()
    assert await asyncio.wait_for(call, PATIENCE) == "answered slow"
    assert await asyncio.wait_for(closing, PATIENCE) is True
    assert not client.is_usable


async def test_a_request_still_unanswered_after_the_grace_period_is_cut_off(
    link: LinkHarness,
) -> None:
    gate = Gate()
    client = await link.connect(await link.start_server(gate))
    call = asyncio.create_task(client.request("stuck"))
    await asyncio.wait_for(gate.started.wait(), PATIENCE)

    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await asyncio.wait_for(client.close(grace=0.3), PATIENCE) is False
    assert loop.time() - started >= 0.3

    with pytest.raises(RemoteError) as cut_off:
        await asyncio.wait_for(call, PATIENCE)
    assert cut_off.value.code == "unavailable"


async def test_without_a_grace_period_close_does_not_wait(link: LinkHarness) -> None:
    gate = Gate()
    client = await link.connect(await link.start_server(gate))
    call = asyncio.create_task(client.request("stuck"))
    await asyncio.wait_for(gate.started.wait(), PATIENCE)

    assert await asyncio.wait_for(client.close(), 1.0) is False
    with pytest.raises(RemoteError):
        await asyncio.wait_for(call, PATIENCE)


async def test_an_idle_link_closes_at_once_whatever_the_grace(link: LinkHarness) -> None:
    client = await link.connect(await link.start_server())
    assert await client.request("ping") == {"method": "ping", "params": {}}

    assert await asyncio.wait_for(client.close(grace=60), 1.0) is True
    assert not client.is_usable
