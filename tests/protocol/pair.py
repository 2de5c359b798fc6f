"""A REQUESTER and a RESPONDER Connection joined by a fake wire, plus raw-frame helpers.

Like h11's and h2's test helpers: the wire is just `data_to_send()` of one side handed to
`receive_data()` of the other, so a test decides exactly when bytes cross and in what pieces.
"""

from __future__ import annotations

import json
from typing import Any

from protocol.connection import Connection
from protocol.errors import ProtocolError, RemoteProtocolError
from protocol.events import Event, HelloReceived, WelcomeReceived
from protocol.frames import (
    DEFAULT_LIMITS,
    MAX_STREAM_ID,
    Frame,
    FrameDecoder,
    FrameType,
    Limits,
    encode_frame,
)
from protocol.state import ConnectionState, Role

PRACTICE = {"name": "Riverside Family Practice", "phone": "+1 555 0100", "timezone": "UTC"}


class ConnectionPair:
    def __init__(
        self,
        responder_limits: Limits = DEFAULT_LIMITS,
        requester_limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.requester = Connection(Role.REQUESTER, requester_limits)
        self.responder = Connection(Role.RESPONDER, responder_limits)

    def to_responder(self, max_bytes: int | None = None) -> list[Event]:
        """Move what the requester has to send across the wire; the responder's events."""
        return self.responder.receive_data(self.requester.data_to_send(max_bytes))

    def to_requester(self, max_bytes: int | None = None) -> list[Event]:
        """Move what the responder has to send across the wire; the requester's events."""
        return self.requester.receive_data(self.responder.data_to_send(max_bytes))

    def handshake(
        self,
        tenant: str = "riverside",
        requester_id: str = "proxy-1",
        agent_version: str = "1.4.2",
        practice: dict[str, Any] | None = None,
    ) -> tuple[HelloReceived, WelcomeReceived]:
        self.requester.send_hello(tenant, requester_id)
        [hello] = self.to_responder()
        self.responder.send_welcome(agent_version, PRACTICE if practice is None else practice)
        [welcome] = self.to_requester()
        assert isinstance(hello, HelloReceived)
        assert isinstance(welcome, WelcomeReceived)
        return hello, welcome

    def exchange(self) -> tuple[list[Event], list[Event]]:
        """Shuttle bytes both ways until neither side has anything left to send.

        Returns (events the responder saw, events the requester saw).
        """
        at_responder: list[Event] = []
        at_requester: list[Event] = []
        while self.requester.has_pending_output or self.responder.has_pending_output:
            at_responder += self.to_responder()
            at_requester += self.to_requester()
        return at_responder, at_requester


def frame(
    frame_type: int, stream_id: int = 0, payload: bytes | dict[str, Any] = b"", flags: int = 0
) -> bytes:
    """One raw frame; a dict payload is encoded as JSON."""
    if isinstance(payload, dict):
        payload = json.dumps(payload).encode()
    return encode_frame(frame_type, flags, stream_id, payload)


def frames_of(data: bytes) -> list[Frame]:
    """Parse bytes a Connection produced into frames (any length accepted); all must be whole."""
    decoder = FrameDecoder(max_frame=MAX_STREAM_ID)
    frames = decoder.feed(data)
    assert decoder.buffered == 0, "data_to_send() ended in the middle of a frame"
    return frames


def json_of(f: Frame) -> Any:
    return json.loads(f.payload)


def assert_goaway_sent(conn: Connection, error: ProtocolError) -> dict[str, Any]:
    """After a receive error: the connection is closed and its last words are a GOAWAY."""
    assert conn.state is ConnectionState.CLOSED
    sent = frames_of(conn.data_to_send())
    assert sent, "nothing queued after a protocol error"
    goaway = sent[-1]
    assert goaway.type is FrameType.GOAWAY
    assert goaway.stream_id == 0
    body = json_of(goaway)
    assert body["code"] == error.code
    assert isinstance(body["message"], str)
    assert body["last_stream_id"] == conn.last_peer_stream
    return body


def request_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "method": "appointments.list",
        "params": {},
        "session": None,
        "idempotency_key": None,
        "deadline_ms": None,
        "client": None,
    }
    body.update(overrides)
    return body


def opened_pair(
    responder_limits: Limits = DEFAULT_LIMITS, requester_limits: Limits = DEFAULT_LIMITS
) -> ConnectionPair:
    pair = ConnectionPair(responder_limits, requester_limits)
    pair.handshake()
    return pair


def refused(conn: Connection, data: bytes, code: str = "protocol_error") -> ProtocolError:
    """Feed bytes that must be refused with `code`; checks the GOAWAY and returns the error."""
    try:
        events = conn.receive_data(data)
    except RemoteProtocolError as exc:
        assert exc.code == code, f"refused with {exc.code} ({exc.message}), expected {code}"
        assert_goaway_sent(conn, exc)
        return exc
    raise AssertionError(f"accepted, with events {events}")
