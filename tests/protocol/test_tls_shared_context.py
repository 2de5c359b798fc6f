"""One OpenSSL context per key pair, shared by every peer's pins (issue 14): re-pinning
builds nothing, and each connection is still checked against the pins it was made with."""

from __future__ import annotations

from pathlib import Path

from OpenSSL import SSL

from protocol.tls import TLSEngine, TLSRefused, client_config, server_config
from tests.protocol.tls_pair import engine_pair
from tests.support.keys import make_identity


def test_each_connection_is_checked_against_its_own_pins(tmp_path: Path) -> None:
    proxy = make_identity(tmp_path / "proxy", "proxy")
    north = make_identity(tmp_path / "north", "north")
    south = make_identity(tmp_path / "south", "south")
    to_north = client_config(proxy.key_file, proxy.cert_file, [north.pin])
    to_south = to_north.with_allowed_pins([south.pin])
    assert to_south.context is to_north.context  # one context, two offices' pins
    assert to_south.allowed_pins == {south.pin} and to_north.allowed_pins == {north.pin}

    def handshake(client: TLSEngine, agent_key: Path, agent_cert: Path) -> TLSRefused | None:
        server = TLSEngine(server_config(agent_key, agent_cert, [proxy.pin]))
        pair = engine_pair(client, server)
        pair.run()
        assert pair.server_error is None or pair.client_error is not None
        if pair.client_error is None:
            assert client.handshake_complete
        return pair.client_error  # type: ignore[return-value]

    # Interleaved, so the pins of the last connection made cannot leak into the next one.
    assert handshake(TLSEngine(to_north), north.key_file, north.cert_file) is None
    refused = handshake(TLSEngine(to_north), south.key_file, south.cert_file)
    assert (
        isinstance(refused, TLSRefused)
        and refused.reason == f"peer certificate not pinned ({south.pin})"
    )
    assert handshake(TLSEngine(to_south), south.key_file, south.cert_file) is None
    refused = handshake(TLSEngine(to_south), north.key_file, north.cert_file)
    assert (
        isinstance(refused, TLSRefused)
        and refused.reason == f"peer certificate not pinned ({north.pin})"
    )


def test_a_connection_made_before_a_re_pin_keeps_the_trust_it_was_made_with(
    tmp_path: Path,
) -> None:
    agent = make_identity(tmp_path / "agent", "agent")
    proxy = make_identity(tmp_path / "proxy", "proxy")
    stranger = make_identity(tmp_path / "stranger", "stranger")
    before = server_config(agent.key_file, agent.cert_file, [proxy.pin])
    engine = TLSEngine(before)
    before.with_allowed_pins([stranger.pin])  # a reload that withdrew the proxy's pin

    pair = engine_pair(
        TLSEngine(client_config(proxy.key_file, proxy.cert_file, [agent.pin])), engine
    )
    pair.run()
    assert pair.server_error is None and engine.peer_pin == proxy.pin


def test_idle_connections_release_their_record_buffers(tmp_path: Path) -> None:
    me = make_identity(tmp_path / "me", "me")
    for build in (client_config, server_config):
        context = build(me.key_file, me.cert_file, [me.pin]).context
        assert context.set_mode(0) & SSL.MODE_RELEASE_BUFFERS  # set_mode(0) adds nothing
