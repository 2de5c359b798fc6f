"""GOAWAY: no new streams after it, but requests already in flight are still answered."""

from __future__ import annotations

import json

import pytest

from protocol.connection import Connection
from protocol.errors import LocalProtocolError
from protocol.events import (
    ErrorReceived,
    GoAwayReceived,
    HelloReceived,
    PingReceived,
    PongReceived,
    RequestReceived,
    ResponseReceived,
)
from protocol.frames import FLAG_MORE, FrameType, Limits, encode_message
from protocol.state import ConnectionState, Role
from tests.protocol.pair import ConnectionPair, frame, frames_of, opened_pair, request_body


def pair_with_requests(count: int) -> tuple[ConnectionPair, list[int]]:
    pair = opened_pair()
    ids = [pair.requester.send_request("slots.list", {"n": n}) for n in range(count)]
    events = pair.to_responder()
    assert [e.stream_id for e in events] == ids
    return pair, ids


def test_in_flight_requests_are_still_answered_after_the_responders_goaway() -> None:
    pair, ids = pair_with_requests(2)

    pair.responder.send_goaway("shutdown", "the agent is restarting")
    assert pair.to_requester() == [GoAwayReceived("shutdown", ids[-1], "the agent is restarting")]
    assert pair.responder.send_response(ids[0], {"slots": []}) is True
    assert pair.responder.send_error(ids[1], "not_found", "No such practitioner.") is True
    events = pair.to_requester()

    assert events == [
        ResponseReceived(ids[0], {"slots": []}),
        ErrorReceived(ids[1], "not_found", "No such practitioner.", False, None),
    ]
    assert pair.requester.open_streams == 0
    assert pair.requester.state is ConnectionState.CLOSING
    assert pair.responder.state is ConnectionState.CLOSING


def test_a_request_crossing_the_goaway_is_answered_shutdown() -> None:
    pair, ids = pair_with_requests(1)
    pair.responder.send_goaway("shutdown", "restarting")
    late = pair.requester.send_request("slots.list", {})  # the GOAWAY has not arrived yet

    events_at_responder = pair.to_responder()
    events_at_requester = pair.to_requester()

    assert events_at_responder == []
    assert events_at_requester == [
        GoAwayReceived("shutdown", ids[0], "restarting"),
        ErrorReceived(
            stream_id=late,
            code="shutdown",
            message="the agent is shutting down; try again",
            retryable=True,
            details=None,
        ),
    ]
    assert late > ids[0], "the requester can tell from last_stream_id it was not processed"
    assert pair.responder.open_streams == 1
    assert pair.requester.open_streams == 1


def test_the_rest_of_a_split_request_in_flight_is_accepted_after_goaway() -> None:
    pair = opened_pair()
    payload = json.dumps(request_body(params={"body": "b" * 100_000})).encode()
    first, *rest = encode_message(FrameType.REQUEST, 1, payload, 64 * 1024)
    assert pair.responder.receive_data(first) == []

    pair.responder.send_goaway("shutdown")
    events = pair.responder.receive_data(b"".join(rest))

    assert [type(e) for e in events] == [RequestReceived]
    assert pair.responder.send_response(1, "done") is True


def test_a_split_request_refused_with_shutdown_is_dropped_quietly() -> None:
    pair = opened_pair()
    pair.responder.send_goaway("shutdown")
    pair.responder.data_to_send()
    payload = json.dumps(request_body(params={"body": "b" * 100_000})).encode()

    events = pair.responder.receive_data(
        b"".join(encode_message(FrameType.REQUEST, 1, payload, 64 * 1024))
    )

    assert events == []
    [error] = frames_of(pair.responder.data_to_send())
    assert (error.type, error.stream_id, error.flags) == (FrameType.ERROR, 1, 0)
    assert json.loads(error.payload)["code"] == "shutdown"
    assert pair.responder.state is ConnectionState.CLOSING


@pytest.mark.parametrize("requests", [0, 1, 3])
def test_last_stream_id_is_the_last_stream_the_responder_saw(requests: int) -> None:
    pair, ids = pair_with_requests(requests)
    if ids:
        pair.responder.send_response(ids[-1], None)  # answered or not, it was seen

    pair.responder.send_goaway("shutdown")
    events = pair.to_requester()

    assert [e for e in events if isinstance(e, GoAwayReceived)] == [
        GoAwayReceived("shutdown", ids[-1] if ids else 0, "")
    ]


