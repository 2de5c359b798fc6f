"""Whatever bytes arrive, receive_data either returns events or raises RemoteProtocolError;
after the error the connection is CLOSED, its last frame out is a GOAWAY carrying the error's
code, and it ignores anything that arrives later."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.connection import Connection
from protocol.errors import RemoteProtocolError
from protocol.events import CancelReceived, Event, HelloReceived, RequestReceived, WelcomeReceived
from protocol.frames import Limits, encode_frame
from protocol.state import ConnectionState, Role
from tests.protocol.pair import ConnectionPair, assert_goaway_sent, opened_pair

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOUP = settings(SETTINGS, max_examples=60)
RESPONDER_LIMITS = Limits(max_frame=1024, max_message=4096, max_streams=3)

# -- building blocks ---------------------------------------------------------------------------

KEYS = [
    "versions", "tenant", "requester_id", "version", "agent_version", "practice", "limits",
    "max_frame", "max_message", "max_streams", "method", "params", "session",
    "idempotency_key", "deadline_ms", "client", "result", "code", "message", "retryable",
    "details", "last_stream_id",
]  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.sampled_from([0, 1, 1024, 2**31, 2**64, -1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=10,
)
json_payloads = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=7).map(
    lambda obj: json.dumps(obj).encode()
)
VALID_PAYLOADS = [
    json.dumps({"versions": [1], "tenant": "t", "requester_id": "p"}).encode(),
    json.dumps(
        {
            "version": 1,
            "agent_version": "1",
            "practice": {},
            "limits": {"max_frame": 1024, "max_message": 4096, "max_streams": 3},
        }
    ).encode(),
    json.dumps({"method": "m", "params": {}}).encode(),
    json.dumps({"result": [1, 2]}).encode(),
    json.dumps({"code": "busy", "message": "m", "retryable": True}).encode(),
    json.dumps({"code": "shutdown", "last_stream_id": 3, "message": ""}).encode(),
    b"pingpong",
    b"",
    b'{"method":"m","params":{"a":"',  # the start of a split message
    b'x"}}',
]
payloads = st.sampled_from(VALID_PAYLOADS) | json_payloads | st.binary(max_size=40)
# Mostly well-formed headers, so that the soup gets past the first frame and into the streams.
raw_frames = st.builds(
    lambda version, kind, flags, stream, payload: (
        bytes([version]) + encode_frame(kind, flags, stream, payload)[1:]
    ),
    version=st.sampled_from([1] * 15 + [0, 2]),
    kind=st.sampled_from([*range(1, 10)] * 3 + [0, 10, 255]),
    flags=st.sampled_from([0] * 6 + [1] * 3 + [2, 0x8000]),
    stream=st.sampled_from([0, 0, 1, 1, 3, 3, 5, 7, 2, 4, 2**31 + 1, 2**32 - 1]),
    payload=payloads,
)
HELLO = encode_frame(1, 0, 0, VALID_PAYLOADS[0])

# Plausible traffic: mostly what a peer would send, with the stream ids, payloads and splits
# each a little off now and then, so that the fuzzing reaches the stream bookkeeping.
small_objects = st.dictionaries(st.text(max_size=4), json_values, max_size=3)


def mostly(valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Five times in six `valid`, else `odd` (one_of(valid, valid, ...) would not weigh).

    Both are drawn and one is kept: unlike flatmap this shrinks quickly, towards `valid`.
    """
    return st.tuples(st.integers(0, 5), valid, odd).map(lambda t: t[2] if t[0] == 5 else t[1])


