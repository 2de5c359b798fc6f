"""Stream ids: requests on new odd, increasing ids; connection frames on stream 0 only."""

from __future__ import annotations

import pytest

from protocol.connection import Connection
from protocol.events import RequestReceived
from protocol.frames import FLAG_MORE, FrameType
from protocol.state import Role
from tests.protocol.pair import frame, opened_pair, refused, request_body

PING = b"pingpong"
GOAWAY = {"code": "shutdown", "last_stream_id": 0, "message": ""}


def request(stream_id: int, flags: int = 0) -> bytes:
    return frame(FrameType.REQUEST, stream_id, request_body(), flags=flags)


def test_odd_increasing_ids_with_gaps_are_accepted() -> None:
    pair = opened_pair()

    events = pair.responder.receive_data(request(1) + request(7) + request(2**32 - 1))

    assert [e.stream_id for e in events if isinstance(e, RequestReceived)] == [1, 7, 2**32 - 1]
    assert pair.responder.last_peer_stream == 2**32 - 1


@pytest.mark.parametrize("stream_id", [2, 4, 2**32 - 2])
def test_an_even_request_id_is_refused(stream_id: int) -> None:
    pair = opened_pair()
    refused(pair.responder, request(stream_id))


def test_a_reused_id_is_refused_even_after_its_answer() -> None:
    pair = opened_pair()
    pair.responder.receive_data(request(3))
    pair.responder.send_response(3, None)

    refused(pair.responder, request(3))


def test_a_decreasing_id_is_refused() -> None:
    pair = opened_pair()
    pair.responder.receive_data(request(5))

    error = refused(pair.responder, request(3))

    assert "3" in error.message


def test_a_reused_id_of_a_busy_refused_stream_is_refused() -> None:
    pair = opened_pair()
    pair.responder.receive_data(b"".join(request(2 * n + 1) for n in range(257)))  # 513 busy

    refused(pair.responder, request(513))


def test_the_goaway_after_a_bad_id_names_the_last_good_stream() -> None:
    pair = opened_pair()
    pair.responder.receive_data(request(1) + request(9))

    error = refused(pair.responder, request(4))

    assert error.code == "protocol_error"
    assert pair.responder.last_peer_stream == 9


@pytest.mark.parametrize("frame_type", [FrameType.RESPONSE, FrameType.ERROR])
@pytest.mark.parametrize("stream_id", [1, 2, 5, 2**32 - 1])
def test_an_answer_on_a_never_opened_stream_is_refused(
    frame_type: FrameType, stream_id: int
) -> None:
    pair = opened_pair()
    if stream_id != 1:
        pair.requester.send_request("m", {})  # stream 1 is open; the others never were
    body = (
        {"result": 1}
        if frame_type is FrameType.RESPONSE
        else {"code": "internal", "message": "x", "retryable": False}
    )

    refused(pair.requester, frame(frame_type, stream_id, body))


def test_an_answer_to_an_open_stream_is_accepted() -> None:
    pair = opened_pair()
    pair.requester.send_request("m", {})

    [event] = pair.requester.receive_data(frame(FrameType.RESPONSE, 1, {"result": 1}))

    assert event.stream_id == 1


@pytest.mark.parametrize("stream_id", [2, 3, 0])
def test_a_cancel_of_a_never_opened_stream_is_refused(stream_id: int) -> None:
    pair = opened_pair()
    pair.responder.receive_data(request(1))

    refused(pair.responder, frame(FrameType.CANCEL, stream_id))


STREAM_ZERO_CASES = [
    # (receiver, what it has seen, frame type, payload)
    (
        "responder",
        "nothing",
        FrameType.HELLO,
        {"versions": [1], "tenant": "t", "requester_id": "p"},
    ),
    (
        "requester",
        "hello",
        FrameType.WELCOME,
        {
            "version": 1,
            "agent_version": "1",
            "practice": {},
            "limits": {"max_frame": 65536, "max_message": 8388608, "max_streams": 256},
        },
    ),
    ("responder", "open", FrameType.PING, PING),
    ("requester", "open", FrameType.PING, PING),
    ("responder", "open", FrameType.PONG, PING),
    ("requester", "open", FrameType.PONG, PING),
    ("responder", "open", FrameType.GOAWAY, GOAWAY),
    ("requester", "open", FrameType.GOAWAY, GOAWAY),
]


def receiver_in(side: str, stage: str) -> Connection:
    if stage == "nothing":
        return Connection(Role.RESPONDER)
    if stage == "hello":
        requester = Connection(Role.REQUESTER)
        requester.send_hello("t", "p")
        requester.data_to_send()
        return requester
    pair = opened_pair()
    pair.requester.send_request("m", {})  # stream 1 is in flight
    pair.to_responder()
    return pair.responder if side == "responder" else pair.requester


@pytest.mark.parametrize("stream_id", [1, 2])
@pytest.mark.parametrize(("side", "stage", "frame_type", "payload"), STREAM_ZERO_CASES)
def test_connection_frames_on_a_request_stream_are_refused(
    side: str, stage: str, frame_type: FrameType, payload: bytes | dict, stream_id: int
) -> None:
    conn = receiver_in(side, stage)
    refused(conn, frame(frame_type, stream_id, payload))


@pytest.mark.parametrize(("side", "stage", "frame_type", "payload"), STREAM_ZERO_CASES)
def test_the_same_frames_on_stream_zero_are_accepted(
    side: str, stage: str, frame_type: FrameType, payload: bytes | dict
) -> None:
    conn = receiver_in(side, stage)
    assert len(conn.receive_data(frame(frame_type, 0, payload))) == 1


@pytest.mark.parametrize(
    ("side", "frame_type", "payload"),
    [
        ("responder", FrameType.REQUEST, request_body()),
        ("responder", FrameType.CANCEL, b""),
        ("requester", FrameType.RESPONSE, {"result": None}),
        ("requester", FrameType.ERROR, {"code": "busy", "message": "", "retryable": True}),
    ],
)
def test_stream_frames_on_stream_zero_are_refused(
    side: str, frame_type: FrameType, payload: bytes | dict
) -> None:
    refused(receiver_in(side, "open"), frame(frame_type, 0, payload))


@pytest.mark.parametrize(
    ("side", "stage", "frame_type", "stream_id", "payload"),
    [
        ("responder", "nothing", FrameType.HELLO, 0, b'{"versions":[1],'),
        ("requester", "hello", FrameType.WELCOME, 0, b'{"version":1,'),
        ("responder", "open", FrameType.CANCEL, 1, b""),
        ("responder", "open", FrameType.PING, 0, PING),
        ("requester", "open", FrameType.PING, 0, PING),
        ("requester", "open", FrameType.PONG, 0, PING),
        ("responder", "open", FrameType.GOAWAY, 0, b'{"code":"shutdown",'),
        ("requester", "open", FrameType.GOAWAY, 0, b'{"code":"shutdown",'),
    ],
)
def test_more_flag_on_a_type_that_cannot_be_split_is_refused(
    side: str, stage: str, frame_type: FrameType, stream_id: int, payload: bytes
) -> None:
    conn = receiver_in(side, stage)
    refused(conn, frame(frame_type, stream_id, payload, flags=FLAG_MORE))


def test_a_message_may_not_switch_type_midway() -> None:
    pair = opened_pair()
    pair.requester.send_request("m", {})
    pair.requester.receive_data(frame(FrameType.RESPONSE, 1, b'{"result":', flags=FLAG_MORE))

    refused(pair.requester, frame(FrameType.ERROR, 1, b'"x"}'))
