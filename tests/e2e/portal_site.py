"""The patient portal as a browser meets it: real agents (FixedClock, mail through aiosmtpd)
behind the real proxy, served by aiohttp on a loopback port.

Chromium resolves every ``*.localhost`` name to 127.0.0.1, so with ``portal_domain:
localhost`` the office is at ``http://example-clinic.localhost:<port>/`` with no DNS and no
certificate (DESIGN.md, "The proxy"). The port is bound before the agents start, because the
agent writes the portal's address into its emails and the test opens the emailed link as it is.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from agent.access.staff import StaffActions
from agent.clock import FixedClock
from agent.config import AgentConfig
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from protocol.aio import LinkClient
from protocol.tls import client_config
from proxy.app import create_app
from proxy.config import ProxyConfig
from tests.agent.access_fixtures import AccessPractice, config_dict, text_of
from tests.e2e.dial_out_site import (
    REPLICAS,
    assert_agents_listen_on_nothing,
    haproxy,
    haproxy_config,
    replica,
    replica_config,
    staff_acceptor,
    until_every_replica_has,
)
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, ProxySetup
from tests.support.daemons import PATIENCE
from tests.support.keys import make_keys
from tests.support.ports import free_port
from tests.support.practice import NOW, cheap_hasher
from tests.support.smtp import Received, mail_relay

OTHER_SUBDOMAIN = "other-clinic"
OTHER_NAME = "Other Town Clinic"
PHONE = "+1 555 0100"  # what ProxySetup.tenant puts in the registry for every office
# Offices that let a patient they invited sign in as soon as the account is set up.
ACCESS = {"activate_without_confirmation": True}
# One office of a site: subdomain, name, its database, its keys directory.
Office = tuple[str, str, DatabaseSettings, Path]


@dataclass
class Tenant:
    """One office: its agent (with clock, SMTP relay and staff actions) and its address."""

    subdomain: str
    name: str
    office: AccessPractice
    origin: str  # http://<subdomain>.localhost:<port>

    @property
    def host(self) -> str:
        return self.origin.removeprefix("http://")

    def url(self, path: str) -> str:
        return self.origin + path


@dataclass
class PortalSite:
    port: int
    clinic: Tenant
    other: Tenant | None

    def host(self, name: str) -> str:
        return f"{name}.localhost:{self.port}"

    @property
    def loopback(self) -> str:
        """Where a client that cannot resolve *.localhost (Playwright's API requests run in
        Node, which asks the system resolver) reaches the proxy; it sends the Host itself."""
        return f"http://127.0.0.1:{self.port}"


def emailed_link(message: Received, path: str) -> str:
    """The one link to `path` in the plain-text part of an email, exactly as written there."""
    urls = re.findall(r"https?://\S+", text_of(message))
    links = [url for url in urls if urlsplit(url).path == path]
    assert len(links) == 1, f"expected one {path} link in the email, found {urls}"
    return links[0]


@asynccontextmanager
async def running_office(
    settings: DatabaseSettings,
    keys: Path,
    *,
    subdomain: str,
    name: str,
    portal_url: str,
    now: datetime = NOW,
    access: dict[str, Any] | None = None,
    dial_out: list[str] | None = None,
    ports: set[int] | None = None,
) -> AsyncIterator[AccessPractice]:
    """tests/agent/access_fixtures.access_practice, but serving `subdomain` and mailing links
    to `portal_url` (the proxy under test) instead of the fixed :8080 address.

    With `dial_out` (the replicas' link endpoints) the agent opens no port and dials them,
    and the test's own link listener too; the ports the test itself listens on are added to
    `ports`."""
    with mail_relay() as (relay, smtp_port):
        data = config_dict(settings, keys, smtp_port, access=access)
        data["practice"].update(subdomain=subdomain, name=name)
        data["portal"]["url"] = portal_url
        agent_pin = (keys / "agent.pin").read_text()
        async with AsyncExitStack() as stack:
            if dial_out is not None:
                acceptor, arrived = await stack.enter_async_context(
                    staff_acceptor(keys, agent_pin, subdomain)
                )
                del data["listen"]
                endpoints = [*dial_out, f"127.0.0.1:{acceptor.port}"]
                data["link"] = {"mode": "dial_out", "portal": endpoints, "backoff_cap_seconds": 1}
                if ports is not None:
                    ports.update({smtp_port, acceptor.port})
            clock = FixedClock(now)
            config = AgentConfig.model_validate(data)
            agent = Agent.build(config, clock=clock, hasher=cheap_hasher())
            await agent.start(port=0)
            try:
                if dial_out is not None:
                    async with asyncio.timeout(PATIENCE):
                        client = await asyncio.shield(arrived)
                else:
                    client = await LinkClient.connect(
                        "127.0.0.1",
                        agent.server.port,
                        tls=client_config(
                            keys / "proxy" / "key.pem", keys / "proxy" / "cert.pem", [agent_pin]
                        ),
                        tenant=subdomain,
                        requester_id="e2e-staff",
                    )
                try:
                    staff = StaffActions(agent.access, "staff:e2e", agent.booking.tz)
                    yield AccessPractice(agent, client, clock, settings, relay, staff)
                finally:
                    await client.close()
            finally:
                await agent.stop(grace=5)


@asynccontextmanager
async def serving(config: ProxyConfig, listening: socket.socket) -> AsyncIterator[None]:
    """The proxy as `portico-proxy run` serves it (aiohttp's raw access log off, the app's
    own links to the agents), on an already bound socket."""
    runner = web.AppRunner(
        create_app(config), access_log=None, handle_signals=False, shutdown_timeout=2
    )
    await runner.setup()
    try:
        await web.SockSite(runner, listening).start()
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def portal_site(
    settings: DatabaseSettings,
    keys: Path,
    directory: Path,
    *,
    other_settings: DatabaseSettings | None = None,
    mode: str = "listen",
) -> AsyncIterator[PortalSite]:
    """example-clinic on `settings`; with `other_settings`, a second office (other-clinic,
    its own agent and database) behind the same proxy.

    ``mode="listen"``: one proxy dials the agents (the port-forwarding install).
    ``mode="dial_out"``: the agents dial two proxy replicas, which patients reach through
    HAProxy (tests/e2e/dial_out_site.py); the agents listen on nothing, checked."""
    offices: list[Office] = [(SUBDOMAIN, PRACTICE_NAME, settings, keys)]
    if other_settings is not None:
        offices.append(
            (OTHER_SUBDOMAIN, OTHER_NAME, other_settings, other_office_keys(keys, directory))
        )
    if mode == "dial_out":
        async with _dial_out_site(offices, keys, directory) as site:
            yield site
        return
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    port = int(listening.getsockname()[1])
    setup = ProxySetup(keys, directory)
    async with AsyncExitStack() as stack:
        stack.callback(listening.close)
        tenants = await start_offices(stack, offices, port)
        registry = {
            t.subdomain: setup.tenant(
                "127.0.0.1",
                t.office.agent.server.port,
                name=t.name,
                pins=[(office_keys / "agent.pin").read_text()],
            )
            for t, (*_, office_keys) in zip(tenants, offices, strict=True)
        }
        config = ProxyConfig.model_validate(setup.data(registry))
        await stack.enter_async_context(serving(config, listening))
        yield PortalSite(port, tenants[0], tenants[1] if len(tenants) > 1 else None)


async def start_offices(
    stack: AsyncExitStack, offices: list[Office], port: int, **options: Any
) -> list[Tenant]:
    """Each office's agent, mailing links to the portal at `port` (`options`: running_office's)."""
    tenants = []
    for subdomain, name, db, office_keys in offices:
        origin = f"http://{subdomain}.localhost:{port}"
        office = await stack.enter_async_context(
            running_office(
                db,
                office_keys,
                subdomain=subdomain,
                name=name,
                portal_url=origin,
                access=ACCESS,
                **options,
            )
        )
        tenants.append(Tenant(subdomain, name, office, origin))
    return tenants


def other_office_keys(keys: Path, directory: Path) -> Path:
    """The second office's keys: its agent's own key pair (a dial-out agent is recognised by
    its key, so two offices never share one), the same proxy key."""
    other = make_keys(directory / "other-office-keys")
    shutil.rmtree(other / "proxy")
    shutil.copytree(keys / "proxy", other / "proxy")
    shutil.copy(keys / "proxy.pin", other / "proxy.pin")
    return other


@asynccontextmanager
async def _dial_out_site(
    offices: list[Office], keys: Path, directory: Path
) -> AsyncIterator[PortalSite]:
    port = free_port()  # HAProxy's, where patients go; the agents mail links to it
    setup = ProxySetup(keys, directory)
    registry = {
        subdomain: {
            "mode": "dial_out",
            "pins": [(office_keys / "agent.pin").read_text()],
            "name": name,
            "phone": PHONE,
        }
        for subdomain, name, _, office_keys in offices
    }
    data = setup.data(registry)
    async with AsyncExitStack() as stack:
        replicas = [
            await stack.enter_async_context(
                replica(replica_config(data, free_port()), f"replica{n}")
            )
            for n in range(1, REPLICAS + 1)
        ]
        known = {p for r in replicas for p in (r.web_port, r.link_port)}
        endpoints = [f"127.0.0.1:{r.link_port}" for r in replicas]
        tenants = await start_offices(stack, offices, port, dial_out=endpoints, ports=known)
        await until_every_replica_has(replicas, [t.subdomain for t in tenants])
        assert_agents_listen_on_nothing(known)
        balancer = haproxy(haproxy_config(directory, port, [r.web_port for r in replicas]), port)
        await balancer.start()
        stack.push_async_callback(balancer.stop)
        yield PortalSite(port, tenants[0], tenants[1] if len(tenants) > 1 else None)
        # Both replicas took part (HAProxy takes turns); a test that loaded a page at all.
        pages = [sum(r.pages.values()) for r in replicas]
        assert all(pages) or sum(pages) < REPLICAS, f"pages per replica: {pages}"
