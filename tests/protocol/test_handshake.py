"""HELLO/WELCOME come first; the version is checked; malformed headers and payloads are refused
with a protocol error code (never an unrelated exception such as RecursionError)."""

from __future__ import annotations

import json

import pytest

from protocol.connection import Connection
from protocol.events import GoAwayReceived
from protocol.frames import FLAG_MORE, HEADER, FrameType, encode_frame, encode_message
from protocol.state import ConnectionState, Role
from tests.protocol.pair import ConnectionPair, frame, opened_pair, refused, request_body

HELLO = {"versions": [1], "tenant": "riverside", "requester_id": "proxy-1"}
WELCOME = {
    "version": 1,
    "agent_version": "1.4.2",
    "practice": {"name": "Riverside"},
    "limits": {"max_frame": 65536, "max_message": 8388608, "max_streams": 256},
}
GOAWAY = {"code": "shutdown", "last_stream_id": 0, "message": "bye"}

# One plausible frame of each type, on the stream it belongs on.
EVERY_FRAME = {
    FrameType.HELLO: frame(FrameType.HELLO, 0, HELLO),
    FrameType.WELCOME: frame(FrameType.WELCOME, 0, WELCOME),
    FrameType.REQUEST: frame(FrameType.REQUEST, 1, request_body()),
    FrameType.RESPONSE: frame(FrameType.RESPONSE, 1, {"result": 1}),
    FrameType.ERROR: frame(FrameType.ERROR, 1, {"code": "x", "message": "", "retryable": False}),
    FrameType.CANCEL: frame(FrameType.CANCEL, 1),
    FrameType.PING: frame(FrameType.PING, 0, b"pingpong"),
    FrameType.PONG: frame(FrameType.PONG, 0, b"pingpong"),
    FrameType.GOAWAY: frame(FrameType.GOAWAY, 0, GOAWAY),
}


def requester_awaiting_welcome() -> Connection:
    requester = Connection(Role.REQUESTER)
    requester.send_hello("riverside", "proxy-1")
    requester.data_to_send()
    return requester


def open_responder() -> Connection:
    return opened_pair().responder


def test_the_handshake_opens_both_sides() -> None:
    pair = ConnectionPair()
    assert pair.requester.state is ConnectionState.IDLE
    assert pair.responder.state is ConnectionState.IDLE

    pair.handshake()

    assert pair.requester.state is ConnectionState.OPEN
    assert pair.responder.state is ConnectionState.OPEN


@pytest.mark.parametrize("frame_type", [t for t in FrameType if t is not FrameType.HELLO])
def test_any_frame_before_hello_is_refused_by_the_responder(frame_type: FrameType) -> None:
    refused(Connection(Role.RESPONDER), EVERY_FRAME[frame_type])


@pytest.mark.parametrize("frame_type", list(FrameType))
def test_any_frame_before_the_requester_said_hello_is_refused(frame_type: FrameType) -> None:
    refused(Connection(Role.REQUESTER), EVERY_FRAME[frame_type])


@pytest.mark.parametrize(
    "frame_type", [t for t in FrameType if t not in (FrameType.WELCOME, FrameType.GOAWAY)]
)
def test_any_frame_but_welcome_is_refused_while_awaiting_it(frame_type: FrameType) -> None:
    refused(requester_awaiting_welcome(), EVERY_FRAME[frame_type])


@pytest.mark.parametrize(
    "frame_type", [t for t in FrameType if t not in (FrameType.GOAWAY, FrameType.HELLO)]
)
def test_nothing_but_goaway_may_follow_hello_before_welcome(frame_type: FrameType) -> None:
    responder = Connection(Role.RESPONDER)
    responder.receive_data(EVERY_FRAME[FrameType.HELLO])
    refused(responder, EVERY_FRAME[frame_type])


def test_a_second_hello_is_refused() -> None:
    responder = Connection(Role.RESPONDER)
    responder.receive_data(EVERY_FRAME[FrameType.HELLO])
    refused(responder, EVERY_FRAME[FrameType.HELLO])
    responder = open_responder()
    refused(responder, EVERY_FRAME[FrameType.HELLO])


def test_a_second_welcome_is_refused() -> None:
    refused(opened_pair().requester, EVERY_FRAME[FrameType.WELCOME])


def test_a_goaway_instead_of_welcome_closes_the_requester() -> None:
    requester = requester_awaiting_welcome()

    events = requester.receive_data(frame(FrameType.GOAWAY, 0, GOAWAY))

    assert events == [GoAwayReceived("shutdown", 0, "bye")]
    assert requester.state is ConnectionState.CLOSED


@pytest.mark.parametrize("versions", [[2], [0, 2, 3], [255]])
def test_hello_without_version_1_is_unsupported(versions: list[int]) -> None:
    hello = dict(HELLO, versions=versions)
    refused(Connection(Role.RESPONDER), frame(FrameType.HELLO, 0, hello), "unsupported_version")


def test_hello_offering_several_versions_including_1_is_accepted() -> None:
    responder = Connection(Role.RESPONDER)
    [hello] = responder.receive_data(frame(FrameType.HELLO, 0, dict(HELLO, versions=[3, 2, 1])))
    assert hello.versions == (3, 2, 1)


@pytest.mark.parametrize(
    "hello",
    [
        dict(HELLO, versions=[]),
        dict(HELLO, versions="1"),
        dict(HELLO, versions=[True]),
        dict(HELLO, versions=list(range(17))),
        dict(HELLO, tenant=None),
        dict(HELLO, tenant="t" * 257),
        {"versions": [1], "tenant": "t"},
    ],
)
def test_malformed_hello_is_a_protocol_error(hello: dict) -> None:
    refused(Connection(Role.RESPONDER), frame(FrameType.HELLO, 0, hello))


