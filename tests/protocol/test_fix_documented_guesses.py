"""Issue 11, the link: "Document what a second implementer had to guess: the code for an unknown
method, which code wins for bad HELLO fields, ALPN lists, accepted key types, JSON depth limit,
PING repeat interval, `deadline_ms: 0`, bare TCP close as a normal end, GOAWAY `forbidden` on a
withdrawn pin."

One test per point, each pinning what docs/protocol.md now says (the unknown method is in
tests/agent/test_fix_unknown_method.py: it needs the agent's methods).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from OpenSSL import SSL

from protocol.aio import Request
from protocol.connection import Connection
from protocol.frames import MAX_JSON_DEPTH, FrameType, encode_frame
from protocol.keys import identity_pem, spki_pin
from protocol.state import Role
from protocol.tls import ALPN_PROTOCOL, TLSEngine, client_config, server_config
from tests.protocol.link_fixtures import HOST, SHORT, LinkHarness, until
from tests.protocol.pair import frame, opened_pair, refused, request_body
from tests.protocol.raw_link import RawLink, body
from tests.protocol.tls_pair import RawEndpoint, TLSPair
from tests.support.keys import Identity, make_identity


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


# -- HELLO: which code wins -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hello", "code"),
    [
        ({"versions": [2], "tenant": 5, "requester_id": "p"}, "protocol_error"),
        ({"versions": [2], "tenant": "t"}, "protocol_error"),
        ({"versions": "1", "tenant": "t", "requester_id": "p"}, "protocol_error"),
        ({"versions": [2, 3], "tenant": "t", "requester_id": "p"}, "unsupported_version"),
    ],
)
def test_a_bad_hello_field_beats_an_unsupported_version(hello: dict[str, Any], code: str) -> None:
    responder = Connection(Role.RESPONDER)
    goaway = refused(responder, frame(FrameType.HELLO, 0, hello), code)
    assert goaway.code == code
    assert responder.last_peer_stream == 0


async def test_an_unsupported_version_beats_a_tenant_the_agent_does_not_serve(
    link: LinkHarness,
) -> None:
    def refuse_every_tenant(hello: Any) -> dict[str, Any]:
        raise AssertionError("on_hello must not be asked once the version is refused")

    server = await link.start_server(on_hello=refuse_every_tenant)
    raw = await RawLink.open(HOST, server.port, link.client_tls())
    try:
        wrong = {"versions": [2], "tenant": "elsewhere", "requester_id": "p"}
        raw.send(encode_frame(FrameType.HELLO, 0, 0, json.dumps(wrong).encode()))
        goaway = await raw.next_frame()
    finally:
        raw.close()
    assert (goaway.type, body(goaway)["code"]) == (FrameType.GOAWAY, "unsupported_version")
    assert body(goaway)["last_stream_id"] == 0


# -- ALPN lists and key types -----------------------------------------------------------------


def test_a_list_holding_portico_among_others_gets_portico(tmp_path: Path) -> None:
    agent, proxy = make_identity(tmp_path / "a", "agent"), make_identity(tmp_path / "p", "proxy")
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.use_certificate_file(str(proxy.cert_file))
    context.use_privatekey_file(str(proxy.key_file))
    context.set_verify(SSL.VERIFY_NONE)
    context.set_alpn_protos([b"h2", ALPN_PROTOCOL, b"http/1.1"])
    client = RawEndpoint(context)
    server = TLSEngine(server_config(agent.key_file, agent.cert_file, [proxy.pin]))
    pair = TLSPair(client, server)
    pair.run()
    assert pair.server_error is None and server.handshake_complete
    assert client.conn.get_alpn_proto_negotiated() == ALPN_PROTOCOL


def write_key(directory: Path, key: Any) -> Identity:
    """An identity (the files make_identity writes) for a key init-keys would not make."""
    key_pem, cert_pem = identity_pem(key, "odd key")
    directory.mkdir(parents=True)
    (directory / "key.pem").write_bytes(key_pem)
    (directory / "cert.pem").write_bytes(cert_pem)
    return Identity(directory / "key.pem", directory / "cert.pem", spki_pin(cert_pem))


@pytest.mark.parametrize(
    ("key", "refusal"),
    [
        (lambda: rsa.generate_private_key(65537, 2048), "unsupported key type"),
        (lambda: ec.generate_private_key(ec.SECP256K1()), "use P-256, P-384 or P-521"),
    ],
    ids=["rsa", "secp256k1"],
)
def test_an_own_key_tls13_cannot_use_is_refused_at_load(
    tmp_path: Path, key: Any, refusal: str
) -> None:
    me = write_key(tmp_path / "me", key())
    for build in (server_config, client_config):
        with pytest.raises(ValueError, match=refusal):
            build(me.key_file, me.cert_file, [me.pin])


@pytest.mark.parametrize("peer_key", ["p384", "rsa"])
def test_a_peer_key_is_judged_by_its_pin_not_its_type(tmp_path: Path, peer_key: str) -> None:
    agent = make_identity(tmp_path / "a", "agent")
    if peer_key == "p384":
        proxy = write_key(tmp_path / "p", ec.generate_private_key(ec.SECP384R1()))
        client = TLSEngine(client_config(proxy.key_file, proxy.cert_file, [agent.pin]))
    else:  # RSA may not be one's own key, but a pinned RSA peer is accepted (RSA-PSS)
        proxy = write_key(tmp_path / "p", rsa.generate_private_key(65537, 2048))
        context = SSL.Context(SSL.TLS_CLIENT_METHOD)
        context.use_certificate_file(str(proxy.cert_file))
        context.use_privatekey_file(str(proxy.key_file))
        context.set_verify(SSL.VERIFY_NONE)
        context.set_alpn_protos([ALPN_PROTOCOL])
        client = RawEndpoint(context)  # type: ignore[assignment]
    server = TLSEngine(server_config(agent.key_file, agent.cert_file, [proxy.pin]))
    if isinstance(client, TLSEngine):
        client.start()
    pair = TLSPair(client, server)
    pair.run()
    assert pair.server_error is None and server.peer_pin == proxy.pin


# -- JSON depth -------------------------------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    """A REQUEST whose whole payload nests `depth` deep (the payload object is level 1)."""
    value: Any = "leaf"
    for _ in range(depth - 2):
        value = [value]
    return request_body(params={"deep": value})


def test_json_nests_at_most_512_deep() -> None:
    assert MAX_JSON_DEPTH == 512
    pair = opened_pair()
    [request] = pair.responder.receive_data(frame(FrameType.REQUEST, 1, nested(512)))
    assert request.stream_id == 1  # type: ignore[attr-defined]

    error = refused(pair.responder, frame(FrameType.REQUEST, 3, nested(513)))
    assert "deeper than 512" in error.message


def test_brackets_inside_strings_do_not_count() -> None:
    pair = opened_pair()
    text = '[{"\\"' * 600
    [request] = pair.responder.receive_data(
        frame(FrameType.REQUEST, 1, request_body(params={"text": text}))
    )
    assert request.params == {"text": text}  # type: ignore[attr-defined]


# -- liveness, deadlines, close ---------------------------------------------------------------


async def test_pings_repeat_while_nothing_arrives(link: LinkHarness) -> None:
    server = await link.start_server(timeouts=SHORT)
    raw = await RawLink.open(HOST, server.port, link.client_tls())
    try:
        assert (await raw.hello("demo")).type is FrameType.WELCOME
        frames = await raw.until_closed()  # this peer never answers a PING
    finally:
        raw.close()
    pings = [f.payload for f in frames if f.type is FrameType.PING]
    assert len(pings) >= 2, frames
    assert pings == sorted(set(pings)), "each PING carries the next counter value"
    assert (frames[-1].type, body(frames[-1])["code"]) == (FrameType.GOAWAY, "timeout")


async def test_deadline_zero_is_answered_deadline_exceeded_without_running(
    link: LinkHarness,
) -> None:
    ran: list[str] = []

    async def handler(request: Request) -> Any:
        ran.append(request.method)
        return "ran"

    server = await link.start_server(handler)
    raw = await RawLink.open(HOST, server.port, link.client_tls())
    try:
        assert (await raw.hello("demo")).type is FrameType.WELCOME
        for stream_id, deadline_ms in ((1, 0), (3, 60_000)):
            payload = json.dumps(request_body(method="m", deadline_ms=deadline_ms)).encode()
            raw.send(encode_frame(FrameType.REQUEST, 0, stream_id, payload))
        answers = [await raw.next_frame(), await raw.next_frame()]
    finally:
        raw.close()
    by_stream = {f.stream_id: f for f in answers}
    assert by_stream[1].type is FrameType.ERROR
    assert body(by_stream[1])["code"] == "deadline_exceeded"
    assert body(by_stream[3]) == {"result": "ran"}
    assert ran == ["m"]


async def test_a_bare_tcp_close_ends_the_link_quietly(link: LinkHarness) -> None:
    started, stopped = asyncio.Event(), asyncio.Event()

    async def handler(request: Request) -> Any:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    server = await link.start_server(handler)
    raw = await RawLink.open(HOST, server.port, link.client_tls())
    assert (await raw.hello("demo")).type is FrameType.WELCOME
    raw.send(frame(FrameType.REQUEST, 1, request_body(method="slow")))
    await asyncio.wait_for(started.wait(), 5)

    raw.writer.transport.abort()  # no GOAWAY, no close_notify

    await asyncio.wait_for(stopped.wait(), 5)  # the method was stopped
    await until(lambda: not server.connections)
    quiet = {"debug", "info"}
    assert all(r["level"] in quiet for r in link.logs.records() if r.get("role") == "responder")


async def test_a_withdrawn_pin_gets_goaway_forbidden_after_its_requests(
    link: LinkHarness,
) -> None:
    release = asyncio.Event()

    async def handler(request: Request) -> Any:
        await release.wait()
        return "finished"

    server = await link.start_server(handler)
    raw = await RawLink.open(HOST, server.port, link.client_tls())
    try:
        assert (await raw.hello("demo")).type is FrameType.WELCOME
        raw.send(frame(FrameType.REQUEST, 1, request_body(method="slow")))
        await until(lambda: any(c.tasks for c in server.connections))

        assert (
            server.reconfigure(
                tls=server.tls.with_allowed_pins([link.stranger.pin]), allowed_networks=None
            )
            == 1
        )
        goaway = await raw.next_frame()
        raw.send(frame(FrameType.REQUEST, 3, request_body(method="late")))
        refused_late = await raw.next_frame()
        release.set()
        rest = await raw.until_closed()
    finally:
        raw.close()

    assert goaway.type is FrameType.GOAWAY
    assert body(goaway) == {
        "code": "forbidden",
        "last_stream_id": 1,
        "message": "this proxy is no longer allowed",
    }
    assert (refused_late.stream_id, body(refused_late)["code"]) == (3, "shutdown")
    assert [(f.type, f.stream_id, body(f)) for f in rest] == [
        (FrameType.RESPONSE, 1, {"result": "finished"})
    ]
