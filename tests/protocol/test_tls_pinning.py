"""The link accepts a peer only by pinned key, over TLS 1.3 with ALPN portico/1."""

from __future__ import annotations

import datetime
import random
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st
from OpenSSL import SSL

from protocol.keys import spki_pin
from protocol.tls import ALPN_PROTOCOL, TLSEngine, TLSRefused, client_config, server_config
from tests.protocol.tls_pair import RawEndpoint, TLSPair, engine_pair
from tests.support.keys import Identity, make_identity


@pytest.fixture
def agent(tmp_path: Path) -> Identity:
    return make_identity(tmp_path / "agent", "agent")


@pytest.fixture
def proxy(tmp_path: Path) -> Identity:
    return make_identity(tmp_path / "proxy", "proxy")


@pytest.fixture
def stranger(tmp_path: Path) -> Identity:
    return make_identity(tmp_path / "stranger", "stranger")


def server_engine(me: Identity, *allowed: Identity) -> TLSEngine:
    return TLSEngine(server_config(me.key_file, me.cert_file, [i.pin for i in allowed]))


def client_engine(me: Identity, *allowed: Identity) -> TLSEngine:
    return TLSEngine(client_config(me.key_file, me.cert_file, [i.pin for i in allowed]))


def raw_client_context(
    me: Identity | None,
    alpn: list[bytes] | None = None,
    max_version: int = SSL.TLS1_3_VERSION,
) -> SSL.Context:
    """A client that trusts any server and may break one of our rules."""
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_max_proto_version(max_version)
    ctx.set_verify(SSL.VERIFY_NONE)
    if me is not None:
        ctx.use_certificate_file(str(me.cert_file))
        ctx.use_privatekey_file(str(me.key_file))
    if alpn is not None:
        ctx.set_alpn_protos(alpn)
    return ctx


def refusal(error: Exception | None) -> str:
    assert isinstance(error, TLSRefused), f"expected TLSRefused, got {error!r}"
    return error.reason


@pytest.mark.parametrize("algorithms", [("ed25519", "ed25519"), ("ec", "ed25519"), ("ec", "ec")])
def test_mutual_pins_complete_the_handshake(tmp_path: Path, algorithms: tuple[str, str]) -> None:
    agent = make_identity(tmp_path / "a", "agent", algorithms[0])  # type: ignore[arg-type]
    proxy = make_identity(tmp_path / "p", "proxy", algorithms[1])  # type: ignore[arg-type]
    client, server = client_engine(proxy, agent), server_engine(agent, proxy)
    pair = engine_pair(client, server)
    pair.run()
    assert (pair.client_error, pair.server_error) == (None, None)
    assert client.handshake_complete and server.handshake_complete
    assert client.peer_pin == agent.pin
    assert server.peer_pin == proxy.pin


def test_data_flows_both_ways_and_close_notify_arrives(agent: Identity, proxy: Identity) -> None:
    client, server = client_engine(proxy, agent), server_engine(agent, proxy)
    pair = engine_pair(client, server)
    pair.run()
    client.send_plaintext(b"HELLO from proxy")
    server.send_plaintext(b"WELCOME from agent")
    pair.run()
    assert bytes(pair.to_server) == b"HELLO from proxy"
    assert bytes(pair.to_client) == b"WELCOME from agent"
    client.close()
    client.close()
    pair.run()
    assert server.closed_by_peer and not client.closed_by_peer
    with pytest.raises(RuntimeError):
        client.send_plaintext(b"after close")


def test_eight_mebibytes_round_trip_in_odd_chunks(agent: Identity, proxy: Identity) -> None:
    client, server = client_engine(proxy, agent), server_engine(agent, proxy)
    pair = engine_pair(client, server, chunk=7919)  # a prime: chunks straddle record boundaries
    pair.run()
    big = random.Random(1).randbytes(8 * 1024 * 1024)
    client.send_plaintext(big)
    server.send_plaintext(big[::-1])
    pair.run(max_rounds=5)
    assert pair.to_server == big
    assert pair.to_client == big[::-1]


def test_send_before_handshake_is_a_programming_error(agent: Identity, proxy: Identity) -> None:
    client = client_engine(proxy, agent)
    client.start()
    with pytest.raises(RuntimeError):
        client.send_plaintext(b"too early")
    client.close()  # never raises, even mid-handshake


def test_server_refuses_unpinned_client(
    agent: Identity, proxy: Identity, stranger: Identity
) -> None:
    client, server = client_engine(stranger, agent), server_engine(agent, proxy)
    pair = engine_pair(client, server)
    pair.run()
    assert refusal(pair.server_error) == f"peer certificate not pinned ({stranger.pin})"
    assert not server.handshake_complete and server.peer_pin is None
    assert "peer refused" in refusal(pair.client_error)  # the alert reached the client
    with pytest.raises(TLSRefused, match="not pinned"):
        server.receive_ciphertext(b"")  # a refused engine stays refused


def test_client_refuses_unpinned_server(
    agent: Identity, proxy: Identity, stranger: Identity
) -> None:
    client, server = client_engine(proxy, agent), server_engine(stranger, proxy)
    pair = engine_pair(client, server)
    pair.run()
    assert refusal(pair.client_error) == f"peer certificate not pinned ({stranger.pin})"
    assert not client.handshake_complete and client.peer_pin is None
    assert isinstance(pair.server_error, TLSRefused)
    assert not server.handshake_complete