request_bodies = st.fixed_dictionaries(
    {
        "method": mostly(st.text(max_size=8), st.integers()),
        "params": mostly(small_objects, json_values),
    },
    optional={
        "session": mostly(st.none() | st.text(max_size=5), st.integers()),
        "idempotency_key": mostly(st.none() | st.text(max_size=5), st.text(min_size=257)),
        "deadline_ms": mostly(st.none() | st.integers(0, 2**31 - 1), st.integers(-5, 2**32)),
        "client": mostly(st.none() | small_objects, st.text(max_size=3)),
    },
)
response_bodies = mostly(
    st.fixed_dictionaries({"result": json_values}), st.fixed_dictionaries({"rezult": json_values})
)
error_bodies = st.fixed_dictionaries(
    {
        "code": mostly(st.sampled_from(["busy", "not_found", ""]), st.integers()),
        "message": st.text(max_size=8),
        "retryable": mostly(st.booleans(), st.none()),
    },
    optional={"details": mostly(st.none() | small_objects, st.integers())},
)
goaway_bodies = st.fixed_dictionaries(
    {
        "code": st.sampled_from(["shutdown", "protocol_error"]),
        "last_stream_id": mostly(st.integers(0, 99), st.integers(-1, 2**32)),
        "message": st.text(max_size=8),
    }
)
ping_data = mostly(st.binary(min_size=8, max_size=8), st.binary(max_size=9))


def encoded(bodies: st.SearchStrategy[dict]) -> st.SearchStrategy[bytes]:
    return mostly(
        bodies.map(lambda body: json.dumps(body).encode()),
        json_payloads | st.binary(max_size=30),
    )


def message_frames(kind: int, stream: int, payload: bytes, pieces: int) -> list[bytes]:
    """One message cut into `pieces` frames, MORE on all but the last."""
    step = max(1, -(-len(payload) // pieces))
    chunks = [payload[i : i + step] for i in range(0, len(payload), step)] or [b""]
    return [
        encode_frame(kind, 1 if n < len(chunks) - 1 else 0, stream, chunk)
        for n, chunk in enumerate(chunks)
    ]


@st.composite
def traffic_to_responder(draw: st.DrawFn) -> list[bytes]:
    frames = [HELLO]
    last = 0
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["request"] * 6 + ["cancel"] * 2 + ["ping", "goaway", "raw"]))
        if kind == "request":
            how = draw(st.sampled_from(["next"] * 8 + ["same", "even", "zero", "back"]))
            stream = {
                "next": last + 2 if last else 1,
                "same": max(last, 1),
                "even": last + 1,
                "zero": 0,
                "back": max(1, last - 2),
            }[how]
            last = max(last, stream if stream % 2 else 0)
            payload = draw(encoded(request_bodies))
            frames += message_frames(3, stream, payload, draw(st.integers(1, 3)))
        elif kind == "cancel":
            stream = draw(st.sampled_from([last] * 5 + [max(1, last - 2), last + 2, 0]))
            frames.append(encode_frame(6, 0, stream, draw(mostly(st.just(b""), st.binary()))))
        elif kind == "ping":
            frames.append(encode_frame(7, 0, 0, draw(ping_data)))
        elif kind == "goaway":
            frames.append(encode_frame(9, 0, 0, draw(encoded(goaway_bodies))))
        else:
            frames.append(draw(raw_frames))
    return frames


OPENED = [1, 3, 5, 7, 9]


@st.composite
def traffic_to_requester(draw: st.DrawFn) -> list[bytes]:
    frames = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["response"] * 4 + ["error"] * 3 + ["ping", "goaway", "raw"]))
        if kind in ("response", "error"):
            stream = draw(st.sampled_from(OPENED * 3 + [11, 2, 0]))
            kind_code = 4 if kind == "response" else 5
            payload = draw(encoded(response_bodies if kind_code == 4 else error_bodies))
            frames += message_frames(kind_code, stream, payload, draw(st.integers(1, 3)))
        elif kind == "ping":
            frames.append(
                encode_frame(
                    draw(st.sampled_from([7, 8])), 0, 0, draw(st.binary(min_size=8, max_size=8))
                )
            )
        elif kind == "goaway":
            frames.append(encode_frame(9, 0, 0, draw(encoded(goaway_bodies))))
        else:
            frames.append(draw(raw_frames))
    return frames


@dataclass
class Outcome:
    events: list[Event] = field(default_factory=list)
    error: RemoteProtocolError | None = None


