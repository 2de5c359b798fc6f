"""Reconnecting backs off: full jitter, doubling from 0.2 s, capped; requests fail at once
meanwhile instead of each one knocking on the office's door again.

Deterministic: the jitter source is an injected rng that always draws the top of its range, so
the waits are exactly 0.2, 0.4, 0.8, ... capped; the agent's address is a real closed port;
attempts are counted at the resolver (every attempt looks the name up once) and their waits read
from the proxy's own log.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time

import pytest

from proxy.agents import AgentConnections, AgentUnavailable
from proxy.dialling import backoff_delay
from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup, closed_port
from tests.support.logs import LogCapture

HOSTNAME = "clinic.example-ddns.test"


class TopOfRange(random.Random):
    """Jitter that always waits the longest the backoff allows."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_full_jitter_draws_below_a_doubling_capped_ceiling() -> None:
    rng = random.Random(1234)
    for failures in range(1, 40):
        ceiling = min(5.0, 0.2 * 2 ** (failures - 1))
        for _ in range(50):
            assert 0.0 <= backoff_delay(failures, base=0.2, cap=5.0, rng=rng) <= ceiling
    top = [backoff_delay(n, base=0.2, cap=5.0, rng=TopOfRange()) for n in range(1, 8)]
    assert top == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    # Huge failure counts do not overflow.
    assert backoff_delay(10_000, base=0.2, cap=30.0, rng=TopOfRange()) == 30.0


async def test_attempts_back_off_up_to_the_cap_and_requests_do_not_add_attempts(
    proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    attempts: list[float] = []  # loop time of each connection attempt

    async def resolve(host: str, port: int) -> list[str]:
        attempts.append(asyncio.get_running_loop().time())
        return ["127.0.0.1"]

    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant(HOSTNAME, closed_port())})
    agents = AgentConnections(
        config, requester_id="proxy-test", resolve=resolve, backoff_cap=0.5, rng=TopOfRange()
    )
    try:
        with pytest.raises(AgentUnavailable):
            await agents.request(SUBDOMAIN, "practice.info", {})
        async with asyncio.timeout(10):
            while len(logs.records("agent.connect_failed")) < 3:
                await asyncio.sleep(0.01)

        # Backing off before the 4th attempt (0.5 s): requests fail at once, no new attempts.
        before = len(attempts)
        for _ in range(20):
            started = time.monotonic()
            with pytest.raises(AgentUnavailable):
                await agents.request(SUBDOMAIN, "practice.info", {})
            assert time.monotonic() - started < 0.1
        assert len(attempts) == before

        async with asyncio.timeout(10):
            while len(attempts) < 6:
                await asyncio.sleep(0.01)
    finally:
        await agents.close()

    waits = [r["retry_in"] for r in logs.records("agent.connect_failed", tenant=SUBDOMAIN)]
    assert waits[:5] == [0.2, 0.4, 0.5, 0.5, 0.5]  # doubling, then capped
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    for gap, wait in zip(gaps, waits, strict=False):
        assert gap >= wait - 0.01  # the proxy really waited before trying again
    assert all(r["kind"] == "refused" for r in logs.records("agent.connect_failed"))
