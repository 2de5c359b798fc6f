"""asyncio link endpoints: LinkServer (the agent's side) and LinkClient (the proxy's side)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog

from protocol.connection import ConnectionState, Role
from protocol.errors import RETRYABLE_CODES, ErrorCode, LocalProtocolError, where_it_failed
from protocol.events import (
    CancelReceived,
    ErrorReceived,
    Event,
    GoAwayReceived,
    HelloReceived,
    RequestReceived,
    ResponseReceived,
    WelcomeReceived,
)
from protocol.frames import DEFAULT_LIMITS, Limits
from protocol.tls import TLSConfig
from protocol.transport import DEFAULT_TIMEOUTS, LinkTransport, Timeouts

log = structlog.get_logger("portico.link")


class LinkError(Exception):
    """An error answer on the link. Raise it in a handler to answer with `code`; the message
    is shown to patients, so it must be plain language and carry no internal detail."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = code in RETRYABLE_CODES if retryable is None else retryable
        self.details = details


class RemoteError(LinkError):
    """What LinkClient.request raises when the answer is an error (or never comes)."""


class LinkRefused(ConnectionError):
    """LinkClient.connect could not establish the link (TLS refused, GOAWAY, timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    def __init__(self, server: LinkServer) -> None:
        super().__init__(Role.RESPONDER, server.tls, server.timeouts, server.limits)
        self.server = server
        self.tenant = ""
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.peer_address: str | None = None
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
            return
        try:
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
            return
        self.tenant = hello.tenant
        self.log = self.log.bind(tenant=hello.tenant)
        self.conn.send_welcome(self.server.agent_version, practice)
        self.handshake_finished()
        self.log.info("link.established", requester_id=hello.requester_id)

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
    """Accepts pinned proxies and answers their requests concurrently, in any order."""

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


# -- client ----------------------------------------------------------------------------------


class _ClientConnection(LinkTransport):
    def __init__(
        self, tls: TLSConfig, timeouts: Timeouts, limits: Limits, tenant: str, requester_id: str
    ) -> None:
        super().__init__(Role.REQUESTER, tls, timeouts, limits)
        self.tenant = tenant
        self.requester_id = requester_id
        self.ready: asyncio.Future[WelcomeReceived] = self.loop.create_future()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.failure: RemoteError | None = None  # set once no new request can be sent

    def tls_established(self) -> None:
        self.conn.send_hello(self.tenant, self.requester_id)
        self.flush()

    def handle_event(self, event: Event) -> None:
        if isinstance(event, ResponseReceived):
            future = self.pending.pop(event.stream_id, None)
            if future is not None and not future.done():
                future.set_result(event.result)
        elif isinstance(event, ErrorReceived):
            future = self.pending.pop(event.stream_id, None)
            if future is not None and not future.done():
                future.set_exception(
                    RemoteError(
                        event.code, event.message, retryable=event.retryable, details=event.details
                    )
                )
        elif isinstance(event, WelcomeReceived):
            self.handshake_finished()
            if not self.ready.done():
                self.ready.set_result(event)
        elif isinstance(event, GoAwayReceived):
            self._going_away(event)

    def _going_away(self, event: GoAwayReceived) -> None:
        self.log.info("link.peer_going_away", code=event.code)
        if not self.ready.done():
            self.ready.set_exception(LinkRefused(f"refused by the agent: {event.code}"))
            return
        self.failure = RemoteError(
            ErrorCode.SHUTDOWN, "the office's server is restarting; try again", retryable=True
        )
        # Streams above last_stream_id were never seen by the agent and never will be.
        for stream_id in [s for s in self.pending if s > event.last_stream_id]:
            future = self.pending.pop(stream_id)
            if not future.done():
                future.set_exception(self.failure)
        if not self.pending:
            self.close("peer going away")

    def link_lost(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(LinkRefused(reason))
        self.failure = RemoteError(
            ErrorCode.UNAVAILABLE, "the office's server cannot be reached right now", retryable=True
        )
        for future in self.pending.values():
            if not future.done():
                future.set_exception(self.failure)
        self.pending.clear()


class LinkClient:
    """One link to one agent; requests are multiplexed over it concurrently."""

    def __init__(self, connection: _ClientConnection, welcome: WelcomeReceived) -> None:
        self._connection = connection
        self.welcome = welcome
        # Queue locally rather than exceed the agent's stream limit (which would answer busy).
        self._slots = asyncio.Semaphore(welcome.limits.max_streams)

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        tls: TLSConfig,
        tenant: str,
        requester_id: str,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        limits: Limits = DEFAULT_LIMITS,
    ) -> LinkClient:
        loop = asyncio.get_running_loop()
        connection = _ClientConnection(tls, timeouts, limits, tenant, requester_id)
        try:
            async with asyncio.timeout(timeouts.handshake):
                await loop.create_connection(lambda: connection, host, port)
                welcome = await connection.ready
        except TimeoutError:
            connection.abort("handshake timed out")
            raise LinkRefused("the link handshake timed out") from None
        except OSError as exc:
            if isinstance(exc, LinkRefused):
                raise
            raise LinkRefused(f"cannot connect: {exc.strerror or exc}") from exc
        return cls(connection, welcome)

    @property
    def is_usable(self) -> bool:
        """False once the link is lost or the agent said GOAWAY: open a new one."""
        return self._connection.failure is None and not self._connection.closed.done()

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        idempotency_key: str | None = None,
        deadline: float | None = None,
        client: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request and wait for its answer.

        `deadline` is in seconds from now; it travels to the agent, and when it passes the
        request is cancelled and RemoteError('deadline_exceeded') raised. If the caller is
        cancelled, a CANCEL is sent. Raises RemoteError for every error answer.
        """
        connection = self._connection
        try:
            async with asyncio.timeout(deadline):
                async with self._slots:
                    if connection.failure is not None:
                        raise connection.failure
                    stream_id = connection.conn.send_request(
                        method,
                        {} if params is None else params,
                        session=session,
                        idempotency_key=idempotency_key,
                        deadline_ms=None if deadline is None else max(0, int(deadline * 1000)),
                        client=client,
                    )
                    future: asyncio.Future[Any] = connection.loop.create_future()
                    connection.pending[stream_id] = future
                    # Requests started together (a page asks for several things at once)
                    # share one TLS record and one system call, as answers do.
                    connection.schedule_flush()
                    try:
                        return await future
                    finally:
                        # Still pending means no answer came: the caller was cancelled or the
                        # deadline passed (both cancel `future` too, so done() cannot tell).
                        if connection.pending.pop(stream_id, None) is not None:
                            with contextlib.suppress(LocalProtocolError):
                                connection.conn.send_cancel(stream_id)
                                connection.flush()
        except TimeoutError:
            raise RemoteError(
                ErrorCode.DEADLINE_EXCEEDED, "the office's server took too long to answer"
            ) from None

    async def close(self) -> None:
        """Say GOAWAY, stop, and close the connection."""
        connection = self._connection
        connection.send_goaway(ErrorCode.SHUTDOWN, "the proxy is closing this link")
        connection.close("client closing")
        await connection.closed

    async def __aenter__(self) -> LinkClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
