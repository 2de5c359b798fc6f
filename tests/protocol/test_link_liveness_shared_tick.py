"""Many links on one event loop are kept alive by one shared tick (issue 14: no timer per
link): quiet links are still PINGed, a silent one is still declared dead, alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from protocol.liveness import LivenessTick, liveness_tick
from tests.protocol.link_fixtures import PATIENCE, SHORT, LinkHarness

INTERVAL = min(SHORT.ping_interval, SHORT.idle) / 3  # what a link with SHORT timeouts uses


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


async def test_one_tick_pings_the_quiet_links_and_finds_the_silent_one(link: LinkHarness) -> None:
    server = await link.start_server(timeouts=SHORT)
    clients = [await link.connect(server) for _ in range(3)]
    for n, client in enumerate(clients):
        assert await client.request("hello", {"n": n}) == {"method": "hello", "params": {"n": n}}
    tick = liveness_tick(asyncio.get_running_loop(), INTERVAL)
    assert len(tick) == 3  # the agent's three connections, on one timer

    # One proxy is stuck: it reads nothing, so it answers no PING.
    stuck = clients[0]._connection
    assert stuck.transport is not None
    stuck.transport.pause_reading()
    sockname = stuck.transport.get_extra_info("sockname")
    [stuck_here] = [c for c in server.connections if c.peer == f"{sockname[0]}:{sockname[1]}"]
    await asyncio.wait_for(stuck_here.closed, SHORT.idle + PATIENCE)

    # The other two were just as quiet for longer than the idle timeout: only the PINGs the
    # tick sent kept them up.
    dead = link.logs.records("link.dead", role="responder")
    assert len(dead) == 1
    assert len(server.connections) == 2 and len(tick) == 2
    for client in clients[1:]:
        assert client.is_usable
        assert await client.request("after") == {"method": "after", "params": {}}
    stuck.transport.resume_reading()


class Member:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.checked = asyncio.Event()
        self.times: list[float] = []

    def check_liveness(self, now: float) -> None:
        self.times.append(now)
        self.checked.set()
        if self.fails:
            raise RuntimeError("a bug in one link's check")


async def test_a_check_that_fails_does_not_stop_the_others() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        tick = LivenessTick(loop, 0.01)
        broken, healthy = Member(fails=True), Member()
        tick.add(broken)
        tick.add(healthy)
        for _ in range(2):  # two ticks: the failure did not end the timer either
            healthy.checked.clear()
            await asyncio.wait_for(healthy.checked.wait(), PATIENCE)
        assert len(broken.times) >= 2
        assert isinstance(reported[0]["exception"], RuntimeError)

        tick.discard(broken)
        tick.discard(healthy)
        assert len(tick) == 0 and tick._timer is None  # no links, no timer
    finally:
        loop.set_exception_handler(None)
