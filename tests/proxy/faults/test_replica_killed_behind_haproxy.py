"""Two proxy replicas behind HAProxy (docs/haproxy.example.cfg); one is SIGKILLed while signed-in
patients keep loading pages. The patients keep getting their pages, still signed in, from the
other replica: the proxy keeps no state, the session cookie is the agent's token."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from agent.db.pool import DatabaseSettings
from proxy.security import SESSION_COOKIE
from tests.proxy.faults.replicas import (
    HOST,
    haproxy,
    loopback_haproxy,
    pages_served,
    proxy_yaml,
    retries,
)
from tests.support.daemons import PATIENCE, Daemon
from tests.support.ports import free_port
from tests.support.practice import running_practice

PATIENTS = 8  # each a browser of its own, loading page after page
BEFORE_KILL = 40  # pages each replica serves before one dies
AFTER_KILL = 300  # pages the patients load after it died
AFTER_KILL_SECONDS = 5.0  # and at least this long: HAProxy's health check marks it down in ~4 s


class Patients:
    """Signed-in patients loading /appointments through HAProxy until told to stop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.served = 0
        self.failures: Counter[str] = Counter()
        self.stop = asyncio.Event()

    async def browse(self, session: str) -> None:
        headers = {"Host": HOST, "Cookie": f"{SESSION_COOKIE}={session}"}
        timeout = aiohttp.ClientTimeout(total=PATIENCE)
        # One connection pool per patient, as each patient has a browser of their own; the
        # certificate is this test's own (self-signed).
        connector = aiohttp.TCPConnector(ssl=False)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            while not self.stop.is_set():
                self._count(await self._page(http, headers))

    async def _page(self, http: aiohttp.ClientSession, headers: dict[str, str]) -> str:
        try:
            async with http.get(self.url, headers=headers, allow_redirects=False) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__
        if response.status != 200:
            return f"HTTP {response.status}"
        return "ok" if "My appointments" in text else "not signed in"

    def _count(self, outcome: str) -> None:
        if outcome == "ok":
            self.served += 1
        else:
            self.failures[outcome] += 1

    async def until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(PATIENCE):
            while not done():
                await asyncio.sleep(0.05)


async def test_patients_keep_their_pages_when_a_replica_is_killed(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice, AsyncExitStack() as stack:
        ports = [free_port(), free_port()]
        replicas = [
            Daemon.proxy(
                proxy_yaml(
                    tmp_path,
                    link_keys,
                    port,
                    practice.agent.server.port,
                    name=f"proxy{number}",
                    behind_tls=True,
                ),
                port,
            )
            for number, port in enumerate(ports, start=1)
        ]
        https, http = free_port(), free_port()
        config = loopback_haproxy(tmp_path, https, http, ports)
        balancer = haproxy(config, https)
        for daemon in (*replicas, balancer):
            await daemon.start()
            stack.push_async_callback(daemon.stop)

        patients = Patients(f"https://127.0.0.1:{https}/appointments")
        sessions = [practice.session_for(p) for p in range(1, PATIENTS + 1)]
        browsing = asyncio.gather(*(patients.browse(s) for s in sessions))
        try:
            await patients.until(lambda: min(map(pages_served, replicas)) >= BEFORE_KILL)
            before = patients.served
            await replicas[0].kill()  # mid-load: HAProxy keeps sending it every other page
            killed_at, served_by_dead = time.monotonic(), pages_served(replicas[0])
            await patients.until(
                lambda: (
                    patients.served - before >= AFTER_KILL
                    and time.monotonic() - killed_at >= AFTER_KILL_SECONDS
                )
            )
            elapsed = time.monotonic() - killed_at
        finally:
            patients.stop.set()
            await browsing
        failover = await retries(config, "proxy1")

    after = patients.served - before
    by_replica = [served_by_dead, pages_served(replicas[1])]
    print(
        f"\nreplica killed behind HAProxy: {PATIENTS} signed-in patients loaded"
        f" {patients.served} pages ({before} before the SIGKILL, {after} in the"
        f" {elapsed:.1f} s after); served by proxy1 {by_replica[0]},"
        f" proxy2 {by_replica[1]}; HAProxy sent {failover['redispatched']} requests meant for"
        f" the dead one to the other ({failover['retried']} retries);"
        f" failed pages: {sum(patients.failures.values())} {dict(patients.failures)}"
    )
    assert patients.failures == Counter(), patients.failures
    assert failover["redispatched"] > 0, "no request met the dead replica: not a failover test"
    assert by_replica[1] >= BEFORE_KILL + AFTER_KILL  # the survivor served everyone after
