"""TLS for the link: mutual TLS 1.3, each side authenticated by a pinned self-signed key.

Why pyOpenSSL and not the stdlib ``ssl`` module: trust on the link is a set of key pins, not a CA.
The agent must *request* a client certificate and accept a self-signed one if, and only if, the
SHA-256 of its SubjectPublicKeyInfo is pinned. ``ssl`` has no verify callback: ``CERT_REQUIRED``
insists on a chain to a loaded CA, ``CERT_OPTIONAL`` fails the same way on a self-signed
certificate, and ``CERT_NONE`` on a server does not even ask for one. pyOpenSSL exposes
``SSL_CTX_set_verify`` with a callback, so the pin check runs inside the handshake and an unpinned
peer gets a TLS alert before any frame is read.

Why sans-IO over memory BIOs: like the frame layer, this engine never touches a socket. The
asyncio adapter reads bytes from a plain TCP socket into :meth:`TLSEngine.receive_ciphertext` and
writes :meth:`TLSEngine.ciphertext_to_send` back, so pyOpenSSL's blocking socket API is never
involved and every refusal is testable in memory.

One OpenSSL context per key pair, shared by every connection made with it, whoever the peer
(issue 14): a proxy replica serving thousands of offices would otherwise hold a context of ~20
KiB for each. The pins are not in the context but travel with each connection (the engine hands
its :class:`TLSConfig`'s pins to the verify callback through the connection's app data), so one
context checks every office's pins, and re-pinning (:meth:`TLSConfig.with_allowed_pins`)
builds nothing.

Keys, pins and identity files live in :mod:`protocol.keys`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from OpenSSL import SSL, crypto

from protocol.client_hello import (
    MAX_CLIENT_HELLO,
    NO_APPLICATION_PROTOCOL_ALERT,
    Alpn,
    alpn_offered,
    bytes_before_verdict,
)
from protocol.keys import Identity, load_identity, normalise_pin, pin_of

ALPN_PROTOCOL: bytes = b"portico/1"

_READ_SIZE = 65536
_RECORD_SIZE = 16384 + 256  # SSL_read returns at most one record's plaintext per call
# Every TLS connection opens with a handshake record: content type 22, legacy version 3.x.
_TLS_RECORD_START = b"\x16\x03"
# The only verification "error" tolerated for a pinned depth-0 certificate is that it is
# self-signed and so chains to nothing: the pin, not a CA, is the trust anchor.
_ACCEPTED_ERRNOS = frozenset(
    {SSL.X509VerificationCodes.OK, SSL.X509VerificationCodes.ERR_DEPTH_ZERO_SELF_SIGNED_CERT}
)
_NOT_TLS = "peer did not speak TLS (first bytes are not a TLS handshake record)"
# OpenSSL reason strings -> what a log reader needs; the first match wins.
_REASONS = (
    (("wrong version number", "http request", "packet length"), "peer did not speak TLS ({})"),
    (("unsupported protocol", "protocol version"), "TLS version not 1.3"),
    (("no application protocol",), "ALPN mismatch"),
    (("alert",), "peer refused the handshake ({})"),
    (("peer did not return a certificate",), "peer sent no certificate"),
)


class TLSRefused(Exception):
    """The TLS session was refused or broke; ``reason`` is safe to log (no key material)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TLSConfig:
    """One side's TLS settings, built once and shared by all its connections."""

    server_side: bool
    local_pin: str
    allowed_pins: frozenset[str]
    context: SSL.Context = field(repr=False, compare=False)
    identity: Identity | None = field(default=None, repr=False, compare=False)

    def with_allowed_pins(self, allowed_pins: Iterable[str]) -> TLSConfig:
        """The same key pair trusting ``allowed_pins`` instead (another office, a reload).

        The OpenSSL context is shared, not copied: each engine checks its peer against the
        pins of the config it was made with, so sessions already established keep the trust
        they were verified under, and only new handshakes use the result. Only a config made
        here from a key pair can be re-pinned: another context's verify callback (if any) would
        not read the connection's pins."""
        if self.identity is None:
            raise ValueError("this TLSConfig was not built from a key pair; cannot re-pin it")
        return dataclasses.replace(self, allowed_pins=_pin_set(allowed_pins))


def server_config(key_file: Path, cert_file: Path, allowed_pins: Iterable[str]) -> TLSConfig:
    """The accepting side: requires a client certificate whose key is pinned."""
    return _config_for(load_identity(key_file, cert_file), allowed_pins, server_side=True)


def client_config(key_file: Path, cert_file: Path, allowed_pins: Iterable[str]) -> TLSConfig:
    """The dialling side: presents its certificate and accepts only a pinned server key."""
    return _config_for(load_identity(key_file, cert_file), allowed_pins, server_side=False)


class _ALPNRefused(Exception):
    """Raised in the ALPN callback: pyOpenSSL then fails the handshake with a fatal alert."""


