"""Port 443 of docs/haproxy.example.cfg carries both patients' HTTPS and the offices' links
(issue 15: an office whose firewall allows only outbound 443).

HAProxy reads the ClientHello's ALPN and nothing else: `portico/1` goes to a link listener with
TLS untouched (each end sees the other's own pinned key, which HAProxy does not have), anything
else to its HTTPS frontend, whose X-Forwarded-For still names the patient. The HAProxy here is
the real one, running the documented file with loopback addresses."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from agent.db.pool import DatabaseSettings
from protocol.aio import LinkAcceptor, LinkClient, LinkRefused, LinkServer, Request
from protocol.tls import client_config, server_config
from proxy.security import SESSION_COOKIE
from tests.protocol.link_fixtures import HOST, PRACTICE, LinkHarness, until
from tests.proxy.faults import replicas
from tests.proxy.faults.replicas import (
    EXAMPLE,
    check,
    haproxy,
    loopback_haproxy,
    proxy_yaml,
)
from tests.support.daemons import PATIENCE, Daemon
from tests.support.ports import free_port
from tests.support.practice import running_practice

TENANT = "demo"
PORTAL_HOST = replicas.HOST  # the office's subdomain under the test's portal domain
# A patient's own address, as HAProxy sees it: any 127.x address is this machine on Linux, and
# one other than 127.0.0.1 (HAProxy's own) shows whose address X-Forwarded-For carries.
PATIENT_ADDRESS = "127.0.0.2"


class Replica:
    """A proxy replica's link listener: the links its offices dialled, by office."""

    def __init__(self, link: LinkHarness) -> None:
        self.links: list[tuple[str, LinkClient]] = []
        self.acceptor = LinkAcceptor(
            server_config(link.proxy.key_file, link.proxy.cert_file, [link.agent.pin]),
            tenant_of={link.agent.pin: TENANT}.get,
            on_link=lambda tenant, client: self.links.append((tenant, client)),
            requester_id="replica-1",
        )


async def whoami(request: Request) -> Any:
    """What the agent's end knows about the requester: the pin its TLS session verified."""
    return {"method": request.method, "peer_pin": request.peer_pin}


def office(link: LinkHarness, *, me: str = "agent") -> LinkServer:
    """An agent in dial-out mode: TLS client, link responder."""
    identity = link.agent if me == "agent" else link.stranger
    return LinkServer(
        whoami,
        tls=client_config(identity.key_file, identity.cert_file, [link.proxy.pin]),
        on_hello=lambda hello: PRACTICE,
        agent_version="0.1-test",
    )


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path / "identities") as harness:
        yield harness


async def test_a_link_through_port_443_is_tls_end_to_end(link: LinkHarness, tmp_path: Path) -> None:
    replica = Replica(link)
    await replica.acceptor.start(HOST, 0)
    https, http = free_port(), free_port()
    config = loopback_haproxy(tmp_path, https, http, [free_port()], links=[replica.acceptor.port])
    balancer = haproxy(config, https)
    agent = office(link)
    await balancer.start()
    try:
        dialled = await agent.dial(HOST, https)
        await until(lambda: bool(replica.links))
        tenant, client = replica.links[0]
        # Each end verified the other's own key: HAProxy, which holds neither, only relayed.
        assert dialled.peer_pin == link.proxy.pin
        assert (tenant, client.peer_pin) == (TENANT, link.agent.pin)
        answer = await client.request("whoami", {})
        assert answer == {"method": "whoami", "peer_pin": link.proxy.pin}

        # The replica, not HAProxy, refuses a key it does not know, in the TLS handshake.
        with pytest.raises(LinkRefused):
            await office(link, me="stranger").dial(HOST, https)
        await until(lambda: bool(link.logs.records("link.refused", stage="tls")))
        assert len(replica.links) == 1
    finally:
        await agent.close(grace=1)
        for _, client in replica.links:
            await client.close()
        await replica.acceptor.close()
        await balancer.stop()


