"""Two TLS endpoints joined by an in-memory wire, for driving handshakes without sockets."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Protocol

from OpenSSL import SSL

from protocol.tls import TLSEngine


class Endpoint(Protocol):
    def receive_ciphertext(self, data: bytes) -> bytes: ...
    def ciphertext_to_send(self) -> bytes: ...


class RawEndpoint:
    """pyOpenSSL on a hand-built context: a peer that does not follow Portico's rules."""

    def __init__(self, context: SSL.Context, *, server_side: bool = False) -> None:
        self.conn = SSL.Connection(context, None)
        if server_side:
            self.conn.set_accept_state()
        else:
            self.conn.set_connect_state()
            with contextlib.suppress(SSL.WantReadError):
                self.conn.do_handshake()

    def receive_ciphertext(self, data: bytes) -> bytes:
        self.conn.bio_write(data)
        try:
            self.conn.do_handshake()
            return self.conn.recv(65536)
        except SSL.WantReadError:
            return b""

    def ciphertext_to_send(self) -> bytes:
        out = b""
        while True:
            try:
                out += self.conn.bio_read(65536)
            except SSL.WantReadError:
                return out


@dataclass
class TLSPair:
    """Shuttles bytes between a client and a server until the wire is quiet.

    An exception raised by one side is recorded rather than propagated, and bytes that side
    queued (an alert) still reach the other, so a test can check both ends of a refusal.
    """

    client: Endpoint
    server: Endpoint
    chunk: int = 1 << 30
    client_error: Exception | None = None
    server_error: Exception | None = None
    to_client: bytearray = field(default_factory=bytearray)
    to_server: bytearray = field(default_factory=bytearray)

    def _deliver(self, data: bytes, to_server: bool) -> bool:
        receiver = self.server if to_server else self.client
        for start in range(0, len(data), self.chunk):
            if (self.server_error if to_server else self.client_error) is not None:
                return True
            try:
                plain = receiver.receive_ciphertext(data[start : start + self.chunk])
            except Exception as e:
                if to_server:
                    self.server_error = e
                else:
                    self.client_error = e
                return True
            (self.to_server if to_server else self.to_client).extend(plain)
        return bool(data)

    def run(self, max_rounds: int = 50) -> None:
        for _ in range(max_rounds):
            moved = self._deliver(self.client.ciphertext_to_send(), to_server=True)
            moved |= self._deliver(self.server.ciphertext_to_send(), to_server=False)
            if not moved:
                return
        raise AssertionError("the wire never went quiet")


def engine_pair(client: TLSEngine, server: TLSEngine, chunk: int = 1 << 30) -> TLSPair:
    client.start()
    server.start()
    return TLSPair(client, server, chunk)
