"""Messages larger than max_frame travel as several frames (MORE on all but the last) and are
reassembled exactly; frames of large answers interleave so a small answer is not stuck behind."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.events import RequestReceived, ResponseReceived
from protocol.frames import FLAG_MORE, Frame, FrameType, Limits, encode_json, encode_message
from tests.protocol.pair import frames_of, opened_pair

MAX_FRAME = 64 * 1024
RESULT_OVERHEAD = len(encode_json({"result": ""}))  # '{"result":""}'


def result_of_payload_size(size: int) -> str:
    """A string result whose RESPONSE payload is exactly `size` bytes."""
    return "r" * (size - RESULT_OVERHEAD)


def assert_split(
    frames: list[Frame], frame_type: FrameType, stream_id: int, total: int, max_frame: int
) -> None:
    assert len(frames) == max(1, math.ceil(total / max_frame))
    for f in frames[:-1]:
        assert f.type is frame_type
        assert f.stream_id == stream_id
        assert f.flags == FLAG_MORE
        assert len(f.payload) == max_frame
    last = frames[-1]
    assert (last.type, last.stream_id, last.flags) == (frame_type, stream_id, 0)
    assert 0 < len(last.payload) <= max_frame or total == 0
    assert sum(len(f.payload) for f in frames) == total


@settings(max_examples=60, deadline=None)
@given(
    max_frame=st.integers(1, 64),
    frames=st.integers(0, 6),
    remainder=st.integers(-1, 1),
)
def test_encode_message_splits_at_max_frame(max_frame: int, frames: int, remainder: int) -> None:
    size = max(0, frames * max_frame + remainder)
    payload = bytes(i % 251 for i in range(size))

    encoded = encode_message(FrameType.RESPONSE, 7, payload, max_frame)
    parsed = frames_of(b"".join(encoded))

    assert len(parsed) == len(encoded)
    assert_split(parsed, FrameType.RESPONSE, 7, size, max_frame)
    assert b"".join(f.payload for f in parsed) == payload


def test_a_response_of_exactly_max_frame_is_one_frame() -> None:
    pair = opened_pair()
    stream_id = pair.requester.send_request("m", {})
    pair.to_responder()
    pair.responder.send_response(stream_id, result_of_payload_size(MAX_FRAME))

    [only] = frames_of(pair.responder.data_to_send())

    assert only.flags == 0
    assert len(only.payload) == MAX_FRAME


def test_one_byte_over_max_frame_is_two_frames() -> None:
    pair = opened_pair()
    stream_id = pair.requester.send_request("m", {})
    pair.to_responder()
    result = result_of_payload_size(MAX_FRAME + 1)
    pair.responder.send_response(stream_id, result)

    wire = pair.responder.data_to_send()
    frames = frames_of(wire)

    assert [f.flags for f in frames] == [FLAG_MORE, 0]
    assert [len(f.payload) for f in frames] == [MAX_FRAME, 1]
    assert pair.requester.receive_data(wire) == [ResponseReceived(stream_id, result)]


def test_large_request_is_split_and_reassembled() -> None:
    pair = opened_pair()
    params = {"note": "x" * 150_000, "items": list(range(5000))}
    stream_id = pair.requester.send_request("messages.send", params, session="tok")

    wire = pair.requester.data_to_send()
    frames = frames_of(wire)
    payload = b"".join(f.payload for f in frames)

    assert len(frames) == 3
    assert_split(frames, FrameType.REQUEST, stream_id, len(payload), MAX_FRAME)
    assert json.loads(payload)["params"] == params
    events = pair.responder.receive_data(wire)
    assert events == [
        RequestReceived(
            stream_id=stream_id,
            method="messages.send",
            params=params,
            session="tok",
            idempotency_key=None,
            deadline_ms=None,
            client=None,
        )
    ]


def test_large_response_is_split_and_reassembled() -> None:
    pair = opened_pair()
    stream_id = pair.requester.send_request("records.download", {})
    pair.to_responder()
    result = {"pdf": "A" * 300_000, "pages": 12}
    pair.responder.send_response(stream_id, result)

    wire = pair.responder.data_to_send()
    frames = frames_of(wire)

    assert len(frames) == 5
    total = sum(len(f.payload) for f in frames)
    assert_split(frames, FrameType.RESPONSE, stream_id, total, MAX_FRAME)
    assert pair.requester.receive_data(wire) == [ResponseReceived(stream_id, result)]


def test_large_error_is_split_and_reassembled() -> None:
    pair = opened_pair()
    stream_id = pair.requester.send_request("m", {})
    pair.to_responder()
    pair.responder.send_error(stream_id, "invalid_params", "bad", details={"x": "e" * 70_000})

    wire = pair.responder.data_to_send()

    assert [f.flags for f in frames_of(wire)] == [FLAG_MORE, 0]
    [event] = pair.requester.receive_data(wire)
    assert event.details == {"x": "e" * 70_000}


def test_requests_use_the_max_frame_the_welcome_announced() -> None:
    pair = opened_pair(responder_limits=Limits(max_frame=1024, max_message=65536))
    params = {"text": "é" * 2000}  # 4000 bytes of UTF-8
    pair.requester.send_request("m", params)

    wire = pair.requester.data_to_send()
    frames = frames_of(wire)

    total = sum(len(f.payload) for f in frames)
    assert total > 4000
    assert_split(frames, FrameType.REQUEST, 1, total, 1024)
    [event] = pair.responder.receive_data(wire)
    assert event.params == params


def test_frames_of_two_large_answers_interleave_round_robin() -> None:
    pair = opened_pair()
    first = pair.requester.send_request("a", {})
    second = pair.requester.send_request("b", {})
    pair.to_responder()
    big_a = result_of_payload_size(3 * MAX_FRAME)
    big_b = result_of_payload_size(3 * MAX_FRAME)
    pair.responder.send_response(first, big_a)
    pair.responder.send_response(second, big_b)

    chunks = []
    while pair.responder.has_pending_output:
        chunks.append(pair.responder.data_to_send(max_bytes=1))

    assert len(chunks) >= 3, "a soft cap lets the writer drain between frames"
    order = [f.stream_id for c in chunks for f in frames_of(c)]
    assert order == [first, second, first, second, first, second]
    events = pair.requester.receive_data(b"".join(chunks))
    assert events == [ResponseReceived(first, big_a), ResponseReceived(second, big_b)]


def test_small_answer_overtakes_a_large_one() -> None:
    pair = opened_pair()
    big_stream = pair.requester.send_request("records.download", {})
    small_stream = pair.requester.send_request("ping.app", {})
    pair.to_responder()
    big = result_of_payload_size(4 * MAX_FRAME)
    pair.responder.send_response(big_stream, big)

    events = pair.to_requester(max_bytes=MAX_FRAME)  # the writer drains one frame's worth
    assert events == []
    pair.responder.send_response(small_stream, {"ok": True})
    events = pair.to_requester(max_bytes=MAX_FRAME)

    assert events == [ResponseReceived(small_stream, {"ok": True})]
    assert pair.responder.has_pending_output, "the large answer is not finished yet"
    events = []
    while pair.responder.has_pending_output:
        events += pair.to_requester(max_bytes=MAX_FRAME)
    assert events == [ResponseReceived(big_stream, big)]


def test_large_requests_interleave_and_arrive_whole() -> None:
    pair = opened_pair(responder_limits=Limits(max_frame=1024, max_message=65536))
    params = [{"n": n, "blob": str(n) * 3000} for n in range(3)]
    ids = [pair.requester.send_request("m", p) for p in params]

    wire = pair.requester.data_to_send()
    order = [f.stream_id for f in frames_of(wire)]

    assert order[:3] == ids, "round-robin: every stream's first frame before any second one"
    events = pair.responder.receive_data(wire)
    assert [(e.stream_id, e.params) for e in events] == list(zip(ids, params, strict=True))
