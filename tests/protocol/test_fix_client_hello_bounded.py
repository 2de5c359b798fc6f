"""Security review of issue 11's link fixes:

> protocol/client_hello.py buffers a ClientHello before OpenSSL sees it — bounded, and is a
> garbage/huge ClientHello handled without exceptions leaking?

The buffer was bounded (64 KiB) and garbage gets a verdict without exceptions
(test_fix_alpn_required.py), but the work was not: a ClientHello cut into one-byte records,
one record per read, was parsed again from its first record on every read. Some 360 KB
from a client on the proxies' network kept the agent's event loop (every office link) busy
for about half a minute of CPU before OpenSSL refused it. Real ClientHellos take one record,
a few with large post-quantum key shares; a hello in more records than that is left to
OpenSSL, and a partial record is not looked at again before it is complete.

No clock: the test counts the bytes the parser is handed, which is the work.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import protocol.tls
from protocol.client_hello import MAX_CLIENT_HELLO, Alpn, alpn_offered
from protocol.tls import TLSEngine, TLSRefused, server_config
from tests.protocol.test_fix_alpn_required import client_hello
from tests.support.keys import make_identity


def in_records(message: bytes, size: int) -> list[bytes]:
    return [
        b"\x16\x03\x01" + len(part).to_bytes(2, "big") + part
        for part in (message[i : i + size] for i in range(0, len(message), size))
    ]


def test_a_hello_trickled_in_tiny_records_is_read_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = make_identity(tmp_path / "agent", "agent")
    engine = TLSEngine(server_config(agent.key_file, agent.cert_file, [agent.pin]))
    read: list[int] = []

    def parse(first_bytes: bytes) -> Alpn:
        read.append(len(first_bytes))
        return alpn_offered(first_bytes)

    monkeypatch.setattr(protocol.tls, "alpn_offered", parse)
    size = 60_000  # declared: the hello never completes, as an attacker's would not
    body = b"\x01" + size.to_bytes(3, "big") + b"\x03\x03" + bytes(size - 2)
    with pytest.raises(TLSRefused):  # OpenSSL's verdict, as soon as it has one
        for record in in_records(body, 1):
            engine.receive_ciphertext(record)
    # Each byte of the buffer parsed a handful of times at most, not once per read.
    assert sum(read) <= 8 * MAX_CLIENT_HELLO, (len(read), sum(read))


def test_a_hello_in_more_records_than_real_ones_use_is_left_to_openssl() -> None:
    hello = client_hello(None)  # no ALPN: in one record, refused here (MISSING)
    message = hello[5:]
    assert alpn_offered(hello) is Alpn.MISSING
    assert alpn_offered(b"".join(in_records(message, len(message) // 2 + 1))) is Alpn.MISSING
    assert alpn_offered(b"".join(in_records(message, 1))) is Alpn.OFFERED
