"""TCP delivers bytes in arbitrary pieces: however a stream is cut, the events are the same."""

from __future__ import annotations

from collections.abc import Callable
from itertools import cycle, pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.connection import Connection
from protocol.events import Event, RequestReceived
from protocol.frames import FrameDecoder, Limits, encode_frame
from tests.protocol.pair import ConnectionPair

Splitter = Callable[[bytes], list[bytes]]

RESPONDER_LIMITS = Limits(max_frame=1024, max_message=1 << 20, max_streams=4)


def whole(data: bytes) -> list[bytes]:
    return [data]


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def cut_by(sizes: list[int]) -> Splitter:
    def split(data: bytes) -> list[bytes]:
        pieces, position = [], 0
        for size in cycle(sizes):
            if position >= len(data):
                return pieces
            pieces.append(data[position : position + size])
            position += size
        raise AssertionError("unreachable")

    return split


def run_session(split: Splitter) -> tuple[list[Event], list[Event], list[bytes]]:
    """A session touching every frame type, with each delivery cut by `split`.

    Returns the responder's events, the requester's events and every chunk of bytes each side
    wrote, in order (what the connections say back must not depend on the cutting either).
    """
    pair = ConnectionPair(responder_limits=RESPONDER_LIMITS)
    rq, rs = pair.requester, pair.responder
    at_rs: list[Event] = []
    at_rq: list[Event] = []
    written: list[bytes] = []

    def deliver(sender: Connection, receiver: Connection, events: list[Event]) -> list[Event]:
        data = sender.data_to_send()
        written.append(data)
        new = [e for piece in split(data) for e in receiver.receive_data(piece)]
        events += new
        return new

    rq.send_hello("riverside", "proxy-1")
    deliver(rq, rs, at_rs)
    rs.send_welcome("1.4.2", {"name": "Riverside", "tz": "Europe/Zürich"})
    deliver(rs, rq, at_rq)

    rq.send_request("practice.info", {})
    rq.send_request("messages.send", {"body": "ü" * 3000}, session="s" * 40, deadline_ms=5000)
    rq.send_request("records.list", {"patient": 42}, idempotency_key="k-1")
    rq.send_ping(b"pingpong")
    rq.send_request("forms.get", {"id": 7})
    rq.send_request("one.too.many", {"x": "y" * 1500})  # max_streams=4: refused with busy
    new = deliver(rq, rs, at_rs)
    requests = [e for e in new if isinstance(e, RequestReceived)]
    assert len(requests) == 4

    rs.send_response(requests[0].stream_id, {"name": "Riverside", "open": [8, 17]})
    rs.send_response(requests[1].stream_id, {"blob": "b" * 70_000})  # two 64 KiB frames
    rs.send_error(requests[2].stream_id, "not_found", "No such record.", details={"id": 42})
    rs.send_ping(b"\x00" * 8)
    deliver(rs, rq, at_rq)
    deliver(rq, rs, at_rs)  # the PONG

    rq.send_cancel(requests[3].stream_id)
    deliver(rq, rs, at_rs)
    rs.send_goaway("shutdown", "maintenance")
    deliver(rs, rq, at_rq)
    deliver(rs, rq, at_rq)
    return at_rs, at_rq, written


REFERENCE = run_session(whole)


def test_the_reference_session_exercises_every_event_type() -> None:
    at_rs, at_rq, _ = REFERENCE
    assert sorted(type(e).__name__ for e in at_rs) == [
        "CancelReceived",
        "HelloReceived",
        "PingReceived",
        "PongReceived",
        "RequestReceived",
        "RequestReceived",
        "RequestReceived",
        "RequestReceived",
    ]
    assert sorted(type(e).__name__ for e in at_rq) == [
        "ErrorReceived",  # busy, sent by the responder's connection itself
        "ErrorReceived",
        "GoAwayReceived",
        "PingReceived",
        "PongReceived",
        "ResponseReceived",
        "ResponseReceived",
        "WelcomeReceived",
    ]


def test_one_byte_at_a_time_gives_the_same_events() -> None:
    assert run_session(one_byte_at_a_time) == REFERENCE


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=12))
def test_any_cutting_gives_the_same_events(sizes: list[int]) -> None:
    assert run_session(cut_by(sizes)) == REFERENCE


@settings(max_examples=100, deadline=None)
@given(
    frames=st.lists(
        st.tuples(st.integers(1, 9), st.integers(0, 1), st.integers(0, 99), st.binary(max_size=60)),
        max_size=8,
    ),
    cuts=st.lists(st.integers(0, 600), max_size=10),
)
def test_frame_decoder_is_indifferent_to_cut_points(
    frames: list[tuple[int, int, int, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(encode_frame(t, flags, s, p) for t, flags, s, p in frames)
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})

    decoder = FrameDecoder(max_frame=64)
    pieces = [stream[a:b] for a, b in pairwise(points)]
    decoded = [f for piece in pieces for f in decoder.feed(piece)]

    assert decoded == FrameDecoder(max_frame=64).feed(stream)
    assert [(f.type, f.flags, f.stream_id, f.payload) for f in decoded] == frames
    assert decoder.buffered == 0


def test_the_decoder_keeps_copies_so_a_reader_may_reuse_its_buffer() -> None:
    first = encode_frame(7, 0, 0, b"pingpong")
    second = encode_frame(4, 0, 1, b'{"result":"abcdefgh"}')
    read_buffer = bytearray(first + second[:15])
    decoder = FrameDecoder(max_frame=64)

    [ping] = decoder.feed(read_buffer)
    read_buffer[:] = b"\xff" * len(read_buffer)  # the reader overwrites its buffer
    [answer] = decoder.feed(second[15:])

    assert ping.payload == b"pingpong"
    assert answer.payload == b'{"result":"abcdefgh"}'
