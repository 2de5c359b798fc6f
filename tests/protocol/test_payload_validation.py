"""Well-formed JSON with the wrong shape for its message, field by field: a malformed REQUEST
fails only that request (ERROR `invalid_params` on its stream, the connection goes on); in any
other message it is a protocol error. Unknown extra keys are ignored (a later minor revision
may add fields)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from protocol.connection import Connection
from protocol.events import ErrorReceived, GoAwayReceived, RequestReceived
from protocol.frames import FrameType, Limits, encode_message
from protocol.state import ConnectionState, Role
from tests.protocol.pair import frame, frames_of, opened_pair, refused, request_body

ERROR = {"code": "not_found", "message": "No such appointment.", "retryable": False}
GOAWAY = {"code": "shutdown", "last_stream_id": 0, "message": "bye"}
WELCOME = {
    "version": 1,
    "agent_version": "1.4.2",
    "practice": {"name": "Riverside"},
    "limits": {"max_frame": 65536, "max_message": 8388608, "max_streams": 256},
}


def requester_awaiting_welcome() -> Connection:
    requester = Connection(Role.REQUESTER)
    requester.send_hello("riverside", "proxy-1")
    requester.data_to_send()
    return requester


MALFORMED_REQUESTS = [
    request_body(method=7),
    request_body(method=None),
    request_body(method="m" * 257),
    request_body(params=[1]),
    request_body(params=None),
    request_body(params="x"),
    request_body(session=5),
    request_body(session="s" * 257),
    request_body(idempotency_key=["k"]),
    request_body(deadline_ms=-1),
    request_body(deadline_ms=2**31),
    request_body(deadline_ms=1.5),
    request_body(deadline_ms=True),
    request_body(deadline_ms="100"),
    request_body(client="192.0.2.1"),
    request_body(client=[1]),
    {"method": "m"},
    {"params": {}},
]


@pytest.mark.parametrize("body", MALFORMED_REQUESTS)
def test_a_malformed_request_is_answered_invalid_params(body: dict[str, Any]) -> None:
    pair = opened_pair()
    pair.requester.send_request("m", {})  # stream 1 reaches the responder: a well-formed one
    pair.to_responder()
    pair.requester.send_request("m", {})  # stream 3 is open; what reaches the responder
    pair.requester.data_to_send()  # is a malformed REQUEST written by hand instead

    events = pair.responder.receive_data(frame(FrameType.REQUEST, 3, body))

    assert events == []
    [error] = pair.to_requester()
    assert isinstance(error, ErrorReceived)
    assert (error.stream_id, error.code, error.retryable) == (3, "invalid_params", False)
    assert pair.responder.state is ConnectionState.OPEN
    assert pair.responder.open_streams == 1, "the well-formed request is still in flight"
    assert pair.responder.send_response(3, "late") is False
    assert pair.responder.send_response(1, "fine") is True


@pytest.mark.parametrize("body", MALFORMED_REQUESTS[:3])
def test_the_stream_of_a_malformed_request_is_used_up(body: dict[str, Any]) -> None:
    pair = opened_pair()
    pair.responder.receive_data(frame(FrameType.REQUEST, 1, body))
    assert pair.responder.last_peer_stream == 1

    refused(pair.responder, frame(FrameType.REQUEST, 1, request_body()))


def test_a_malformed_split_request_is_answered_invalid_params() -> None:
    pair = opened_pair(responder_limits=Limits(max_frame=1024, max_message=65536))
    payload = json.dumps(request_body(params=["x" * 3000])).encode()

    events = pair.responder.receive_data(
        b"".join(encode_message(FrameType.REQUEST, 1, payload, 1024))
    )

    assert events == []
    [error] = frames_of(pair.responder.data_to_send())
    assert (error.type, error.stream_id) == (FrameType.ERROR, 1)
    assert json.loads(error.payload)["code"] == "invalid_params"


def test_request_boundaries_are_accepted() -> None:
    body = request_body(method="m" * 256, session="s" * 256, deadline_ms=2**31 - 1)
    [event] = opened_pair().responder.receive_data(frame(FrameType.REQUEST, 1, body))
    assert isinstance(event, RequestReceived)
    assert (len(event.method), event.deadline_ms) == (256, 2**31 - 1)


def requester_with_open_stream() -> Connection:
    pair = opened_pair()
    pair.requester.send_request("m", {})
    pair.to_responder()
    return pair.requester


@pytest.mark.parametrize("body", [{}, {"resultat": 1}, {"Result": 1}])
def test_response_without_result_is_refused(body: dict[str, Any]) -> None:
    refused(requester_with_open_stream(), frame(FrameType.RESPONSE, 1, body))


def test_response_with_a_null_result_is_fine() -> None:
    [event] = requester_with_open_stream().receive_data(
        frame(FrameType.RESPONSE, 1, {"result": None})
    )
    assert event.result is None


@pytest.mark.parametrize(
    "changes",
    [
        {"code": None},
        {"code": 404},
        {"code": "c" * 257},
        {"message": None},
        {"retryable": None},
        {"retryable": 1},
        {"retryable": "false"},
        {"details": [1]},
        {"details": "x"},
    ],
)
def test_malformed_error_fields(changes: dict[str, Any]) -> None:
    refused(requester_with_open_stream(), frame(FrameType.ERROR, 1, dict(ERROR, **changes)))


def test_error_without_retryable_is_refused() -> None:
    body = {"code": "busy", "message": "try again"}
    refused(requester_with_open_stream(), frame(FrameType.ERROR, 1, body))


def test_error_with_a_long_message_is_fine() -> None:
    body = dict(ERROR, message="m" * 5000, details=None)
    [event] = requester_with_open_stream().receive_data(frame(FrameType.ERROR, 1, body))
    assert event == ErrorReceived(1, "not_found", "m" * 5000, False, None)


@pytest.mark.parametrize(
    "changes",
    [
        {"code": None},
        {"last_stream_id": -1},
        {"last_stream_id": 2**32},
        {"last_stream_id": "3"},
        {"last_stream_id": False},
        {"message": 1},
    ],
)
def test_malformed_goaway_fields(changes: dict[str, Any]) -> None:
    refused(opened_pair().requester, frame(FrameType.GOAWAY, 0, dict(GOAWAY, **changes)))


def test_goaway_with_extra_keys_is_fine() -> None:
    body = dict(GOAWAY, retry_after_s=30)
    assert opened_pair().requester.receive_data(frame(FrameType.GOAWAY, 0, body)) == [
        GoAwayReceived("shutdown", 0, "bye")
    ]


@pytest.mark.parametrize("payload", [b"", b"1234567", b"123456789"])
@pytest.mark.parametrize("frame_type", [FrameType.PING, FrameType.PONG])
@pytest.mark.parametrize("side", ["requester", "responder"])
def test_ping_and_pong_carry_exactly_eight_bytes(
    side: str, frame_type: FrameType, payload: bytes
) -> None:
    pair = opened_pair()
    refused(getattr(pair, side), frame(frame_type, 0, payload))


def test_cancel_carries_no_payload() -> None:
    pair = opened_pair()
    pair.requester.send_request("m", {})
    pair.to_responder()
    refused(pair.responder, frame(FrameType.CANCEL, 1, b"{}"))


@pytest.mark.parametrize(
    "welcome_changes",
    [
        {"version": True},
        {"version": "1"},
        {"agent_version": 1},
        {"practice": None},
        {"practice": ["Riverside"]},
        {"limits": None},
    ],
)
def test_malformed_welcome_fields(welcome_changes: dict[str, Any]) -> None:
    body = dict(WELCOME, **welcome_changes)
    refused(requester_awaiting_welcome(), frame(FrameType.WELCOME, 0, body))


@pytest.mark.parametrize("field", ["max_frame", "max_message", "max_streams"])
def test_welcome_limits_may_not_be_booleans(field: str) -> None:
    limits = {"max_frame": 1024, "max_message": 1024, "max_streams": 1, field: True}
    refused(requester_awaiting_welcome(), frame(FrameType.WELCOME, 0, dict(WELCOME, limits=limits)))
