"""Every frame type sent by one Connection arrives at the other as an equal event."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.events import (
    CancelReceived,
    ErrorReceived,
    GoAwayReceived,
    HelloReceived,
    PingReceived,
    PongReceived,
    RequestReceived,
    ResponseReceived,
    WelcomeReceived,
)
from protocol.frames import FrameType, Limits
from protocol.state import ConnectionState
from tests.protocol.pair import ConnectionPair, frame, frames_of, opened_pair

SETTINGS = settings(max_examples=60, deadline=None)

short_text = st.text(max_size=256)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
json_objects = st.dictionaries(st.text(max_size=10), json_values, max_size=5)


def answerable_request(pair: ConnectionPair) -> int:
    stream_id = pair.requester.send_request("appointments.list", {})
    [request] = pair.to_responder()
    assert isinstance(request, RequestReceived)
    return stream_id


@SETTINGS
@given(tenant=short_text, requester_id=short_text)
def test_hello(tenant: str, requester_id: str) -> None:
    pair = ConnectionPair()
    pair.requester.send_hello(tenant, requester_id)
    assert pair.requester.state is ConnectionState.HANDSHAKING

    events = pair.to_responder()

    assert events == [HelloReceived(versions=(1,), tenant=tenant, requester_id=requester_id)]
    assert pair.responder.state is ConnectionState.HANDSHAKING


@SETTINGS
@given(
    agent_version=short_text,
    practice=json_objects,
    max_frame=st.integers(1024, 2**24),
    extra=st.integers(0, 2**20),
    max_streams=st.integers(1, 2**16),
)
def test_welcome_carries_the_responders_limits(
    agent_version: str, practice: dict[str, Any], max_frame: int, extra: int, max_streams: int
) -> None:
    limits = Limits(max_frame=max_frame, max_message=max_frame + extra, max_streams=max_streams)
    pair = ConnectionPair(responder_limits=limits)
    pair.requester.send_hello("riverside", "proxy-1")
    pair.to_responder()
    pair.responder.send_welcome(agent_version, practice)

    events = pair.to_requester()

    assert events == [
        WelcomeReceived(version=1, agent_version=agent_version, practice=practice, limits=limits)
    ]
    assert pair.requester.peer_limits == limits
    assert pair.requester.state is ConnectionState.OPEN
    assert pair.responder.state is ConnectionState.OPEN


@SETTINGS
@given(
    method=short_text,
    params=json_objects,
    session=st.none() | short_text,
    idempotency_key=st.none() | short_text,
    deadline_ms=st.none() | st.integers(0, 2**31 - 1),
    client=st.none() | json_objects,
)
def test_request_with_every_field(
    method: str,
    params: dict[str, Any],
    session: str | None,
    idempotency_key: str | None,
    deadline_ms: int | None,
    client: dict[str, Any] | None,
) -> None:
    pair = opened_pair()
    stream_id = pair.requester.send_request(
        method,
        params,
        session=session,
        idempotency_key=idempotency_key,
        deadline_ms=deadline_ms,
        client=client,
    )

    events = pair.to_responder()

    assert events == [
        RequestReceived(
            stream_id=stream_id,
            method=method,
            params=params,
            session=session,
            idempotency_key=idempotency_key,
            deadline_ms=deadline_ms,
            client=client,
        )
    ]
    assert pair.responder.open_streams == 1


def test_request_streams_are_odd_and_increasing() -> None:
    pair = opened_pair()
    ids = [pair.requester.send_request("m", {"n": n}) for n in range(4)]

    events = pair.to_responder()

    assert ids == [1, 3, 5, 7]
    assert [(e.stream_id, e.params) for e in events if isinstance(e, RequestReceived)] == [
        (1, {"n": 0}),
        (3, {"n": 1}),
        (5, {"n": 2}),
        (7, {"n": 3}),
    ]


def test_request_with_absent_optional_fields() -> None:
    """A peer may leave the optional keys out entirely: they arrive as None."""
    pair = opened_pair()
    body = {"method": "practice.info", "params": {"lang": "en"}}

    events = pair.responder.receive_data(frame(FrameType.REQUEST, 1, body))

    assert events == [
        RequestReceived(
            stream_id=1,
            method="practice.info",
            params={"lang": "en"},
            session=None,
            idempotency_key=None,
            deadline_ms=None,
            client=None,
        )
    ]


def test_unknown_extra_keys_are_ignored() -> None:
    pair = opened_pair()
    body = {"method": "m", "params": {}, "trace": {"id": 7}, "session": "tok"}

    [event] = pair.responder.receive_data(frame(FrameType.REQUEST, 1, body))

    assert isinstance(event, RequestReceived)
    assert event.session == "tok"


@SETTINGS
@given(result=json_values)
def test_response_with_any_json_result(result: Any) -> None:
    pair = opened_pair()
    stream_id = answerable_request(pair)

    assert pair.responder.send_response(stream_id, result) is True
    events = pair.to_requester()

    assert events == [ResponseReceived(stream_id=stream_id, result=result)]
    assert pair.requester.open_streams == 0
    assert pair.responder.open_streams == 0


@SETTINGS
@given(
    code=st.text(min_size=1, max_size=256),
    message=st.text(max_size=2000),
    retryable=st.booleans(),
    details=st.none() | json_objects,
)
def test_error_with_details(
    code: str, message: str, retryable: bool, details: dict[str, Any] | None
) -> None:
    pair = opened_pair()
    stream_id = answerable_request(pair)

    assert pair.responder.send_error(stream_id, code, message, retryable=retryable, details=details)
    events = pair.to_requester()

    assert events == [
        ErrorReceived(
            stream_id=stream_id, code=code, message=message, retryable=retryable, details=details
        )
    ]
    assert pair.requester.open_streams == 0


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("busy", True),
        ("unavailable", True),
        ("rate_limited", True),
        ("shutdown", True),
        ("not_found", False),
        ("invalid_params", False),
        ("slot_unavailable", False),
        ("forbidden", False),
        ("internal", False),
        ("deadline_exceeded", False),
        ("some_future_code", False),
    ],
)
def test_error_retryable_defaults_from_the_code(code: str, retryable: bool) -> None:
    pair = opened_pair()
    stream_id = answerable_request(pair)

    pair.responder.send_error(stream_id, code, "Please try again later.")
    [event] = pair.to_requester()

    assert event == ErrorReceived(
        stream_id=stream_id,
        code=code,
        message="Please try again later.",
        retryable=retryable,
        details=None,
    )


def test_cancel() -> None:
    pair = opened_pair()
    stream_id = answerable_request(pair)

    pair.requester.send_cancel(stream_id)
    events = pair.to_responder()

    assert events == [CancelReceived(stream_id=stream_id)]
    assert pair.requester.open_streams == 0
    assert pair.responder.open_streams == 0


@SETTINGS
@given(data=st.binary(min_size=8, max_size=8), requester_pings=st.booleans())
def test_ping_is_answered_by_pong_automatically(data: bytes, requester_pings: bool) -> None:
    pair = opened_pair()
    if requester_pings:
        pinger, there, back = pair.requester, pair.to_responder, pair.to_requester
    else:
        pinger, there, back = pair.responder, pair.to_requester, pair.to_responder

    pinger.send_ping(data)
    assert there() == [PingReceived(data)]
    assert back() == [PongReceived(data)]
    assert not pair.requester.has_pending_output
    assert not pair.responder.has_pending_output


def test_pong_bytes_on_the_wire_echo_the_ping() -> None:
    pair = opened_pair()
    pair.requester.send_ping(b"\x00\x01\x02\x03\x04\x05\x06\x07")
    pair.to_responder()

    [pong] = frames_of(pair.responder.data_to_send())

    assert pong.type is FrameType.PONG
    assert (pong.stream_id, pong.flags) == (0, 0)
    assert pong.payload == b"\x00\x01\x02\x03\x04\x05\x06\x07"


def test_unsolicited_pong_is_reported() -> None:
    pair = opened_pair()

    events = pair.requester.receive_data(frame(FrameType.PONG, 0, b"12345678"))

    assert events == [PongReceived(b"12345678")]


@SETTINGS
@given(code=st.text(min_size=1, max_size=256), message=st.text(max_size=500))
def test_goaway_from_the_responder(code: str, message: str) -> None:
    pair = opened_pair()
    answerable_request(pair)
    answerable_request(pair)

    pair.responder.send_goaway(code, message)
    events = pair.to_requester()

    assert events == [GoAwayReceived(code=code, last_stream_id=3, message=message)]
    assert pair.requester.state is ConnectionState.CLOSING
    assert pair.responder.state is ConnectionState.CLOSING


def test_goaway_from_the_requester() -> None:
    pair = opened_pair()

    pair.requester.send_goaway("shutdown", "the proxy is closing this link")
    events = pair.to_responder()

    assert events == [
        GoAwayReceived(code="shutdown", last_stream_id=0, message="the proxy is closing this link")
    ]
    assert pair.responder.state is ConnectionState.CLOSING