class _Verdicts:
    """What one connection's callbacks read and write (its app data): the pins its peer must
    match, and why a callback refused (OpenSSL itself only reports that it failed)."""

    __slots__ = ("notes", "pins")

    def __init__(self, pins: frozenset[str]) -> None:
        self.pins = pins
        self.notes: list[str] = []


def _note(conn: SSL.Connection, reason: str) -> None:
    verdicts = conn.get_app_data()
    if isinstance(verdicts, _Verdicts):
        verdicts.notes.append(reason)


def _pins_of(conn: SSL.Connection) -> frozenset[str]:
    verdicts = conn.get_app_data()
    return verdicts.pins if isinstance(verdicts, _Verdicts) else frozenset()


def _pin_set(allowed_pins: Iterable[str]) -> frozenset[str]:
    pins = frozenset(normalise_pin(p) for p in allowed_pins)
    if not pins:
        raise ValueError("no allowed peer pins: every peer would be refused")
    return pins


def _no_session_tickets(conn: SSL.Connection) -> None:
    """Called by OpenSSL for every ClientHello (with or without SNI), after it has decided to
    issue TLS 1.3 session tickets. OP_NO_TICKET set on the connection at this point is the
    one switch pyOpenSSL reaches that sends none: set on the context from the start, it only
    makes OpenSSL issue "stateful" tickets naming a session the disabled cache never holds
    (SSL_CTX_set_num_tickets, the documented switch, is not exposed). The link keeps no
    sessions, so a ticket would only mislead a second implementation."""
    conn.set_options(SSL.OP_NO_TICKET)


