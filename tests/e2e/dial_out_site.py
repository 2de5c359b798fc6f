"""The portal as the recommended install runs it (issue 15): each office's agent dials out to
two proxy replicas, and patients reach the replicas through HAProxy. No port is open at the
office: the agents listen on nothing, which :func:`assert_agents_listen_on_nothing` checks in
the kernel's socket table rather than by asking the agents.

HAProxy's settings for the replicas (retries, redispatch, health checks) are the ``defaults
portal`` and ``backend portico_proxies`` sections of docs/haproxy.example.cfg, as written
there; only the front end differs: plain HTTP on a loopback port, because Chromium treats
``*.localhost`` as a secure context (DESIGN.md, "The proxy") and the browser tests need no
certificate. The 443 front end itself is tested in tests/proxy/faults/.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from protocol.aio import LinkAcceptor, LinkClient
from protocol.tls import server_config
from proxy.agents import AgentConnections
from proxy.app import create_app
from proxy.config import ProxyConfig
from tests.proxy.faults.replicas import haproxy as haproxy
from tests.support.daemons import PATIENCE
from tests.support.sockets import listening_ports

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "haproxy.example.cfg"
REPLICAS = 2


def example_section(header: str) -> str:
    """One top-level section of docs/haproxy.example.cfg (``header`` is its first line),
    comments left out."""
    text = EXAMPLE.read_text()
    match = re.search(rf"^{re.escape(header)}\n((?:[ \t]+.*\n|[ \t]*#.*\n|\n)*)", text, re.M)
    assert match, f"{EXAMPLE.name} has no section {header!r}"
    body = [line for line in match.group(1).splitlines() if line.strip() and "#" not in line[:1]]
    body = [line for line in body if not line.lstrip().startswith("#")]
    return "\n".join([header, *body]) + "\n"


def haproxy_config(directory: Path, port: int, replicas: list[int]) -> Path:
    backend = example_section("backend portico_proxies")
    servers = re.findall(r"^ +server \S+ \S+$", backend, flags=re.MULTILINE)
    assert len(servers) == len(replicas), f"{EXAMPLE.name}: {len(servers)} server lines"
    for number, (line, replica) in enumerate(zip(servers, replicas, strict=True), start=1):
        backend = backend.replace(line, f"    server proxy{number} 127.0.0.1:{replica}")
    front = f"frontend portal\n    bind 127.0.0.1:{port}\n    default_backend portico_proxies\n"
    path = directory / "haproxy-e2e.cfg"
    path.write_text("\n".join([example_section("defaults portal"), front, backend]))
    return path


@dataclass
class Replica:
    """One proxy replica in this process: its app's links, its web and link ports."""

    agents: AgentConnections
    web_port: int
    link_port: int
    pages: Counter[int] = field(default_factory=Counter)  # responses by status


@asynccontextmanager
async def replica(config: ProxyConfig, name: str) -> AsyncIterator[Replica]:
    agents = AgentConnections(config, requester_id=f"portico-proxy/{name}")
    await agents.start()
    try:
        app = create_app(config, agents=agents)
        served = Replica(agents, 0, config.link.listen.port if config.link.listen else 0)

        async def count(request: web.Request, response: web.StreamResponse) -> None:
            served.pages[response.status] += 1

        app.on_response_prepare.append(count)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2)
        await runner.setup()
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.bind(("127.0.0.1", 0))
        served.web_port = int(listening.getsockname()[1])
        try:
            await web.SockSite(runner, listening).start()
            yield served
        finally:
            await runner.cleanup()
            listening.close()
    finally:
        await agents.close()


def replica_config(data: dict[str, Any], link_port: int) -> ProxyConfig:
    data = {**data, "link": {**data["link"], "listen": {"host": "127.0.0.1", "port": link_port}}}
    data["trusted_proxies"] = ["127.0.0.1/32"]  # HAProxy: its X-Forwarded-For is believed
    return ProxyConfig.model_validate(data)


@asynccontextmanager
async def staff_acceptor(
    keys: Path, agent_pin: str, subdomain: str
) -> AsyncIterator[tuple[LinkAcceptor, asyncio.Future[LinkClient]]]:
    """Where the test's own requests come from: a link listener the agent dials as well, so
    the test talks to an agent that has no port of its own."""
    arrived: asyncio.Future[LinkClient] = asyncio.get_running_loop().create_future()
    links: list[LinkClient] = []

    def on_link(tenant: str, client: LinkClient) -> None:
        links.append(client)
        if not arrived.done():
            arrived.set_result(client)

    acceptor = LinkAcceptor(
        server_config(keys / "proxy" / "key.pem", keys / "proxy" / "cert.pem", [agent_pin]),
        tenant_of=lambda pin: subdomain if pin == agent_pin else None,
        on_link=on_link,
        requester_id="e2e-staff",
    )
    await acceptor.start("127.0.0.1", 0)
    try:
        yield acceptor, arrived
    finally:
        for client in links:
            await client.close()
        await acceptor.close()


async def until_every_replica_has(replicas: list[Replica], tenants: list[str]) -> None:
    """The agents have dialled in to every replica (pages would otherwise wait for them)."""

    def connected() -> bool:
        return all(
            r.agents.link_states()[t].state == "connected" for r in replicas for t in tenants
        )

    async with asyncio.timeout(PATIENCE):
        while not connected():
            await asyncio.sleep(0.02)


def assert_agents_listen_on_nothing(known: set[int]) -> None:
    """Every port this process listens on is one the test opened for a proxy replica, the
    test's own link listeners or the SMTP relays: the agents added none."""
    extra = listening_ports() - known
    assert not extra, f"something in the test process listens on {sorted(extra)}: an agent?"