def test_server_refuses_client_without_certificate(agent: Identity, proxy: Identity) -> None:
    server = server_engine(agent, proxy)
    pair = TLSPair(RawEndpoint(raw_client_context(None, [ALPN_PROTOCOL])), server)
    pair.run()
    assert refusal(pair.server_error) == "peer sent no certificate"
    assert not server.handshake_complete


def test_server_refuses_certificate_chain(tmp_path: Path, agent: Identity) -> None:
    # A CA-issued leaf whose own key is pinned is still refused: only a lone key is trusted.
    ca_key, leaf_key = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    now = datetime.datetime.now(datetime.UTC)

    def cert(name: str, key: ed25519.Ed25519PrivateKey, ca: bool) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(ca_key, None)
        )

    leaf = cert("leaf", leaf_key, ca=False)
    ctx = raw_client_context(None, [ALPN_PROTOCOL])
    ctx.use_certificate(leaf)
    ctx.add_extra_chain_cert(cert("ca", ca_key, ca=True))
    ctx.use_privatekey(leaf_key)
    leaf_pin = spki_pin(leaf.public_bytes(serialization.Encoding.DER))
    server = TLSEngine(server_config(agent.key_file, agent.cert_file, [leaf_pin]))
    pair = TLSPair(RawEndpoint(ctx), server)
    pair.run()
    assert "chain" in refusal(pair.server_error)


@pytest.mark.parametrize(
    "first_bytes",
    [
        b"GET / HTTP/1.1\r\nHost: agent.example\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"G",
        b"\x16\x01",  # the right record type, but not TLS's version byte
        random.Random(7).randbytes(64).replace(b"\x16", b"\x00"),
    ],
)
def test_server_refuses_non_tls_on_first_bytes(
    agent: Identity, proxy: Identity, first_bytes: bytes
) -> None:
    server = server_engine(agent, proxy)
    server.start()
    with pytest.raises(TLSRefused) as refused:
        server.receive_ciphertext(first_bytes)
    assert refused.value.reason == (
        "peer did not speak TLS (first bytes are not a TLS handshake record)"
    )
    assert server.ciphertext_to_send() == b""
    with pytest.raises(TLSRefused):
        server.receive_ciphertext(b"\x16\x03\x01")


def test_any_non_tls_first_bytes_are_refused(agent: Identity, proxy: Identity) -> None:
    config = server_config(agent.key_file, agent.cert_file, [proxy.pin])

    @given(st.binary(min_size=1).filter(lambda b: b[:2] not in (b"\x16", b"\x16\x03")))
    def check(first_bytes: bytes) -> None:
        with pytest.raises(TLSRefused, match="did not speak TLS"):
            TLSEngine(config).receive_ciphertext(first_bytes)

    check()


def test_server_sniffs_across_split_first_bytes(agent: Identity, proxy: Identity) -> None:
    server = server_engine(agent, proxy)
    assert server.receive_ciphertext(b"\x16") == b""
    with pytest.raises(TLSRefused, match="did not speak TLS"):
        server.receive_ciphertext(b"\x00")


@pytest.mark.parametrize("alpn", [[b"h2", b"http/1.1"], None])
def test_server_refuses_other_alpn(
    agent: Identity, proxy: Identity, alpn: list[bytes] | None
) -> None:
    server = server_engine(agent, proxy)
    pair = TLSPair(RawEndpoint(raw_client_context(proxy, alpn)), server)
    pair.run()
    assert refusal(pair.server_error) == "ALPN mismatch"
    assert not server.handshake_complete


def test_client_refuses_server_without_alpn(agent: Identity, proxy: Identity) -> None:
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.use_certificate_file(str(agent.cert_file))
    ctx.use_privatekey_file(str(agent.key_file))
    ctx.set_verify(SSL.VERIFY_PEER, lambda *_: True)
    ctx.set_alpn_select_callback(lambda _conn, _offered: SSL.NO_OVERLAPPING_PROTOCOLS)
    client = client_engine(proxy, agent)
    client.start()
    pair = TLSPair(client, RawEndpoint(ctx, server_side=True))
    pair.run()
    assert refusal(pair.client_error) == "ALPN mismatch"
    assert not client.handshake_complete


def test_server_refuses_tls12_client(agent: Identity, proxy: Identity) -> None:
    ctx = raw_client_context(proxy, [ALPN_PROTOCOL], max_version=SSL.TLS1_2_VERSION)
    server = server_engine(agent, proxy)
    pair = TLSPair(RawEndpoint(ctx), server)
    pair.run()
    assert refusal(pair.server_error) == "TLS version not 1.3"
    assert not server.handshake_complete
    assert isinstance(pair.client_error, SSL.Error)  # refused with an alert, not after the fact


def test_server_refuses_expired_pinned_certificate(agent: Identity) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old proxy")])
    now = datetime.datetime.now(datetime.UTC)
    expired = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))
        .sign(key, None)
    )
    ctx = raw_client_context(None, [ALPN_PROTOCOL])
    ctx.use_certificate(expired)
    ctx.use_privatekey(key)
    pin = spki_pin(expired.public_bytes(serialization.Encoding.DER))
    server = TLSEngine(server_config(agent.key_file, agent.cert_file, [pin]))
    pair = TLSPair(RawEndpoint(ctx), server)
    pair.run()
    assert refusal(pair.server_error).startswith("peer certificate failed X.509 checks")
