"""Using the API wrongly raises LocalProtocolError, sends nothing, and leaves the link usable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from protocol.connection import Connection
from protocol.errors import LocalProtocolError, RemoteProtocolError
from protocol.events import ErrorReceived, ResponseReceived
from protocol.frames import Limits
from protocol.state import ConnectionState, Role
from tests.protocol.pair import ConnectionPair, opened_pair


def assert_refused_quietly(conn: Connection, call: Callable[[], Any], code: str | None = None):
    """The call raises LocalProtocolError, queues nothing and changes no state."""
    conn.data_to_send()
    state, open_streams = conn.state, conn.open_streams
    with pytest.raises(LocalProtocolError) as caught:
        call()
    if code is not None:
        assert caught.value.code == code
    assert conn.data_to_send() == b""
    assert (conn.state, conn.open_streams) == (state, open_streams)
    return caught.value


def test_send_request_before_the_handshake() -> None:
    pair = ConnectionPair()
    assert_refused_quietly(pair.requester, lambda: pair.requester.send_request("m", {}))
    pair.requester.send_hello("riverside", "proxy-1")
    assert_refused_quietly(pair.requester, lambda: pair.requester.send_request("m", {}))


def test_send_welcome_twice() -> None:
    pair = opened_pair()
    assert_refused_quietly(pair.responder, lambda: pair.responder.send_welcome("1", {}))


def test_send_welcome_before_hello_and_hello_twice() -> None:
    responder = Connection(Role.RESPONDER)
    assert_refused_quietly(responder, lambda: responder.send_welcome("1", {}))
    requester = Connection(Role.REQUESTER)
    requester.send_hello("t", "p")
    assert_refused_quietly(requester, lambda: requester.send_hello("t", "p"))


@pytest.mark.parametrize(
    ("role", "method"),
    [
        (Role.RESPONDER, "send_hello"),
        (Role.RESPONDER, "send_request"),
        (Role.RESPONDER, "send_cancel"),
        (Role.REQUESTER, "send_welcome"),
        (Role.REQUESTER, "send_response"),
        (Role.REQUESTER, "send_error"),
    ],
)
def test_the_other_roles_frames(role: Role, method: str) -> None:
    pair = opened_pair()
    conn = pair.requester if role is Role.REQUESTER else pair.responder
    args: dict[str, tuple[Any, ...]] = {
        "send_hello": ("t", "p"),
        "send_request": ("m", {}),
        "send_cancel": (1,),
        "send_welcome": ("1", {}),
        "send_response": (1, None),
        "send_error": (1, "internal", "x"),
    }
    assert_refused_quietly(conn, lambda: getattr(conn, method)(*args[method]))


@pytest.mark.parametrize(
    "params",
    [{"ids": {1, 2}}, {"when": object()}, {"x": float("nan")}, {"x": float("inf")}, {1j: 1}],
    ids=["set", "object", "nan", "inf", "complex key"],
)
def test_params_that_are_not_json(params: dict[Any, Any]) -> None:
    pair = opened_pair()
    assert_refused_quietly(pair.requester, lambda: pair.requester.send_request("m", params))
    assert pair.requester.send_request("m", {}) == 1, "no stream id was used up"


def test_a_result_that_is_not_json() -> None:
    pair = opened_pair()
    stream_id = pair.requester.send_request("m", {})
    pair.to_responder()

    assert_refused_quietly(pair.responder, lambda: pair.responder.send_response(stream_id, {1, 2}))
    assert pair.responder.open_streams == 1, "the request can still be answered"
    assert pair.responder.send_response(stream_id, [1, 2]) is True
    assert pair.to_requester() == [ResponseReceived(stream_id, [1, 2])]


def test_a_request_over_the_peers_max_message() -> None:
    pair = opened_pair(responder_limits=Limits(max_frame=1024, max_message=4096))
    error = assert_refused_quietly(
        pair.requester,
        lambda: pair.requester.send_request("m", {"blob": "b" * 4096}),
        code="frame_too_large",
    )
    assert "4096" in error.message
    assert pair.requester.send_request("m", {"blob": "b" * 3000}) == 1


def test_a_response_over_the_default_max_message() -> None:
    pair = opened_pair()
    stream_id = pair.requester.send_request("m", {})
    pair.to_responder()

    assert_refused_quietly(
        pair.responder,
        lambda: pair.responder.send_response(stream_id, "x" * (8 * 1024 * 1024)),
        code="frame_too_large",
    )


@pytest.mark.parametrize("data", [b"", b"1234567", b"123456789"])
def test_ping_must_carry_eight_bytes(data: bytes) -> None:
    pair = opened_pair()
    assert_refused_quietly(pair.requester, lambda: pair.requester.send_ping(data))


def test_ping_before_the_handshake() -> None:
    requester = Connection(Role.REQUESTER)
    assert_refused_quietly(requester, lambda: requester.send_ping(b"12345678"))


def test_answering_a_stream_that_never_existed() -> None:
    pair = opened_pair()
    pair.requester.send_request("m", {})
    pair.to_responder()
    for stream_id in (0, 3, 4, 2**32 - 1):
        assert_refused_quietly(
            pair.responder, lambda s=stream_id: pair.responder.send_response(s, 1)
        )


def test_goaway_before_the_handshake() -> None:
    for conn in (Connection(Role.REQUESTER), Connection(Role.RESPONDER)):
        assert_refused_quietly(conn, lambda c=conn: c.send_goaway("shutdown"))


def test_nothing_may_be_sent_after_a_protocol_error() -> None:
    pair = opened_pair()
    with pytest.raises(RemoteProtocolError):
        pair.responder.receive_data(b"\x09" * 12)
    pair.responder.data_to_send()
    assert pair.responder.state is ConnectionState.CLOSED

    assert_refused_quietly(pair.responder, lambda: pair.responder.send_ping(b"12345678"))
    assert_refused_quietly(pair.responder, lambda: pair.responder.send_goaway("shutdown"))


# What a send_* method accepts must not end the connection at the peer. A REQUEST the responder
# finds malformed is answered `invalid_params` on its own stream (the link goes on); in every
# other message it is a protocol_error that closes the link, so those arguments have to be
# refused locally with LocalProtocolError.
@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "m", "params": [1, 2]},
        {"method": "m" * 257, "params": {}},
        {"method": 7, "params": {}},
        {"method": "m", "params": {}, "session": 12345},
        {"method": "m", "params": {}, "idempotency_key": "k" * 257},
        {"method": "m", "params": {}, "deadline_ms": -1},
        {"method": "m", "params": {}, "deadline_ms": True},
        {"method": "m", "params": {}, "client": "192.0.2.1"},
    ],
    ids=[
        "list params",
        "long method",
        "int method",
        "int session",
        "long idempotency key",
        "negative deadline",
        "bool deadline",
        "string client",
    ],
)
def test_request_arguments_the_responder_would_refuse(kwargs: dict[str, Any]) -> None:
    pair = opened_pair()
    try:
        stream_id = pair.requester.send_request(**kwargs)
    except LocalProtocolError:
        assert pair.requester.data_to_send() == b""
        return
    assert pair.to_responder() == []
    [error] = pair.to_requester()
    assert isinstance(error, ErrorReceived)
    assert (error.stream_id, error.code) == (stream_id, "invalid_params")
    assert pair.requester.state is pair.responder.state is ConnectionState.OPEN


def answer_with(pair: ConnectionPair, call: Callable[[int], Any]) -> None:
    stream_id = pair.requester.send_request("m", {})
    pair.to_responder()
    call(stream_id)


@pytest.mark.parametrize(
    "misuse",
    [
        lambda p: answer_with(p, lambda s: p.responder.send_error(s, "c" * 257, "Sorry.")),
        lambda p: answer_with(p, lambda s: p.responder.send_error(s, "x", "y", details=[1])),
        lambda p: answer_with(p, lambda s: p.responder.send_error(s, None, "y")),
        lambda p: p.responder.send_goaway("c" * 257),
        lambda p: p.requester.send_goaway("shutdown", message=None),
    ],
    ids=["long error code", "list details", "null error code", "long goaway code", "null message"],
)
def test_arguments_that_would_end_the_connection_are_refused_locally(
    misuse: Callable[[ConnectionPair], None],
) -> None:
    """Today these are sent, and the peer closes the link with protocol_error."""
    pair = opened_pair()
    try:
        misuse(pair)
    except LocalProtocolError:
        return
    pair.exchange()  # raises RemoteProtocolError at the peer today
    assert pair.requester.state is not ConnectionState.CLOSED
    assert pair.responder.state is not ConnectionState.CLOSED


@pytest.mark.parametrize(
    "misuse",
    [
        lambda p: p.requester.send_hello("t" * 257, "proxy-1"),
        lambda p: p.requester.send_hello("riverside", None),
    ],
    ids=["long tenant", "null requester id"],
)
def test_hello_arguments_the_responder_would_refuse(
    misuse: Callable[[ConnectionPair], None],
) -> None:
    pair = ConnectionPair()
    try:
        misuse(pair)
    except LocalProtocolError:
        return
    pair.to_responder()  # raises RemoteProtocolError at the responder today
    assert pair.responder.state is ConnectionState.HANDSHAKING


def test_welcome_with_a_practice_that_is_not_an_object() -> None:
    pair = ConnectionPair()
    pair.requester.send_hello("riverside", "proxy-1")
    pair.to_responder()
    try:
        pair.responder.send_welcome("1.0", ["Riverside"])  # type: ignore[arg-type]
    except LocalProtocolError:
        return
    pair.to_requester()  # raises RemoteProtocolError at the requester today
    assert pair.requester.state is ConnectionState.OPEN


def test_a_welcome_too_large_for_one_frame_is_refused_or_delivered() -> None:
    """WELCOME may not be split (the requester refuses MORE on it), so send_welcome must either
    refuse a practice too large for one frame, or the requester must receive it."""
    pair = ConnectionPair()
    pair.requester.send_hello("t", "p")
    pair.to_responder()
    practice = {"name": "Riverside", "notes": "n" * 70_000}

    try:
        pair.responder.send_welcome("1.0", practice)
    except LocalProtocolError:
        return
    [welcome] = pair.to_requester()
    assert welcome.practice == practice