def _config_for(identity: Identity, allowed_pins: Iterable[str], server_side: bool) -> TLSConfig:
    pins = _pin_set(allowed_pins)
    cert, key = identity.cert, identity.key

    def verify(conn: SSL.Connection, peer: crypto.X509, errno: int, depth: int, ok: int) -> bool:
        if depth > 0:
            _note(conn, "peer sent a certificate chain; only a pinned self-signed key is accepted")
            return False
        pin = pin_of(peer.to_cryptography())
        pinned = pin in _pins_of(conn)  # this connection's pins: the context is shared
        if not pinned:
            _note(conn, f"peer certificate not pinned ({pin})")
        elif errno not in _ACCEPTED_ERRNOS:
            _note(conn, f"peer certificate failed X.509 checks (error {errno})")
        return pinned and errno in _ACCEPTED_ERRNOS

    def select_alpn(conn: SSL.Connection, offered: list[bytes]) -> bytes:
        if ALPN_PROTOCOL in offered:
            return ALPN_PROTOCOL
        _note(conn, "ALPN mismatch")
        raise _ALPNRefused

    ctx = SSL.Context(SSL.TLS_SERVER_METHOD if server_side else SSL.TLS_CLIENT_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
    ctx.set_max_proto_version(SSL.TLS1_3_VERSION)
    ctx.set_options(SSL.OP_NO_COMPRESSION)
    # Free a connection's record buffers (~34 KiB) whenever they are empty: an idle link, most
    # links most of the time, then holds none (issue 14: memory per idle link).
    ctx.set_mode(SSL.MODE_RELEASE_BUFFERS)
    ctx.set_session_cache_mode(SSL.SESS_CACHE_OFF)
    if server_side:
        ctx.set_tlsext_servername_callback(_no_session_tickets)
    else:
        ctx.set_options(SSL.OP_NO_TICKET)
    ctx.use_certificate(cert)
    ctx.use_privatekey(key)
    ctx.check_privatekey()
    if server_side:
        ctx.set_alpn_select_callback(select_alpn)
        mode = SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT | SSL.VERIFY_CLIENT_ONCE
    else:
        ctx.set_alpn_protos([ALPN_PROTOCOL])
        mode = SSL.VERIFY_PEER
    ctx.set_verify(mode, verify)
    return TLSConfig(server_side, pin_of(cert), pins, ctx, identity)


def _reason_from(error: SSL.Error) -> str:
    """A loggable reason for an OpenSSL failure that no callback explained."""
    if isinstance(error, SSL.SysCallError):
        return "TLS stream ended unexpectedly"
    if isinstance(error, SSL.ZeroReturnError):
        return "peer closed the connection during the handshake"
    errors = error.args[0] if error.args and isinstance(error.args[0], list) else []
    text = "; ".join(str(e[2]) for e in errors if isinstance(e, tuple) and len(e) == 3)
    for needles, reason in _REASONS:
        if any(n in text for n in needles):
            return reason.format(text)
    return f"TLS error ({text or 'unknown'})"


class TLSEngine:
    """One TLS session, sans-IO: ciphertext from the socket in, plaintext out, and back.

    Any handshake failure or TLS error raises :class:`TLSRefused`; the engine then stays refused.
    """

    def __init__(self, config: TLSConfig) -> None:
        self._config = config
        verdicts = _Verdicts(config.allowed_pins)
        self._notes = verdicts.notes  # refusal reasons from the callbacks, see _note
        self._conn = SSL.Connection(config.context, None)  # None: memory BIOs, no socket
        self._conn.set_app_data(verdicts)
        if config.server_side:
            self._conn.set_accept_state()
        else:
            self._conn.set_connect_state()
        self._first_bytes = bytearray()  # the client's, until its ClientHello is judged
        self._hello_judged = not config.server_side
        self._look_again_at = 0
        self._alert = b""  # an alert this engine writes itself (see protocol/client_hello.py)
        self._refused: str | None = None
        self._complete = False
        self._peer_pin: str | None = None
        self._closed_by_peer = False
        self._closing = False

    @property
    def handshake_complete(self) -> bool:
        return self._complete

    @property
    def peer_pin(self) -> str | None:
        """The verified peer's pin, once the handshake is complete."""
        return self._peer_pin

    @property
    def closed_by_peer(self) -> bool:
        """The peer sent close_notify."""
        return self._closed_by_peer

    def start(self) -> None:
        """Client: queue the ClientHello. Server: nothing to do until the peer speaks."""
        if not self._config.server_side:
            self._handshake()

    def receive_ciphertext(self, data: bytes) -> bytes:
        """Feed bytes from the socket; return the application bytes they completed."""
        if self._refused is not None:
            raise TLSRefused(self._refused)
        if not self._hello_judged:
            self._judge_client_hello(data)
        if data:
            self._conn.bio_write(data)  # a memory BIO grows as needed: never a partial write
        if not self._complete and not self._handshake():
            return b""
        received = bytearray()
        while not self._closed_by_peer:
            try:
                received += self._conn.recv(_RECORD_SIZE)
            except SSL.WantReadError:
                break
            except SSL.ZeroReturnError:
                self._closed_by_peer = True
            except SSL.Error as e:
                self._refuse(_reason_from(e))
        return bytes(received)

    def _judge_client_hello(self, data: bytes) -> None:
        """Server side, before OpenSSL sees the ClientHello: refuse plaintext and a missing
        ALPN offer with an alert, as OpenSSL refuses a wrong ALPN offer."""
        first = self._first_bytes
        first += data
        # Refuse plaintext (an HTTP probe, a port scanner) on its first bytes rather than
        # waiting out the handshake timeout for a record that will never be complete.
        if not _TLS_RECORD_START.startswith(bytes(first[: len(_TLS_RECORD_START)])):
            self._refuse(_NOT_TLS)
        if len(first) < self._look_again_at:
            return
        verdict = alpn_offered(bytes(first))
        if verdict is Alpn.INCOMPLETE and len(first) <= MAX_CLIENT_HELLO:
            self._look_again_at = bytes_before_verdict(bytes(first))
            return
        self._hello_judged = True
        self._first_bytes = bytearray()
        if verdict is Alpn.MISSING:
            self._alert = NO_APPLICATION_PROTOCOL_ALERT
            self._refuse("ALPN mismatch")

    def send_plaintext(self, data: bytes) -> None:
        """Encrypt application bytes; collect them with :meth:`ciphertext_to_send`."""
        if not self._complete or self._refused is not None or self._closing:
            raise RuntimeError("TLS session is not open for sending (handshake or close state)")
        view = memoryview(data)
        while view:
            try:
                sent = self._conn.send(view)  # partial writes are enabled: loop
            except SSL.Error as e:
                self._refuse(_reason_from(e))
            view = view[sent:]

    def ciphertext_to_send(self) -> bytes:
        """Everything queued for the socket: handshake messages, alerts, records."""
        out = bytearray(self._alert)
        self._alert = b""
        while True:
            try:
                chunk = self._conn.bio_read(_READ_SIZE)
            except SSL.WantReadError:
                return bytes(out)
            out += chunk
            if len(chunk) < _READ_SIZE:
                return bytes(out)  # a memory BIO hands over all it holds: it is empty now

    def close(self) -> None:
        """Queue close_notify. Idempotent; never raises (there may be no session to close)."""
        if not self._closing:
            self._closing = True
            with contextlib.suppress(SSL.Error):
                self._conn.shutdown()

    def _handshake(self) -> bool:
        """Drive the handshake; True once it is complete and the peer has been checked."""
        try:
            self._conn.do_handshake()
        except SSL.WantReadError:
            return False
        except (SSL.Error, _ALPNRefused) as e:
            fallback = _reason_from(e) if isinstance(e, SSL.Error) else "ALPN mismatch"
            self._refuse(self._notes[0] if self._notes else fallback)
        # Defence in depth: the callbacks should already have ensured all of this.
        if self._conn.get_protocol_version_name() != "TLSv1.3":
            self._refuse("TLS version not 1.3")
        if self._conn.get_alpn_proto_negotiated() != ALPN_PROTOCOL:
            self._refuse("ALPN mismatch")
        peer = self._conn.get_peer_certificate(as_cryptography=True)
        if peer is None:
            self._refuse("peer sent no certificate")
        pin = pin_of(peer)
        if pin not in self._config.allowed_pins:
            self._refuse(f"peer certificate not pinned ({pin})")
        self._peer_pin, self._complete = pin, True
        return True

    def _refuse(self, reason: str) -> NoReturn:
        self._refused = reason
        raise TLSRefused(reason)
