"""The patient portal as a browser meets it: real agents (FixedClock, mail through aiosmtpd)
behind the real proxy, served by aiohttp on a loopback port.

Chromium resolves every ``*.localhost`` name to 127.0.0.1, so with ``portal_domain:
localhost`` the office is at ``http://example-clinic.localhost:<port>/`` with no DNS and no
certificate (DESIGN.md, "The proxy"). The port is bound before the agents start, because the
agent writes the portal's address into its emails and the test opens the emailed link as it is.
"""

from __future__ import annotations

import re
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
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, ProxySetup
from tests.support.practice import NOW, cheap_hasher
from tests.support.smtp import Received, mail_relay

OTHER_SUBDOMAIN = "other-clinic"
OTHER_NAME = "Other Town Clinic"
PHONE = "+1 555 0100"  # what ProxySetup.tenant puts in the registry for every office
# Offices that let a patient they invited sign in as soon as the account is set up.
ACCESS = {"activate_without_confirmation": True}


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
) -> AsyncIterator[AccessPractice]:
    """tests/agent/access_fixtures.access_practice, but serving `subdomain` and mailing links
    to `portal_url` (the proxy under test) instead of the fixed :8080 address."""
    with mail_relay() as (relay, smtp_port):
        data = config_dict(settings, keys, smtp_port, access=access)
        data["practice"].update(subdomain=subdomain, name=name)
        data["portal"]["url"] = portal_url
        clock = FixedClock(now)
        agent = Agent.build(AgentConfig.model_validate(data), clock=clock, hasher=cheap_hasher())
        await agent.start(port=0)
        try:
            client = await LinkClient.connect(
                "127.0.0.1",
                agent.server.port,
                tls=client_config(
                    keys / "proxy" / "key.pem",
                    keys / "proxy" / "cert.pem",
                    [(keys / "agent.pin").read_text()],
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
) -> AsyncIterator[PortalSite]:
    """example-clinic on `settings`; with `other_settings`, a second office (other-clinic,
    its own agent and database) behind the same proxy."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    port = int(listening.getsockname()[1])
    setup = ProxySetup(keys, directory)
    async with AsyncExitStack() as stack:
        stack.callback(listening.close)
        tenants: list[Tenant] = []
        offices = [(SUBDOMAIN, PRACTICE_NAME, settings)]
        if other_settings is not None:
            offices.append((OTHER_SUBDOMAIN, OTHER_NAME, other_settings))
        for subdomain, name, db in offices:
            origin = f"http://{subdomain}.localhost:{port}"
            office = await stack.enter_async_context(
                running_office(
                    db, keys, subdomain=subdomain, name=name, portal_url=origin, access=ACCESS
                )
            )
            tenants.append(Tenant(subdomain, name, office, origin))
        registry = {
            t.subdomain: setup.tenant("127.0.0.1", t.office.agent.server.port, name=t.name)
            for t in tenants
        }
        config = ProxyConfig.model_validate(setup.data(registry))
        await stack.enter_async_context(serving(config, listening))
        yield PortalSite(port, tenants[0], tenants[1] if len(tenants) > 1 else None)
