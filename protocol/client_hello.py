"""Whether a TLS ClientHello offers ALPN, read from the bytes before OpenSSL answers them.

OpenSSL calls the ALPN selection callback only when the client offers ALPN: a client offering
none would complete the handshake and could only be dropped afterwards, with no alert (TLS 1.3
servers finish before the client does). pyOpenSSL exposes no ClientHello callback, and the
engine is sans-IO anyway, so it reads the one plaintext message it needs here and answers a
ClientHello without ALPN with the same fatal `no_application_protocol` alert OpenSSL sends for
a wrong one. Anything this parser does not understand is left to OpenSSL to judge.
"""

from __future__ import annotations

from enum import Enum

_HANDSHAKE_RECORD = 22
_CLIENT_HELLO = 1
_ALPN_EXTENSION = 16
# A ClientHello bigger than this is not waited for here (OpenSSL still judges it); real ones,
# post-quantum key shares included, are a few KiB.
MAX_CLIENT_HELLO = 64 * 1024
# Records a ClientHello may come in and still be judged here: 64 KiB takes four full 16 KiB
# records. A hello cut finer is left to OpenSSL, so each look at the buffer reads a few records
# however a client slices it (one-byte records made every read re-parse thousands).
MAX_HELLO_RECORDS = 8
# A plaintext record (no keys exist yet): fatal (2) no_application_protocol (120), with the
# record version OpenSSL itself uses for this alert.
NO_APPLICATION_PROTOCOL_ALERT = bytes.fromhex("15030300020278")


class Alpn(Enum):
    OFFERED = "offered"  # or: not a ClientHello this parser understands; OpenSSL decides
    MISSING = "missing"
    INCOMPLETE = "incomplete"  # more bytes needed


def alpn_offered(first_bytes: bytes) -> Alpn:
    """Look at the bytes a client has sent so far (its first records)."""
    message = bytearray()
    position = 0
    records = 0
    while True:
        header = first_bytes[position : position + 5]
        if len(header) < 5:
            break
        if header[0] != _HANDSHAKE_RECORD:
            return Alpn.OFFERED
        records += 1
        if records > MAX_HELLO_RECORDS:
            return Alpn.OFFERED
        length = int.from_bytes(header[3:5], "big")
        fragment = first_bytes[position + 5 : position + 5 + length]
        message += fragment
        if len(fragment) < length:
            break
        position += 5 + length
    if len(message) < 4:
        return Alpn.INCOMPLETE
    if message[0] != _CLIENT_HELLO:
        return Alpn.OFFERED
    size = int.from_bytes(message[1:4], "big")
    if size > MAX_CLIENT_HELLO:
        return Alpn.OFFERED
    if len(message) < 4 + size:
        return Alpn.INCOMPLETE
    return _scan(bytes(message[4 : 4 + size]))


def bytes_before_verdict(first_bytes: bytes) -> int:
    """How many bytes alpn_offered needs before its answer can change: the end of the record
    still arriving, or the next record's header. Saves re-reading a trickled ClientHello."""
    position = 0
    for _ in range(MAX_HELLO_RECORDS + 1):
        if len(first_bytes) < position + 5:
            return position + 5
        position += 5 + int.from_bytes(first_bytes[position + 3 : position + 5], "big")
        if len(first_bytes) < position:
            return position
    return len(first_bytes) + 1  # alpn_offered has its verdict by now


def _scan(hello: bytes) -> Alpn:
    # legacy_version (2), random (32), then length-prefixed session id, cipher suites and
    # compression methods, then the extensions (RFC 8446 §4.1.2).
    position = 34
    for prefix in (1, 2, 1):
        if position + prefix > len(hello):
            return Alpn.OFFERED
        position += prefix + int.from_bytes(hello[position : position + prefix], "big")
    if position == len(hello):
        return Alpn.MISSING  # no extensions at all
    end = position + 2 + int.from_bytes(hello[position : position + 2], "big")
    if end != len(hello):
        return Alpn.OFFERED
    position += 2
    while position + 4 <= end:
        kind = int.from_bytes(hello[position : position + 2], "big")
        if kind == _ALPN_EXTENSION:
            return Alpn.OFFERED
        position += 4 + int.from_bytes(hello[position + 2 : position + 4], "big")
    return Alpn.MISSING if position == end else Alpn.OFFERED
