"""The proxy's side of the link under asyncio: :class:`LinkClient`, one link to one agent with
requests multiplexed over it, dialled by the proxy (listen mode, :meth:`LinkClient.connect`) or
by the agent (dial-out mode, accepted by protocol/aio/acceptor.py's LinkAcceptor).

Either way the proxy is the requester and sends HELLO; who dialled only decides who is the TLS
client (DESIGN.md, "Dial-out")."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from protocol.errors import (
    ErrorCode,
    LinkRefused,
    LocalProtocolError,
    RemoteError,
)
from protocol.events import ErrorReceived, Event, GoAwayReceived, ResponseReceived, WelcomeReceived
from protocol.frames import DEFAULT_LIMITS, Limits
from protocol.state import Role
from protocol.tls import TLSConfig
from protocol.transport import DEFAULT_TIMEOUTS, LinkTransport, Timeouts, open_link

__all__ = ["LinkClient"]

log = structlog.get_logger("portico.link")


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
        # Calls of request() not yet returned, queued for a slot or awaiting their answer:
        # what close(grace) waits for (on a future made only then: an idle link holds none).
        self._in_flight = 0
        self._drained: asyncio.Future[None] | None = None

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
        connection = _ClientConnection(tls, timeouts, limits, tenant, requester_id)
        await open_link(connection, host, port, connection.ready)
        return cls(connection, connection.ready.result())

    @property
    def peer(self) -> str:
        """``address:port`` of the agent end (for logs)."""
        return self._connection.peer

    @property
    def peer_pin(self) -> str:
        """The pin the agent's key was verified under."""
        return self._connection.engine.peer_pin or ""

    @property
    def closed(self) -> asyncio.Future[None]:
        """Done when the connection is gone, for whatever reason (to notice a lost link at once
        rather than on its next request)."""
        return self._connection.closed

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
        self._in_flight += 1
        try:
            return await self._request(method, params, session, idempotency_key, deadline, client)
        finally:
            self._in_flight -= 1
            drained = self._drained
            if not self._in_flight and drained is not None and not drained.done():
                drained.set_result(None)

    async def _request(
        self,
        method: str,
        params: dict[str, Any] | None,
        session: str | None,
        idempotency_key: str | None,
        deadline: float | None,
        client: dict[str, Any] | None,
    ) -> Any:
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

    async def close(self, grace: float = 0.0) -> bool:
        """Say GOAWAY and close the connection, once the requests in flight are answered or
        `grace` seconds have passed, whichever comes first (requests made meanwhile are waited
        for as well). Requests still unanswered then fail with RemoteError('unavailable').
        True when none was cut off that way."""
        if self._in_flight and grace > 0:
            if self._drained is None or self._drained.done():
                self._drained = self._connection.loop.create_future()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await asyncio.shield(self._drained)
        drained = not self._in_flight
        connection = self._connection
        connection.send_goaway(ErrorCode.SHUTDOWN, "the proxy is closing this link")
        connection.close("client closing")
        await connection.closed
        return drained

    async def __aenter__(self) -> LinkClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
