"""Real links on loopback for the asyncio endpoint tests: identities, servers, clients, logs.

Each test file declares a three-line `link` fixture around `LinkHarness`, which closes every
server and client it opened and restores logging, whatever the test did.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from protocol.aio import LinkClient, LinkServer, Request
from protocol.events import Event, HelloReceived
from protocol.frames import DEFAULT_LIMITS, Limits
from protocol.state import Role
from protocol.tls import TLSConfig, client_config, server_config
from protocol.transport import DEFAULT_TIMEOUTS, LinkTransport, Timeouts
from tests.support.keys import Identity, make_identity
from tests.support.logs import captured_logs

HOST = "127.0.0.1"
LOOPBACK = ["127.0.0.0/8"]
PRACTICE = {"name": "Demo Practice", "phone": "+1 555 0100", "timezone": "Europe/Berlin"}
# Timers short enough to watch them fire in a test; the handshake/idle tests depend on them.
SHORT = Timeouts(handshake=0.5, ping_interval=0.2, idle=0.6)
# Upper bound for anything that should happen "soon": generous, so a slow CI box never fails.
PATIENCE = 5.0


async def echo(request: Request) -> Any:
    return {"method": request.method, "params": request.params}


async def until(condition: Callable[[], bool]) -> None:
    """Wait for a condition that another task or the peer will make true."""
    async with asyncio.timeout(PATIENCE):
        while not condition():
            await asyncio.sleep(0.01)


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything a raw TCP peer receives before the server closes the connection."""
    received = b""
    async with asyncio.timeout(PATIENCE):
        with contextlib.suppress(ConnectionResetError):
            while chunk := await reader.read(65536):
                received += chunk
    return received


class SilentRequester(LinkTransport):
    """Completes the TLS handshake with a pinned certificate, then never says HELLO."""

    def __init__(self, tls: TLSConfig) -> None:
        # Its own handshake clock is long: the server must be the one to give up.
        super().__init__(Role.REQUESTER, tls, Timeouts(handshake=60.0), DEFAULT_LIMITS)
        self.events: list[Event] = []

    def handle_event(self, event: Event) -> None:
        self.events.append(event)


class LinkHarness:
    """An agent and a proxy identity (plus an unpinned stranger), and the links between them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.agent = make_identity(directory / "agent", "agent")
        self.proxy = make_identity(directory / "proxy", "proxy")
        self.stranger = make_identity(directory / "stranger", "stranger")
        self.hellos: list[HelloReceived] = []
        self._servers: list[LinkServer] = []
        self._clients: list[LinkClient] = []
        self._logs = contextlib.ExitStack()
        self.logs = self._logs.enter_context(captured_logs())

    def server_tls(self) -> TLSConfig:
        return server_config(self.agent.key_file, self.agent.cert_file, [self.proxy.pin])

    def client_tls(self, me: Identity | None = None, pins: Iterable[str] = ()) -> TLSConfig:
        me = me or self.proxy
        return client_config(me.key_file, me.cert_file, list(pins) or [self.agent.pin])

    def _welcome(self, hello: HelloReceived) -> dict[str, Any]:
        self.hellos.append(hello)
        return PRACTICE

    async def start_server(
        self,
        handler: Callable[[Request], Awaitable[Any]] = echo,
        *,
        on_hello: Callable[[HelloReceived], dict[str, Any]] | None = None,
        allowed_networks: list[str] | None = LOOPBACK,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        limits: Limits = DEFAULT_LIMITS,
    ) -> LinkServer:
        server = LinkServer(
            handler,
            tls=self.server_tls(),
            on_hello=on_hello or self._welcome,
            agent_version="0.1-test",
            allowed_networks=allowed_networks,
            timeouts=timeouts,
            limits=limits,
        )
        await server.start(HOST, 0)
        self._servers.append(server)
        return server

    async def connect(
        self,
        server: LinkServer | int,
        *,
        tls: TLSConfig | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> LinkClient:
        client = await LinkClient.connect(
            HOST,
            server if isinstance(server, int) else server.port,
            tls=tls or self.client_tls(),
            tenant="demo",
            requester_id="proxy-test",
            timeouts=timeouts,
        )
        self._clients.append(client)
        return client

    async def close(self) -> None:
        try:
            for client in self._clients:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.close(), PATIENCE)
            for server in self._servers:
                await asyncio.wait_for(server.close(grace=1.0), PATIENCE)
        finally:
            self._logs.close()

    async def __aenter__(self) -> LinkHarness:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
