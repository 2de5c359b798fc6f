"""max_message caps a reassembled message; max_streams caps requests in flight (then `busy`)."""

from __future__ import annotations

import json

import pytest

from protocol.errors import RemoteProtocolError
from protocol.events import ErrorReceived, RequestReceived, ResponseReceived
from protocol.frames import FLAG_MORE, FrameType, Limits, encode_message
from tests.protocol.pair import (
    ConnectionPair,
    assert_goaway_sent,
    frame,
    frames_of,
    opened_pair,
    request_body,
)

SMALL = Limits(max_frame=1024, max_message=4096, max_streams=4)


def request_payload(size: int) -> bytes:
    """A valid REQUEST payload of exactly `size` bytes."""
    empty = json.dumps(request_body(params={"pad": ""}), separators=(",", ":")).encode()
    payload = json.dumps(
        request_body(params={"pad": "p" * (size - len(empty))}), separators=(",", ":")
    ).encode()
    assert len(payload) == size
    return payload


def test_a_message_of_exactly_max_message_is_accepted() -> None:
    pair = opened_pair(responder_limits=SMALL)
    frames = encode_message(FrameType.REQUEST, 1, request_payload(4096), 1024)
    assert len(frames) == 4

    events = pair.responder.receive_data(b"".join(frames))

    assert [type(e) for e in events] == [RequestReceived]


def test_a_message_over_max_message_is_refused_when_the_limit_is_crossed() -> None:
    pair = opened_pair(responder_limits=SMALL)
    frames = encode_message(FrameType.REQUEST, 1, request_payload(6000), 1024)
    assert len(frames) == 6

    for f in frames[:4]:
        assert pair.responder.receive_data(f) == []
    with pytest.raises(RemoteProtocolError) as caught:
        pair.responder.receive_data(frames[4])  # 5 * 1024 > 4096, and MORE is still set

    assert caught.value.code == "frame_too_large"
    assert_goaway_sent(pair.responder, caught.value)


def test_an_endless_message_is_refused_not_buffered() -> None:
    pair = opened_pair(responder_limits=SMALL)
    chunk = frame(FrameType.REQUEST, 1, b"[" * 1024, flags=FLAG_MORE)

    with pytest.raises(RemoteProtocolError) as caught:
        for _ in range(100):
            pair.responder.receive_data(chunk)

    assert caught.value.code == "frame_too_large"


def test_the_requester_applies_its_own_max_message_to_answers() -> None:
    pair = opened_pair(requester_limits=Limits(max_message=100_000))
    stream_id = pair.requester.send_request("records.download", {})
    pair.to_responder()
    pair.responder.send_response(stream_id, "x" * 150_000)  # the responder cannot know

    with pytest.raises(RemoteProtocolError) as caught:
        pair.to_requester()

    assert caught.value.code == "frame_too_large"
    assert_goaway_sent(pair.requester, caught.value)


def open_many(pair: ConnectionPair, count: int) -> list[int]:
    return [pair.requester.send_request("slots.list", {"n": n}) for n in range(count)]


def test_the_257th_concurrent_request_gets_busy() -> None:
    pair = opened_pair()
    ids = open_many(pair, 257)

    events = pair.to_responder()

    assert [e.stream_id for e in events if isinstance(e, RequestReceived)] == ids[:256]
    assert len(events) == 256
    assert pair.responder.open_streams == 256
    assert pair.to_requester() == [
        ErrorReceived(
            stream_id=ids[256],
            code="busy",
            message="too many requests in flight; try again",
            retryable=True,
            details=None,
        )
    ]
    assert pair.requester.open_streams == 256


def test_after_answering_one_a_new_request_is_accepted() -> None:
    pair = opened_pair()
    ids = open_many(pair, 257)
    pair.to_responder()
    pair.to_requester()  # the busy answer

    pair.responder.send_response(ids[0], [])
    assert pair.to_requester() == [ResponseReceived(ids[0], [])]
    again = pair.requester.send_request("slots.list", {"retry": True})
    events = pair.to_responder()

    assert [(type(e), e.stream_id) for e in events] == [(RequestReceived, again)]
    assert pair.to_requester() == []
    one_more = pair.requester.send_request("slots.list", {})
    pair.to_responder()
    [busy] = pair.to_requester()
    assert isinstance(busy, ErrorReceived)
    assert (busy.stream_id, busy.code) == (one_more, "busy")


def test_a_cancelled_request_frees_its_slot() -> None:
    pair = opened_pair(responder_limits=SMALL)
    ids = open_many(pair, 4)
    pair.to_responder()

    pair.requester.send_cancel(ids[2])
    pair.to_responder()
    pair.requester.send_request("m", {})
    events = pair.to_responder()

    assert [type(e) for e in events] == [RequestReceived]


def test_half_received_requests_count_as_in_flight() -> None:
    pair = opened_pair(responder_limits=SMALL)
    first_frames = [
        encode_message(FrameType.REQUEST, stream, request_payload(3000), 1024)[0]
        for stream in (1, 3, 5, 7, 9)
    ]

    assert pair.responder.receive_data(b"".join(first_frames)) == []

    [busy] = frames_of(pair.responder.data_to_send())
    assert (busy.type, busy.stream_id) == (FrameType.ERROR, 9)
    assert json.loads(busy.payload)["code"] == "busy"


def test_a_refused_split_request_is_dropped_and_the_connection_goes_on() -> None:
    pair = opened_pair(responder_limits=SMALL)
    frames = {
        stream: encode_message(FrameType.REQUEST, stream, request_payload(3000), 1024)
        for stream in (1, 3, 5, 7, 9)
    }
    wire = [f for rank in range(3) for stream in frames for f in frames[stream][rank : rank + 1]]

    events = pair.responder.receive_data(b"".join(wire))

    assert [e.stream_id for e in events] == [1, 3, 5, 7]
    sent = frames_of(pair.responder.data_to_send())
    assert [(f.type, f.stream_id) for f in sent] == [(FrameType.ERROR, 9)]
    pair.responder.send_response(1, "ok")
    [event] = pair.responder.receive_data(frame(FrameType.REQUEST, 11, request_body()))
    assert isinstance(event, RequestReceived)
    assert event.stream_id == 11


def test_more_refused_split_requests_than_max_streams_all_get_busy() -> None:
    """A well-behaved requester with many large requests queued sends every stream's first
    frame before any second one (round-robin). Each request past max_streams must be answered
    `busy`; the responder may not turn its own bookkeeping limit into a protocol error."""
    pair = opened_pair(responder_limits=SMALL)
    ids = [pair.requester.send_request("messages.send", {"body": "b" * 1500}) for _ in range(9)]

    events = pair.to_responder()  # raises protocol_error today

    assert [e.stream_id for e in events] == ids[:4]
    answers = pair.to_requester()
    assert [(e.stream_id, e.code) for e in answers if isinstance(e, ErrorReceived)] == [
        (stream_id, "busy") for stream_id in ids[4:]
    ]
