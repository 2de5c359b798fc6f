"""The office whose firewall lets out nothing but port 443 (issue 15): its agent, a process of
its own listening on nothing, dials one address, HAProxy's 443, which routes ALPN ``portico/1``
to the replicas' link listeners (docs/haproxy.example.cfg). With ``links_per_address: 2`` it
ends up with one link to each of the two replicas behind that one address (a link landing on
a replica it already has is closed and dialled again), so whichever replica the balancer
gives a patient, the page is served."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from agent.db.pool import DatabaseSettings
from proxy.security import SESSION_COOKIE
from tests.proxy.faults.replicas import (
    HOST,
    dial_out_agent,
    dial_out_replicas,
    haproxy,
    loopback_haproxy,
    pages_served,
    until_replicas_up,
)
from tests.support.daemons import PATIENCE
from tests.support.database import connect
from tests.support.ports import free_port
from tests.support.practice import SmallPractice, signed_in_session
from tests.support.sockets import listening_ports


async def test_an_agent_allowed_only_port_443_links_to_every_replica_through_haproxy(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    replicas, web, links = dial_out_replicas(tmp_path, link_keys, 2)
    https, http = free_port(), free_port()
    config = loopback_haproxy(tmp_path, https, http, web, links=links)
    balancer = haproxy(config, https)
    agent = dial_out_agent(
        tmp_path, practice_db, link_keys, [f"127.0.0.1:{https}"], 1, links_per_address=2
    )
    async with AsyncExitStack() as stack:
        for daemon in (*replicas, balancer, agent):
            await daemon.start()
            stack.push_async_callback(daemon.stop)

        def replicas_linked() -> set[str]:
            return {r["requester_id"] for r in agent.events("agent.dial_out.connected")}

        async with asyncio.timeout(PATIENCE):
            while len(replicas_linked()) < 2:
                await asyncio.sleep(0.05)
        assert listening_ports(agent.pid) == set()
        # Both replicas hold the office's link: each logged the agent dialling in.
        for replica in replicas:
            await replica.wait_for_log("agent.dialled_in")
        # Warmed up (the office is back on both), HAProxy's health checks let patients in.
        await until_replicas_up(config, len(replicas))

        practice = SmallPractice(practice_db)
        patient = practice.patient(1)
        now = datetime.now(UTC).replace(tzinfo=None)
        session = signed_in_session(
            connect(practice_db, dict_rows=True), practice.email_of(patient), patient, now
        )
        headers = {"Host": HOST, "Cookie": f"{SESSION_COOKIE}={session}"}
        connector = aiohttp.TCPConnector(ssl=False, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http_client:
            for _ in range(6):  # HAProxy takes turns: both replicas serve pages
                url = f"https://127.0.0.1:{https}/appointments"
                async with http_client.get(url, headers=headers) as response:
                    assert response.status == 200
                    assert "My appointments" in await response.text()
    assert all(pages_served(replica) >= 1 for replica in replicas)
    duplicates = [r for r in agent.events("agent.dial_out.failed") if r.get("kind") == "duplicate"]
    print(
        f"\n443 only: the agent linked to {len(replicas_linked())} replicas through one"
        f" address after {len(duplicates)} link(s) landed on a replica it already had;"
        f" pages served per replica {[pages_served(r) for r in replicas]}"
    )
