"""The proxy's link listener for agents that dial in (dial-out mode, issue 15).

An agent that dials in is recognised by its key alone: the acceptor's TLS config holds every
dial-out office's pins, the handshake refuses any other key (and plaintext, certificate-less
peers and another ALPN) before a frame is read, and the verified pin then names the office its
HELLO is for. The ready link is then an ordinary :class:`LinkClient`: the proxy is the
requester whoever dialled. Split from protocol/aio/client.py, which holds the requester itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from protocol.aio.client import LinkClient, _ClientConnection
from protocol.errors import where_it_failed
from protocol.events import WelcomeReceived
from protocol.frames import DEFAULT_LIMITS, Limits
from protocol.state import Role
from protocol.tls import TLSConfig
from protocol.transport import DEFAULT_TIMEOUTS, Timeouts

__all__ = ["LinkAcceptor"]

log = structlog.get_logger("portico.link")

TenantOf = Callable[[str], "str | None"]
OnLink = Callable[[str, LinkClient], None]


class _AcceptedConnection(_ClientConnection):
    """A connection an agent dialled to this proxy: TLS server side, link requester."""

    def __init__(self, acceptor: LinkAcceptor, tls: TLSConfig) -> None:
        super().__init__(tls, acceptor.timeouts, acceptor.limits, "", acceptor.requester_id)
        self.acceptor = acceptor
        self.ready.add_done_callback(self._handshake_over)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.acceptor.pending.add(self)
        super().connection_made(transport)

    def tls_established(self) -> None:
        pin = self.engine.peer_pin or ""
        tenant = self.acceptor.tenant_of(pin)
        if tenant is None:
            # Pinned when the handshake began, withdrawn by a reload before it ended.
            self.log.warning("link.refused", stage="pin", reason="no office has this key's pin")
            self.abort("unknown pin")
            return
        self.tenant = tenant
        self.log = self.log.bind(tenant=tenant)
        super().tls_established()  # HELLO

    def _handshake_over(self, ready: asyncio.Future[WelcomeReceived]) -> None:
        self.acceptor.pending.discard(self)
        if ready.cancelled():
            return
        failure = ready.exception()
        if failure is not None:
            if self.engine.handshake_complete:  # TLS refusals were logged by the transport
                reason = getattr(failure, "reason", type(failure).__name__)
                self.log.warning("link.refused", stage="hello", reason=reason)
            return
        client = LinkClient(self, ready.result())
        try:
            self.acceptor.on_link(self.tenant, client)
        except Exception as exc:  # the owner's bug: never leave the agent half-connected
            self.log.error("link.on_link_failed", **where_it_failed(exc))
            self.abort("not taken")


class _Refusing(asyncio.Protocol):
    """Stands in while no office dials in: a peer that starts a handshake is told nothing,
    logged and dropped. A bare TCP connect that sends nothing (a load balancer's health check
    every few seconds) is closed without a log line, at the latest after the handshake timeout."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._timer = asyncio.get_running_loop().call_later(self._timeout, transport.close)

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        peername = self._transport.get_extra_info("peername")
        log.warning(
            "link.refused",
            role=Role.REQUESTER.value,
            stage="pin",
            peer=f"{peername[0]}:{peername[1]}" if peername else "?",
            reason="no office is set up to dial in",
        )
        self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()


class LinkAcceptor:
    """The proxy's link listener: accepts agents that dial in and hands each ready link over.

    ``tls`` is a server-side config (protocol.tls.server_config) whose pins are those of every
    office that dials in, or None while there is none (every connection is then refused);
    ``tenant_of(pin)`` names the office a verified key belongs to (None refuses it);
    ``on_link(tenant, client)`` receives each link once the agent's WELCOME has arrived, and
    owns it from then on. Unknown keys, plaintext, peers without a certificate and wrong ALPN
    are refused in the TLS handshake, before any frame, and logged as ``link.refused``."""

    def __init__(
        self,
        tls: TLSConfig | None,
        *,
        tenant_of: TenantOf,
        on_link: OnLink,
        requester_id: str,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.tls = self._checked(tls)
        self.tenant_of = tenant_of
        self.on_link = on_link
        self.requester_id = requester_id
        self.timeouts = timeouts
        self.limits = limits
        self.pending: set[_AcceptedConnection] = set()  # accepted, WELCOME not yet received
        self._server: asyncio.Server | None = None

    @staticmethod
    def _checked(tls: TLSConfig | None) -> TLSConfig | None:
        if tls is not None and not tls.server_side:
            raise ValueError("LinkAcceptor needs a server-side TLS config (server_config)")
        return tls

    def reconfigure(self, tls: TLSConfig | None) -> None:
        """Trust ``tls``'s pins for handshakes from now on (None: refuse every connection).
        Links already handed over are their owner's to keep or retire."""
        self.tls = self._checked(tls)

    def _protocol(self) -> asyncio.Protocol:
        tls = self.tls
        return _Refusing(self.timeouts.handshake) if tls is None else _AcceptedConnection(self, tls)

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host, port, reuse_address=True)

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.sockets
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        """Stop accepting and drop the connections not yet handed over.

        Links already handed over are left to their owner, and so this does not await
        ``Server.wait_closed()``: since Python 3.12.1 that waits for every connection the
        server ever accepted, handed-over links included, which keep each other alive with
        PINGs until their owner closes them."""
        if self._server is not None:
            self._server.close()
        pending = list(self.pending)
        for connection in pending:
            connection.abort("the proxy is closing its link listener")
        if pending:
            await asyncio.wait([c.closed for c in pending], timeout=5)

    async def __aenter__(self) -> LinkAcceptor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