def test_welcome_choosing_another_version_is_unsupported() -> None:
    welcome = dict(WELCOME, version=2)
    refused(
        requester_awaiting_welcome(), frame(FrameType.WELCOME, 0, welcome), "unsupported_version"
    )


@pytest.mark.parametrize(
    "limits",
    [
        {"max_frame": 1023, "max_message": 8192, "max_streams": 1},
        {"max_frame": 4096, "max_message": 4095, "max_streams": 1},
        {"max_frame": 4096, "max_message": 8192, "max_streams": 0},
        {"max_frame": 4096, "max_message": 8192},
        {"max_frame": 4096.0, "max_message": 8192, "max_streams": 1},
    ],
)
def test_welcome_with_unusable_limits_is_refused(limits: dict) -> None:
    welcome = dict(WELCOME, limits=limits)
    refused(requester_awaiting_welcome(), frame(FrameType.WELCOME, 0, welcome))


@pytest.mark.parametrize("version", [0, 2, 255])
@pytest.mark.parametrize("stage", ["fresh", "open"])
def test_frame_header_with_another_version_is_unsupported(version: int, stage: str) -> None:
    conn = Connection(Role.RESPONDER) if stage == "fresh" else open_responder()
    good = EVERY_FRAME[FrameType.HELLO if stage == "fresh" else FrameType.PING]
    bad = bytes([version]) + good[1:]
    refused(conn, bad[:12], "unsupported_version")  # refused from the header alone


@pytest.mark.parametrize("frame_type", [0, 10, 11, 255])
def test_unknown_frame_type_is_a_protocol_error(frame_type: int) -> None:
    refused(open_responder(), HEADER.pack(1, frame_type, 0, 0, 0))


@pytest.mark.parametrize("flags", [0x2, 0x4, 0x8000, 0xFFFF, 0x3])
def test_unknown_flag_bits_are_a_protocol_error(flags: int) -> None:
    refused(
        open_responder(),
        encode_frame(FrameType.REQUEST, flags, 1, json.dumps(request_body()).encode()),
    )


BAD_JSON = {
    "not json": b"hello",
    "truncated": b'{"method": "m", "params": {}',
    "trailing data": b'{"method": "m", "params": {}} {}',
    "array": b'[{"method": "m", "params": {}}]',
    "string": b'"method"',
    "number": b"3",
    "null": b"null",
    "empty": b"",
    "duplicate key": b'{"method": "m", "method": "n", "params": {}}',
    "duplicate nested key": b'{"method": "m", "params": {"a": 1, "a": 2}}',
    "NaN": b'{"method": "m", "params": {"x": NaN}}',
    "Infinity": b'{"method": "m", "params": {"x": Infinity}}',
    "-Infinity": b'{"method": "m", "params": {"x": -Infinity}}',
    "lone surrogate": b'{"method": "m", "params": {"x": "\\ud800"}}',
    "lone low surrogate": b'{"method": "m", "params": {"x": "a\\uDC00b"}}',
    "surrogate in a key": b'{"method": "m", "params": {"\\ud83d": 1}}',
    "invalid UTF-8": b'{"method": "m\xff", "params": {}}',
    "UTF-8 encoded surrogate": b'{"method": "m\xed\xa0\x80", "params": {}}',
    "single quotes": b"{'method': 'm', 'params': {}}",
    "huge integer": b'{"method": "m", "params": {"x": ' + b"9" * 5000 + b"}}",
}


@pytest.mark.parametrize("payload", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_invalid_json_in_a_request_is_a_protocol_error(payload: bytes) -> None:
    refused(open_responder(), frame(FrameType.REQUEST, 1, payload))


@pytest.mark.parametrize("payload", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_invalid_json_in_a_hello_is_a_protocol_error(payload: bytes) -> None:
    refused(Connection(Role.RESPONDER), frame(FrameType.HELLO, 0, payload))


def test_a_valid_surrogate_pair_escape_is_accepted() -> None:
    payload = b'{"method": "m", "params": {"emoji": "\\ud83d\\ude00", "path": "C:\\\\ud800"}}'
    [event] = open_responder().receive_data(frame(FrameType.REQUEST, 1, payload))
    assert event.params == {"emoji": "\U0001f600", "path": "C:\\ud800"}


@pytest.mark.parametrize("opener", [b"[", b'{"a":', b'[{"a":'])
def test_deeply_nested_json_is_a_protocol_error_not_a_recursion_error(opener: bytes) -> None:
    nested = b'{"method": "m", "params": {"x": ' + opener * 100_000
    frames = encode_message(FrameType.REQUEST, 1, nested, 64 * 1024)
    assert len(frames) > 1 and frames[0][2:4] == FLAG_MORE.to_bytes(2, "big")

    refused(open_responder(), b"".join(frames))


def test_deeply_nested_hello_is_a_protocol_error() -> None:
    refused(Connection(Role.RESPONDER), frame(FrameType.HELLO, 0, b"[" * 60_000))


def test_nesting_a_few_hundred_deep_is_fine() -> None:
    params = {"x": json.loads("[" * 300 + "]" * 300)}
    [event] = open_responder().receive_data(
        frame(FrameType.REQUEST, 1, json.dumps(request_body(params=params)).encode())
    )
    assert event.params == params


def test_a_number_too_large_for_a_float_is_refused() -> None:
    """1e999 is syntactically JSON but decodes to float('inf'), which the link's own encoder
    (allow_nan=False) cannot send back: it must be refused on receipt like NaN/Infinity, or a
    peer can make the handler's answer fail later (the same reasoning the code gives for lone
    surrogates)."""
    pair = opened_pair()
    pair.requester.send_request("m", {})

    refused(pair.requester, frame(FrameType.RESPONSE, 1, b'{"result": 1e999}'))
