"""The agent's side of the link under asyncio: :class:`LinkServer` answers the proxies'
requests, one handler task per request, on connections it accepts (listen mode,
:meth:`LinkServer.start`) or dials itself (dial-out mode, :meth:`LinkServer.dial`).

Who dialled changes only who is the TLS client (DESIGN.md, "Dial-out"): a dialled connection
is still the link's responder, sends WELCOME to the portal's HELLO, and is held to the same
pins, frames, liveness and GOAWAY rules as an accepted one."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog

from protocol.aio.dialled import DialledLink
from protocol.errors import ErrorCode, LinkError, LinkRefused, LocalProtocolError, where_it_failed
from protocol.events import (
    CancelReceived,
    Event,
    GoAwayReceived,
    HelloReceived,
    RequestReceived,
)
from protocol.frames import DEFAULT_LIMITS, Limits
from protocol.state import ConnectionState, Role
from protocol.tls import TLSConfig
from protocol.transport import DEFAULT_TIMEOUTS, LinkTransport, Timeouts, open_link

log = structlog.get_logger("portico.link")


@dataclass(frozen=True, slots=True)
class Request:
    """One request as a handler sees it."""

    stream_id: int
    method: str
    params: dict[str, Any]
    session: str | None
    idempotency_key: str | None
    deadline: float | None  # event-loop time by which the requester stops waiting
    client: dict[str, Any] | None
    tenant: str
    peer_pin: str


Handler = Callable[[Request], Awaitable[Any]]
HelloCheck = Callable[[HelloReceived], dict[str, Any]]


# -- server ----------------------------------------------------------------------------------


class _ServerConnection(LinkTransport):
    def __init__(
        self, server: LinkServer, check_hello: Callable[[HelloReceived], None] | None = None
    ) -> None:
        super().__init__(Role.RESPONDER, server.tls, server.timeouts, server.limits)
        self.server = server
        self.check_hello = check_hello  # a dialled link's own condition, before on_hello
        self.tenant = ""
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.peer_address: str | None = None
        self.requester_id = ""
        # Done once WELCOME is sent (or failed with LinkRefused): what LinkServer.dial waits for.
        self.welcomed: asyncio.Future[None] = self.loop.create_future()
        self.welcomed.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._drain_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peername = transport.get_extra_info("peername")
        self.peer_address = peername[0] if peername else None
        if not self.server.address_allowed(self.peer_address):
            # Dropped before a single TLS byte is read: not one of the allowed proxy networks.
            log.warning(
                "link.refused",
                stage="address",
                peer=peername and peername[0],
                reason="source address outside the allowed networks",
            )
            transport.close()
            if not self.closed.done():
                self.closed.set_result(None)
            return
        self.server.connections.add(self)
        super().connection_made(transport)

    def link_lost(self, reason: str) -> None:
        self.server.connections.discard(self)
        if not self.welcomed.done():
            self.welcomed.set_exception(LinkRefused(reason))
        for task in self.tasks.values():
            task.cancel()  # nobody is left to read the answer

    def handle_event(self, event: Event) -> None:
        if isinstance(event, RequestReceived):
            self.tasks[event.stream_id] = self.loop.create_task(self._serve(event))
        elif isinstance(event, CancelReceived):
            task = self.tasks.get(event.stream_id)
            if task is not None:
                task.cancel()
        elif isinstance(event, HelloReceived):
            self._welcome(event)
        elif isinstance(event, GoAwayReceived):
            self.log.info("link.peer_going_away", code=event.code)
            self._close_when_drained()

    def _welcome(self, hello: HelloReceived) -> None:
        if not self.server.still_trusted(self):
            # The peer was verified under trust that a reload has since withdrawn.
            self.log.warning("link.refused", stage="hello", reason="no longer allowed")
            self.conn.send_goaway(ErrorCode.FORBIDDEN, "this proxy is no longer allowed")
            self.flush()
            self.close("trust withdrawn")
            self._refused("the proxy's key is no longer allowed")
            return
        try:
            if self.check_hello is not None:
                self.check_hello(hello)
            practice = self.server.on_hello(hello)
        except LinkError as exc:
            self.log.warning(
                "link.refused",
                stage="hello",
                tenant=hello.tenant,
                code=exc.code,
                reason=f"HELLO refused: {exc.message}",
            )
            self.conn.send_goaway(exc.code, exc.message)
            self.flush()
            self.close("hello refused")
            self._refused(f"HELLO refused: {exc.message}")
            return
        self.tenant = hello.tenant
        self.requester_id = hello.requester_id
        self.log = self.log.bind(tenant=hello.tenant)
        self.conn.send_welcome(self.server.agent_version, practice)
        self.handshake_finished()
        self.log.info("link.established", requester_id=hello.requester_id)
        if not self.welcomed.done():
            self.welcomed.set_result(None)

    def _refused(self, reason: str) -> None:
        if not self.welcomed.done():
            self.welcomed.set_exception(LinkRefused(reason))

    async def _serve(self, event: RequestReceived) -> None:
        stream_id = event.stream_id
        deadline = None
        if event.deadline_ms is not None:
            deadline = self.loop.time() + event.deadline_ms / 1000
        request = Request(
            stream_id=stream_id,
            method=event.method,
            params=event.params,
            session=event.session,
            idempotency_key=event.idempotency_key,
            deadline=deadline,
            client=event.client,
            tenant=self.tenant,
            peer_pin=self.engine.peer_pin or "",
        )
        timeout = None
        try:
            try:
                if event.deadline_ms == 0:
                    # The budget is spent before the method starts: it is not run at all.
                    raise TimeoutError
                if deadline is None:
                    result = await self.server.handler(request)
                else:
                    async with asyncio.timeout_at(deadline) as timeout:
                        result = await self.server.handler(request)
            except LinkError as exc:
                self.conn.send_error(
                    stream_id, exc.code, exc.message, retryable=exc.retryable, details=exc.details
                )
                return
            self._respond(stream_id, result)
        except TimeoutError as exc:
            if event.deadline_ms == 0 or (timeout is not None and timeout.expired()):
                self.conn.send_error(
                    stream_id, ErrorCode.DEADLINE_EXCEEDED, "the request took too long"
                )
            else:
                self._internal_error(stream_id, event.method, exc)
        except Exception as exc:
            self._internal_error(stream_id, event.method, exc)
        finally:
            del self.tasks[stream_id]
            if self.tasks:
                self.schedule_flush()  # others are finishing too: share one write
            else:
                self.flush()  # the only one in flight: no reason to wait a loop turn
            if self.conn.state is ConnectionState.CLOSING:
                self._close_when_drained()

    def _respond(self, stream_id: int, result: Any) -> None:
        try:
            self.conn.send_response(stream_id, result)
        except LocalProtocolError as exc:
            self.log.error("link.unsendable_result", stream_id=stream_id, code=exc.code)
            self.conn.send_error(stream_id, ErrorCode.INTERNAL, "something went wrong")

    def _internal_error(self, stream_id: int, method: str, exc: BaseException) -> None:
        # Where it failed, without the message (it may quote patient data) or any locals;
        # the patient sees only a plain message.
        self.log.error(
            "link.handler_failed", stream_id=stream_id, method=method, **where_it_failed(exc)
        )
        self.conn.send_error(stream_id, ErrorCode.INTERNAL, "something went wrong")

    def events_handled(self) -> None:
        if self.conn.state is ConnectionState.CLOSING:
            self._close_when_drained()  # e.g. the last unfinished request was cancelled

    def _close_when_drained(self) -> None:
        # GOAWAY's last_stream_id promises an answer to every stream up to it, including a
        # split request whose last frames are still on their way: only then close.
        if self.transport is None:
            return
        if not self.tasks and not self.conn.incomplete_messages:
            self.loop.call_soon(self.close, "drained")
        elif self._drain_timer is None and self.conn.incomplete_messages:
            # ...but only for as long as Timeouts.drain: the rest is the peer's to send.
            self._drain_timer = self.loop.call_later(self.timeouts.drain, self._drain_expired)

    def _drain_expired(self) -> None:
        if self.conn.incomplete_messages and not self.closed.done():
            self.log.info("link.drain_expired", unfinished=self.conn.incomplete_messages)
            self.close("unfinished requests after GOAWAY")


class LinkServer:
    """Answers pinned proxies' requests concurrently, in any order, on the connections it
    accepts (:meth:`start`) or dials (:meth:`dial`)."""

    def __init__(
        self,
        handler: Handler,
        *,
        tls: TLSConfig,
        on_hello: HelloCheck,
        agent_version: str,
        allowed_networks: Iterable[str] | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        """`on_hello` returns the WELCOME's practice object or raises LinkError to refuse;
        `allowed_networks` are CIDRs (None allows any address; the pins still apply)."""
        self.handler = handler
        self.tls = tls
        self.on_hello = on_hello
        self.agent_version = agent_version
        self.networks = _networks(allowed_networks)
        self.timeouts = timeouts
        self.limits = limits
        self.connections: set[_ServerConnection] = set()
        self._server: asyncio.Server | None = None

    def address_allowed(self, host: str | None) -> bool:
        if self.networks is None:
            return True
        if host is None:
            return False
        address = ipaddress.ip_address(host)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def still_trusted(self, connection: _ServerConnection) -> bool:
        """Whether the peer of `connection` is allowed under the current pins and networks."""
        pin = connection.engine.peer_pin
        return (pin is None or pin in self.tls.allowed_pins) and self.address_allowed(
            connection.peer_address
        )

    def reconfigure(self, *, tls: TLSConfig, allowed_networks: Iterable[str] | None) -> int:
        """Trust `tls`'s pins and `allowed_networks` from now on, without a restart.

        New connections are checked against them. A link already up stays up while its peer is
        still allowed; one whose pin or address is no longer allowed gets GOAWAY and closes
        once its in-flight requests are answered. Returns how many links were told to go."""
        self.tls = tls
        self.networks = _networks(allowed_networks)
        withdrawn = [c for c in self.connections if not self.still_trusted(c)]
        for connection in withdrawn:
            connection.log.warning("link.trust_withdrawn", reason="pin or address not allowed")
            connection.send_goaway(ErrorCode.FORBIDDEN, "this proxy is no longer allowed")
            connection._close_when_drained()
        return len(withdrawn)

    async def dial(
        self,
        host: str,
        port: int,
        *,
        check_hello: Callable[[HelloReceived], None] | None = None,
    ) -> DialledLink:
        """Dial the portal's link endpoint at ``host:port`` and serve it as on an accepted link.

        This server's ``tls`` must be a client-side config (protocol.tls.client_config): the
        portal's key is checked against its pins, this agent's certificate presented, ALPN
        ``portico/1`` offered. Returns once the portal's HELLO is answered with WELCOME;
        raises :class:`LinkRefused` when TCP, TLS or the HELLO fails, or when the whole
        handshake takes longer than ``timeouts.handshake`` (the reason is safe to log).

        ``check_hello`` is this link's own condition on the HELLO, checked before ``on_hello``:
        raising LinkError refuses it with GOAWAY before any WELCOME, so the portal never puts
        a link to use that is about to go (e.g. a second link to the same replica)."""
        if self.tls.server_side:
            raise ValueError("dial() needs a client-side TLS config (protocol.tls.client_config)")
        connection = _ServerConnection(self, check_hello)
        await open_link(connection, host, port, asyncio.shield(connection.welcomed))
        return DialledLink(connection)

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _ServerConnection(self), host, port, reuse_address=True
        )

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.sockets
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self, grace: float = 30.0) -> None:
        """Stop accepting, send GOAWAY, let in-flight requests finish (up to `grace` s)."""
        if self._server is not None:
            self._server.close()
        connections = list(self.connections)
        for connection in connections:
            connection.send_goaway(ErrorCode.SHUTDOWN, "the agent is shutting down")
            connection._close_when_drained()
        if connections:
            # Each connection closes itself once it has answered every stream its GOAWAY
            # promised to; after `grace`, whatever is still running is given up.
            await asyncio.wait([c.closed for c in connections], timeout=grace)
        for connection in connections:
            for task in list(connection.tasks.values()):
                task.cancel()
            connection.close("server closing")
        if connections:
            await asyncio.wait([c.closed for c in connections], timeout=grace or None)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> LinkServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _networks(
    cidrs: Iterable[str] | None,
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    return None if cidrs is None else [ipaddress.ip_network(n, strict=False) for n in cidrs]