def feed(conn: Connection, pieces: list[bytes], react: bool = True) -> Outcome:
    """Feed pieces one receive_data call at a time, answering like a well-behaved peer would."""
    outcome = Outcome()
    for piece in pieces:
        try:
            events = conn.receive_data(piece)
        except RemoteProtocolError as exc:
            outcome.error = exc
            break
        # Anything else escaping receive_data (KeyError, RecursionError, UnicodeError, a
        # LocalProtocolError...) fails the test right here with hypothesis's minimal example.
        outcome.events += events
        if react:
            respond(conn, events)
    if outcome.error is not None:
        assert_goaway_sent(conn, outcome.error)
        assert conn.receive_data(b"\x01\x03\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00") == []
        assert conn.data_to_send() == b""
    conn.data_to_send()  # whatever was produced is encodable and drainable
    return outcome


def respond(conn: Connection, events: list[Event]) -> None:
    """Welcome a HELLO; answer requests, except slow ones and every third (they stay open)."""
    for event in events:
        if isinstance(event, HelloReceived):
            if conn.state is ConnectionState.HANDSHAKING:  # not if a GOAWAY came right after
                conn.send_welcome("1.0", {"name": "fuzz"})
        elif (
            isinstance(event, RequestReceived)
            and event.method != "slow.thing"
            and event.stream_id % 6 != 3
        ):
            if event.stream_id % 4 == 1:
                conn.send_response(event.stream_id, {"echo": event.params})
            else:
                conn.send_error(event.stream_id, "not_found", "nope", details={"m": event.method})


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    buffer = bytearray(data)
    for op, position, value in edits:
        at = position % (len(buffer) + 1)
        if op == 0 and at < len(buffer):  # flip bits of one byte
            buffer[at] ^= value or 0x80
        elif op == 1:  # insert a byte
            buffer[at:at] = bytes([value])
        else:  # delete a run of bytes
            del buffer[at : at + 1 + value % 16]
    return bytes(buffer)


edits = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 2**16), st.integers(0, 255)), min_size=1, max_size=4
)


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# -- recorded sessions -------------------------------------------------------------------------


def send_requests(requester: Connection) -> None:
    requester.send_request("practice.info", {})
    requester.send_request("messages.send", {"body": "b" * 2500}, session="tok")  # 3 frames
    requester.send_request("records.list", {"id": 1}, idempotency_key="k", deadline_ms=100)
    requester.send_request("forms.list", {}, client={"ip": "192.0.2.1", "user_agent": "x"})


def record_session() -> tuple[bytes, bytes]:
    """Everything each side wrote in an ordinary session: (to responder, to requester)."""
    pair = ConnectionPair(responder_limits=RESPONDER_LIMITS)
    rq, rs = pair.requester, pair.responder
    to_rs, to_rq = bytearray(), bytearray()

    def deliver() -> None:
        while rq.has_pending_output or rs.has_pending_output:
            data = rq.data_to_send()
            to_rs.extend(data)
            respond(rs, rs.receive_data(data))
            data = rs.data_to_send()
            to_rq.extend(data)
            for event in rq.receive_data(data):
                if isinstance(event, WelcomeReceived):
                    send_requests(rq)

    rq.send_hello("riverside", "proxy-1")
    deliver()
    rq.send_ping(b"12345678")
    rs.send_ping(b"abcdefgh")
    deliver()
    stream = rq.send_request("slow.thing", {})
    deliver()
    rq.send_cancel(stream)
    deliver()
    rs.send_goaway("shutdown", "bye")
    deliver()
    return bytes(to_rs), bytes(to_rq)


TO_RESPONDER, TO_REQUESTER = record_session()


def test_the_recorded_session_is_valid() -> None:
    responder = Connection(Role.RESPONDER, RESPONDER_LIMITS)
    outcome = feed(responder, one_byte_at_a_time(TO_RESPONDER))
    assert outcome.error is None
    assert len([e for e in outcome.events if isinstance(e, RequestReceived)]) == 5
    assert any(isinstance(e, CancelReceived) for e in outcome.events)

    requester = fresh_requester_after_hello()
    outcome = feed_requester(requester, one_byte_at_a_time(TO_REQUESTER))
    assert outcome.error is None
    assert len(outcome.events) == 7  # welcome, 3 answers (stream 3 stays open), ping, pong, goaway


