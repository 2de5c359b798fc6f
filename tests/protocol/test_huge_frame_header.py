"""A header announcing 4 GiB is refused as soon as its 12 bytes are in, without buffering."""

from __future__ import annotations

import tracemalloc

import pytest

from protocol.connection import Connection
from protocol.errors import RemoteProtocolError
from protocol.frames import HEADER, FrameDecoder, FrameType, Limits
from protocol.state import Role
from tests.protocol.pair import assert_goaway_sent, opened_pair

HUGE = 2**32 - 1
MAX_FRAME = 64 * 1024


def header(frame_type: int, stream_id: int, length: int, version: int = 1) -> bytes:
    return HEADER.pack(version, frame_type, 0, stream_id, length)


def test_decoder_refuses_at_the_twelfth_byte_and_buffers_only_the_header() -> None:
    decoder = FrameDecoder(MAX_FRAME)
    data = header(FrameType.REQUEST, 1, HUGE)

    for byte in data[:-1]:
        assert decoder.feed(bytes([byte])) == []
    assert decoder.buffered == 11
    with pytest.raises(RemoteProtocolError) as caught:
        decoder.feed(data[-1:])

    assert caught.value.code == "frame_too_large"
    assert decoder.buffered <= 12


@pytest.mark.parametrize("length", [MAX_FRAME + 1, 2**31, HUGE])
def test_any_length_over_max_frame_is_refused_from_the_header_alone(length: int) -> None:
    decoder = FrameDecoder(MAX_FRAME)
    with pytest.raises(RemoteProtocolError) as caught:
        decoder.feed(header(FrameType.RESPONSE, 1, length))
    assert caught.value.code == "frame_too_large"


def test_a_frame_of_exactly_max_frame_is_waited_for() -> None:
    decoder = FrameDecoder(MAX_FRAME)

    assert decoder.feed(header(FrameType.RESPONSE, 1, MAX_FRAME)) == []
    assert decoder.feed(b"x" * (MAX_FRAME - 1)) == []
    [frame] = decoder.feed(b"y")

    assert frame.payload == b"x" * (MAX_FRAME - 1) + b"y"
    assert decoder.buffered == 0


def test_the_responder_refuses_a_huge_hello_without_allocating_it() -> None:
    responder = Connection(Role.RESPONDER)
    tracemalloc.start()
    try:
        with pytest.raises(RemoteProtocolError) as caught:
            responder.receive_data(header(FrameType.HELLO, 0, HUGE))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.code == "frame_too_large"
    assert peak < 256 * 1024, f"{peak} bytes allocated to refuse a 12-byte header"
    assert_goaway_sent(responder, caught.value)


@pytest.mark.parametrize("receiver", ["responder", "requester"])
def test_a_huge_frame_after_the_handshake_is_refused_at_its_header(receiver: str) -> None:
    pair = opened_pair()
    stream_id = pair.requester.send_request("m", {})
    pair.to_responder()
    conn = pair.responder if receiver == "responder" else pair.requester
    frame_type = FrameType.REQUEST if receiver == "responder" else FrameType.RESPONSE
    data = header(frame_type, stream_id + 2 if receiver == "responder" else stream_id, HUGE)

    for byte in data[:-1]:
        assert conn.receive_data(bytes([byte])) == []
    tracemalloc.start()
    try:
        with pytest.raises(RemoteProtocolError) as caught:
            conn.receive_data(data[-1:])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.code == "frame_too_large"
    assert peak < 256 * 1024
    body = assert_goaway_sent(conn, caught.value)
    assert body["code"] == "frame_too_large"


def test_the_limit_is_the_receivers_own_max_frame() -> None:
    pair = opened_pair(responder_limits=Limits(max_frame=1024, max_message=8192))

    with pytest.raises(RemoteProtocolError) as caught:
        pair.responder.receive_data(header(FrameType.REQUEST, 1, 1025))

    assert caught.value.code == "frame_too_large"
