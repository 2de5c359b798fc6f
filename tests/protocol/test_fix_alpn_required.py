"""Issue 11, the link: "A client offering no ALPN completes the handshake and is then dropped
without an alert; refuse it in the handshake like a wrong ALPN."

A stdlib `ssl` client — a second implementation's likely choice — with the pinned proxy key:
offering no ALPN must fail its own handshake with the same `no_application_protocol` alert as
offering the wrong protocol, and the agent logs the refusal before any frame.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from OpenSSL import SSL

from protocol.client_hello import Alpn, alpn_offered
from protocol.tls import ALPN_PROTOCOL
from tests.protocol.link_fixtures import HOST, PATIENCE, LinkHarness
from tests.protocol.tls_pair import RawEndpoint


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


def stdlib_client(link: LinkHarness, alpn: list[str] | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the agent's pin is not what this test is about
    context.load_cert_chain(link.proxy.cert_file, link.proxy.key_file)
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    return context


@pytest.mark.parametrize("alpn", [None, ["h2", "http/1.1"]], ids=["no-alpn", "wrong-alpn"])
async def test_a_client_without_the_right_alpn_gets_an_alert_in_the_handshake(
    link: LinkHarness, alpn: list[str] | None
) -> None:
    server = await link.start_server()

    with pytest.raises(ssl.SSLError, match=r"(?i)no.application.protocol"):
        async with asyncio.timeout(PATIENCE):
            await asyncio.open_connection(HOST, server.port, ssl=stdlib_client(link, alpn))

    refusal = await link.logs.wait_for("link.refused", role="responder")
    assert (refusal["stage"], refusal["reason"]) == ("tls", "ALPN mismatch")
    assert link.hellos == []


async def test_the_same_client_with_portico_alpn_completes_the_handshake(
    link: LinkHarness,
) -> None:
    server = await link.start_server()
    context = stdlib_client(link, [ALPN_PROTOCOL.decode()])

    _, writer = await asyncio.open_connection(HOST, server.port, ssl=context)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        assert ssl_object.selected_alpn_protocol() == "portico/1"
    finally:
        writer.close()


def client_hello(alpn: list[bytes] | None) -> bytes:
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    if alpn is not None:
        context.set_alpn_protos(alpn)
    return RawEndpoint(context).ciphertext_to_send()


@pytest.mark.parametrize(
    ("alpn", "verdict"),
    [(None, Alpn.MISSING), ([b"h2"], Alpn.OFFERED), ([ALPN_PROTOCOL], Alpn.OFFERED)],
)
def test_the_client_hello_is_judged_only_once_complete(
    alpn: list[bytes] | None, verdict: Alpn
) -> None:
    hello = client_hello(alpn)

    assert alpn_offered(hello) is verdict
    for cut in (1, 5, 9, len(hello) // 2, len(hello) - 1):
        assert alpn_offered(hello[:cut]) is Alpn.INCOMPLETE


@given(st.binary(max_size=600))
def test_any_bytes_get_a_verdict_and_never_an_exception(data: bytes) -> None:
    assert isinstance(alpn_offered(b"\x16\x03\x01" + data), Alpn)
    assert isinstance(alpn_offered(data), Alpn)