def fresh_requester_after_hello() -> Connection:
    requester = Connection(Role.REQUESTER)
    requester.send_hello("riverside", "proxy-1")
    requester.data_to_send()
    return requester


def feed_requester(requester: Connection, pieces: list[bytes]) -> Outcome:
    """Like feed(), but the requester sends the recorded session's requests once welcomed."""
    outcome = Outcome()
    for piece in pieces:
        try:
            events = requester.receive_data(piece)
        except RemoteProtocolError as exc:
            outcome.error = exc
            break
        outcome.events += events
        if any(isinstance(e, WelcomeReceived) for e in events):
            send_requests(requester)
            requester.send_ping(b"12345678")
            requester.send_request("slow.thing", {})
    if outcome.error is not None:
        assert_goaway_sent(requester, outcome.error)
        assert requester.receive_data(b"\x01\x04\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00") == []
        assert requester.data_to_send() == b""
    return outcome


# -- the properties ----------------------------------------------------------------------------


@SETTINGS
@given(data=st.binary(max_size=200))
def test_random_bytes_to_a_fresh_responder(data: bytes) -> None:
    feed(Connection(Role.RESPONDER), [data])


@SETTINGS
@given(data=st.binary(max_size=200))
def test_random_bytes_to_an_open_requester(data: bytes) -> None:
    pair = opened_pair()
    pair.requester.send_request("m", {})
    pair.requester.data_to_send()
    feed(pair.requester, [data])


@SOUP
@given(frames=st.lists(raw_frames, max_size=10), hello=st.booleans(), react=st.booleans())
def test_frame_soup_to_a_fresh_responder(frames: list[bytes], hello: bool, react: bool) -> None:
    feed(Connection(Role.RESPONDER, RESPONDER_LIMITS), [HELLO] * hello + frames, react=react)


@settings(SETTINGS, max_examples=100)
@given(frames=traffic_to_responder(), whole=st.booleans())
def test_plausible_traffic_to_a_responder(frames: list[bytes], whole: bool) -> None:
    responder = Connection(Role.RESPONDER, RESPONDER_LIMITS)
    feed(responder, [b"".join(frames)] if whole else frames)


@settings(SETTINGS, max_examples=100)
@given(frames=traffic_to_requester(), whole=st.booleans())
def test_plausible_traffic_to_an_open_requester(frames: list[bytes], whole: bool) -> None:
    pair = opened_pair()
    for n in range(len(OPENED)):
        pair.requester.send_request("m", {"n": n})
    pair.requester.data_to_send()
    feed(pair.requester, [b"".join(frames)] if whole else frames)


@SOUP
@given(frames=st.lists(raw_frames, max_size=10))
def test_frame_soup_to_a_requester_awaiting_welcome(frames: list[bytes]) -> None:
    feed(fresh_requester_after_hello(), frames)


@SETTINGS
@given(edits=edits)
def test_mutated_session_to_a_responder(edits: list[tuple[int, int, int]]) -> None:
    responder = Connection(Role.RESPONDER, RESPONDER_LIMITS)
    feed(responder, one_byte_at_a_time(mutate(TO_RESPONDER, edits)))


@SETTINGS
@given(edits=edits)
def test_mutated_session_to_a_requester(edits: list[tuple[int, int, int]]) -> None:
    feed_requester(fresh_requester_after_hello(), one_byte_at_a_time(mutate(TO_REQUESTER, edits)))


@SETTINGS
@given(edits=edits, cut=st.integers(0, 2**16))
def test_mutated_session_in_two_pieces(edits: list[tuple[int, int, int]], cut: int) -> None:
    """The same mutations, but most of the stream in one receive_data call."""
    mutated = mutate(TO_RESPONDER, edits)
    responder = Connection(Role.RESPONDER, RESPONDER_LIMITS)
    cut %= len(mutated) + 1
    feed(responder, [mutated[:cut], mutated[cut:]])