def test_last_stream_id_counts_a_stream_refused_busy() -> None:
    pair = opened_pair()
    ids = [pair.requester.send_request("m", {}) for _ in range(257)]
    pair.to_responder()

    pair.responder.send_goaway("shutdown")
    goaway = frames_of(pair.responder.data_to_send())[-1]

    assert json.loads(goaway.payload)["last_stream_id"] == ids[-1]


def test_the_requester_cannot_open_streams_after_receiving_goaway() -> None:
    pair, _ = pair_with_requests(1)
    pair.responder.send_goaway("shutdown")
    pair.to_requester()

    with pytest.raises(LocalProtocolError):
        pair.requester.send_request("m", {})

    assert pair.requester.data_to_send() == b""
    assert pair.requester.open_streams == 1


def test_the_requester_cannot_open_streams_after_sending_goaway() -> None:
    pair, ids = pair_with_requests(1)
    pair.requester.send_goaway("shutdown", "the proxy is closing this link")

    with pytest.raises(LocalProtocolError):
        pair.requester.send_request("m", {})

    assert pair.to_responder() == [GoAwayReceived("shutdown", 0, "the proxy is closing this link")]
    assert pair.responder.send_response(ids[0], "still answered") is True
    assert pair.to_requester() == [ResponseReceived(ids[0], "still answered")]


def test_requests_made_before_the_requesters_goaway_are_still_served() -> None:
    """send_request, then send_goaway before anything was written: the requests were made
    first, so they are in flight and must be served, not refused with `shutdown`."""
    pair = opened_pair(responder_limits=Limits(max_frame=1024, max_message=65536))
    split = pair.requester.send_request("messages.send", {"body": "b" * 5000})
    small = pair.requester.send_request("m", {})
    pair.requester.send_goaway("shutdown")

    at_responder, at_requester = pair.exchange()

    requests = [e.stream_id for e in at_responder if isinstance(e, RequestReceived)]
    assert sorted(requests) == [split, small]
    assert GoAwayReceived("shutdown", 0, "") in at_responder
    assert at_requester == []


def test_goaway_may_be_sent_again_and_pings_still_work_while_closing() -> None:
    pair, ids = pair_with_requests(1)
    pair.responder.send_goaway("shutdown")
    pair.responder.send_goaway("shutdown", "now really")
    pair.requester.send_ping(b"12345678")

    at_requester = pair.to_requester()
    at_responder = pair.to_responder()

    assert at_requester == [
        GoAwayReceived("shutdown", ids[0], ""),
        GoAwayReceived("shutdown", ids[0], "now really"),
    ]
    assert at_responder == [PingReceived(b"12345678")]
    assert pair.to_requester() == [PongReceived(b"12345678")]


def test_nothing_may_follow_a_goaway_during_the_handshake() -> None:
    pair = ConnectionPair()
    pair.requester.send_hello("riverside", "proxy-1")
    pair.to_responder()

    pair.responder.send_goaway("unavailable", "database down")

    assert pair.responder.state is ConnectionState.CLOSED
    assert pair.to_requester() == [GoAwayReceived("unavailable", 0, "database down")]
    assert pair.requester.state is ConnectionState.CLOSED
    with pytest.raises(LocalProtocolError):
        pair.responder.send_welcome("1.0", {})
    with pytest.raises(LocalProtocolError):
        pair.requester.send_request("m", {})


HELLO = frame(FrameType.HELLO, 0, {"versions": [1], "tenant": "t", "requester_id": "p"})
GOAWAY = frame(FrameType.GOAWAY, 0, {"code": "shutdown", "last_stream_id": 0, "message": ""})
AFTER = frame(FrameType.PING, 0, b"pingpong") + frame(FrameType.CANCEL, 1, flags=FLAG_MORE)


def test_frames_after_a_closing_goaway_are_ignored_in_the_same_read_too() -> None:
    """The docstring promises a CLOSED connection ignores further data. Frames that arrive in
    a later read are ignored; the same frames in the same read as the GOAWAY must be too,
    rather than raising RemoteProtocolError from a connection that can no longer send the
    GOAWAY the error promises."""
    split = Connection(Role.RESPONDER)
    split.receive_data(HELLO + GOAWAY)
    assert split.receive_data(AFTER) == []

    whole = Connection(Role.RESPONDER)
    events = whole.receive_data(HELLO + GOAWAY + AFTER)

    assert [type(e) for e in events] == [HelloReceived, GoAwayReceived]
    assert whole.state is ConnectionState.CLOSED
