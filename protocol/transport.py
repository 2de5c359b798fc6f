"""The asyncio shell around one link connection: TCP socket, TLS engine, timers, flow control.

Bytes flow socket -> TLSEngine -> Connection -> events, and back. Shared by LinkServer and
LinkClient (protocol/aio/), which add what each role does with the events.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import structlog

from protocol.connection import Connection
from protocol.errors import ErrorCode, LinkRefused, LocalProtocolError, RemoteProtocolError
from protocol.events import Event
from protocol.frames import DEFAULT_LIMITS, Limits
from protocol.liveness import LivenessTick, liveness_tick
from protocol.state import ConnectionState, Role
from protocol.tls import TLSConfig, TLSEngine, TLSRefused

log = structlog.get_logger("portico.link")

# How much plaintext to hand the socket per round while it keeps up; frames of large messages
# interleave in chunks of this size, so a small answer waits behind at most this much.
WRITE_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class Timeouts:
    handshake: float = 10.0  # TCP accept to WELCOME, TLS included (slowloris)
    ping_interval: float = 15.0  # PING when nothing was received for this long
    idle: float = 45.0  # no frame at all for this long: the connection is dead
    # After the responder's GOAWAY: how long the rest of a split request is waited for. Its
    # last_stream_id promised an answer, but a peer that never finishes (a proxy whose pin a
    # reload withdrew, say) must not hold the link open, or complete the request much later.
    drain: float = 20.0


DEFAULT_TIMEOUTS = Timeouts()


class LinkTransport(asyncio.Protocol):
    """Base protocol: subclasses implement `tls_established` and `handle_event`."""

    def __init__(self, role: Role, tls: TLSConfig, timeouts: Timeouts, limits: Limits) -> None:
        self.loop = asyncio.get_running_loop()
        self.conn = Connection(role, limits)
        self.engine = TLSEngine(tls)
        self.timeouts = timeouts
        self.transport: asyncio.Transport | None = None
        self.peer: str = "?"
        self.log: Any = log.bind(role=role.value)
        self.closed: asyncio.Future[None] = self.loop.create_future()
        self._tls_ready = False
        self._handshake_done = False
        self._paused = False
        self._flush_scheduled = False
        self._last_received = self.loop.time()
        self._pings = itertools.count()
        self._handshake_timer: asyncio.TimerHandle | None = None
        self._close_reason: str | None = None
        self._liveness: LivenessTick | None = None  # shared by the loop's links, see liveness.py

    # -- hooks for subclasses ----------------------------------------------------------------

    def tls_established(self) -> None:
        """The TLS handshake finished and the peer's pin is allowed."""

    def handle_event(self, event: Event) -> None:
        raise NotImplementedError

    def link_lost(self, reason: str) -> None:
        """The connection is gone (called once)."""

    def events_handled(self) -> None:
        """The events of one read have all been handled."""

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peername = transport.get_extra_info("peername")
        self.peer = f"{peername[0]}:{peername[1]}" if peername else "?"
        self.log = self.log.bind(peer=self.peer)
        self._handshake_timer = self.loop.call_later(
            self.timeouts.handshake, self._handshake_expired
        )
        self.engine.start()
        self._write_ciphertext()

    def data_received(self, data: bytes) -> None:
        self._last_received = self.loop.time()
        try:
            plaintext = self.engine.receive_ciphertext(data)
        except TLSRefused as exc:
            self._write_ciphertext()  # the alert, if any
            self.log.warning("link.refused", stage="tls", reason=exc.reason)
            self.abort(f"TLS refused: {exc.reason}")
            return
        if not self._tls_ready:
            self._write_ciphertext()  # handshake messages, if any
        if not self._tls_ready and self.engine.handshake_complete:
            self._tls_ready = True
            self.log = self.log.bind(peer_pin=self.engine.peer_pin)
            self.tls_established()
        if plaintext:
            try:
                events = self.conn.receive_data(plaintext)
            except RemoteProtocolError as exc:
                self.log.warning("link.protocol_error", code=exc.code, reason=exc.message)
                self.flush()  # the GOAWAY the connection queued
                self.close(f"protocol error: {exc.code}")
                return
            for event in events:
                self.handle_event(event)
            self.events_handled()
        if self.engine.closed_by_peer:
            self.close("peer closed TLS")
            return
        if self.conn.has_pending_output:  # e.g. a PONG, or busy answered by the connection
            self.flush()

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
        if self._liveness is not None:
            self._liveness.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)
            reason = self._close_reason or "connection lost"
            self.link_lost(reason if exc is None else f"{reason}: {exc}")

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self.flush()

    # -- writing -----------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        """Flush at the end of this loop iteration, so answers that finish together share a
        TLS record and a system call."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        transport = self.transport
        if transport is None or transport.is_closing() or not self._tls_ready:
            return
        while not self._paused:
            data = self.conn.data_to_send(WRITE_CHUNK)
            if not data:
                break
            self.engine.send_plaintext(data)
            transport.write(self.engine.ciphertext_to_send())

    def _write_ciphertext(self) -> None:
        data = self.engine.ciphertext_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    # -- lifecycle ---------------------------------------------------------------------------

    def handshake_finished(self) -> None:
        """HELLO/WELCOME done: stop the handshake clock, start liveness checks."""
        self._handshake_done = True
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        interval = min(self.timeouts.ping_interval, self.timeouts.idle) / 3
        self._liveness = liveness_tick(self.loop, interval)
        self._liveness.add(self)

    def _handshake_expired(self) -> None:
        self._handshake_timer = None
        if not self._handshake_done:
            self.log.warning("link.refused", stage="handshake", reason="handshake timed out")
            self.abort("handshake timed out")

    def check_liveness(self, now: float) -> None:
        """Called by the shared tick: PING a quiet peer, give up on a silent one."""
        silent_for = now - self._last_received
        if silent_for >= self.timeouts.idle:
            if self._liveness is not None:
                self._liveness.discard(self)
            self.log.warning("link.dead", silent_seconds=round(silent_for, 1))
            self.send_goaway(ErrorCode.TIMEOUT, "no traffic within the idle timeout")
            self.close("idle timeout")
            return
        if silent_for >= self.timeouts.ping_interval and self.conn.state in (
            ConnectionState.OPEN,
            ConnectionState.CLOSING,
        ):
            self.conn.send_ping(next(self._pings).to_bytes(8, "big"))
            self.flush()

    def send_goaway(self, code: str, message: str) -> None:
        try:
            self.conn.send_goaway(code, message)
        except LocalProtocolError:
            return  # not open (yet/any more): nothing to announce
        self.flush()

    def close(self, reason: str) -> None:
        """Close after writing what is queued (TLS close_notify included)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self.log.debug("link.closing", reason=reason)
        self._close_reason = self._close_reason or reason
        self.engine.close()
        self._write_ciphertext()
        transport.close()

    def abort(self, reason: str) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            self.log.debug("link.aborting", reason=reason)
            self._close_reason = self._close_reason or reason
            transport.close()


async def open_link(
    connection: LinkTransport, host: str, port: int, handshake: Awaitable[Any]
) -> None:
    """Dial ``host:port`` for ``connection`` and wait for ``handshake`` (its WELCOME, sent or
    received), all within ``connection.timeouts.handshake``; whichever side is dialling.

    Raises LinkRefused: "cannot connect: ..." with the OSError as its cause, the handshake's
    own refusal, or a timeout. A cancelled dial aborts the connection."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(connection.timeouts.handshake):
            await loop.create_connection(lambda: connection, host, port)
            await handshake
    except TimeoutError:
        connection.abort("handshake timed out")
        raise LinkRefused("the link handshake timed out") from None
    except OSError as exc:
        if isinstance(exc, LinkRefused):
            raise
        raise LinkRefused(f"cannot connect: {exc.strerror or exc}") from exc
    except BaseException:
        connection.abort("dial cancelled")
        raise


__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUTS", "LinkTransport", "Timeouts", "open_link"]