def _tls_to(port: int, alpn: list[str] | None) -> tuple[str | None, bytes]:
    """A browser's TLS handshake with port 443: the ALPN HAProxy chose and its certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # this test's own self-signed portal certificate
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    with (
        socket.create_connection((HOST, port), timeout=PATIENCE) as raw,
        context.wrap_socket(raw, server_hostname=PORTAL_HOST) as tls,
    ):
        certificate = tls.getpeercert(binary_form=True)
        assert certificate is not None
        return tls.selected_alpn_protocol(), certificate


async def test_browsers_get_the_portal_through_the_same_port(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice, AsyncExitStack() as stack:
        web = free_port()
        replica = Daemon.proxy(
            proxy_yaml(
                tmp_path, link_keys, web, practice.agent.server.port, name="proxy1", behind_tls=True
            ),
            web,
        )
        https, http = free_port(), free_port()
        config = loopback_haproxy(tmp_path, https, http, [web], links=[free_port()])
        balancer = haproxy(config, https)
        for daemon in (replica, balancer):
            await daemon.start()
            stack.push_async_callback(daemon.stop)

        # HAProxy itself answers a browser's TLS, with the portal's certificate and HTTP ALPN.
        portal_certificate = ssl.PEM_cert_to_DER_cert(
            (tmp_path / "portal.pem").read_text().split("-----END CERTIFICATE-----")[0]
            + "-----END CERTIFICATE-----\n"
        )
        for offered, chosen in (
            (["h2", "http/1.1"], "h2"),
            (["http/1.1"], "http/1.1"),
            (None, None),
        ):
            selected, certificate = await asyncio.to_thread(_tls_to, https, offered)
            assert (selected, certificate) == (chosen, portal_certificate), offered

        # A signed-in patient's page, from the patient's own address, without and with ALPN.
        headers = {"Host": PORTAL_HOST, "Cookie": f"{SESSION_COOKIE}={practice.session_for(1)}"}
        with_alpn = ssl.create_default_context()
        with_alpn.check_hostname, with_alpn.verify_mode = False, ssl.CERT_NONE
        with_alpn.set_alpn_protocols(["http/1.1"])
        for tls in (False, with_alpn):
            before = practice.query("SELECT COALESCE(MAX(id), 0) AS last FROM portal_audit")
            connector = aiohttp.TCPConnector(ssl=tls, local_addr=(PATIENT_ADDRESS, 0))
            async with (
                aiohttp.ClientSession(connector=connector) as browser,
                browser.get(f"https://{HOST}:{https}/appointments", headers=headers) as page,
            ):
                assert page.status == 200
                assert "My appointments" in await page.text()
            # The agent audits the read with the address the replica believed: X-Forwarded-For
            # from HAProxy, which learnt the patient's address over the PROXY header.
            audited = practice.query(
                "SELECT action, client_ip FROM portal_audit WHERE id > %s",
                (before[0]["last"],),
            )
            assert audited == [{"action": "appointments.read", "client_ip": PATIENT_ADDRESS}]

        # Plain HTTP still only redirects to HTTPS.
        async with (
            aiohttp.ClientSession() as browser,
            browser.get(
                f"http://{HOST}:{http}/appointments", headers=headers, allow_redirects=False
            ) as redirect,
        ):
            assert redirect.status == 301
            assert redirect.headers["Location"].startswith("https://")


def test_haproxy_accepts_the_documented_file(tmp_path: Path) -> None:
    """The file as documented (only the certificate, which must exist, is a test's own)."""
    loopback_haproxy(tmp_path, free_port(), free_port(), [free_port()])  # makes portal.pem
    config = tmp_path / "as-documented.cfg"
    config.write_text(
        EXAMPLE.read_text().replace("/etc/haproxy/certs/portal.pem", str(tmp_path / "portal.pem"))
    )
    checked = check(config)
    assert checked.returncode == 0, checked.stderr
    # Its only warnings are that no `log` target is set: the operator's `global` section has it.
    warnings = [line for line in checked.stderr.splitlines() if "[WARNING]" in line]
    assert all("has no log address" in line for line in warnings), warnings
