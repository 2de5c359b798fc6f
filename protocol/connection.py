"""The sans-IO link connection: bytes in, events out; method calls in, bytes out.

It never touches a socket or a clock (h11/h2 style). Which frame may be sent or received in
which connection state is the table `TRANSITIONS` (protocol/state.py); streams are tracked in a
few bounded sets and outgoing frames queued in protocol/streams.py.

Longer than ~400 lines on purpose: receiving and sending are the two halves of one state
machine, and every method on both sides reads and moves the same state through the same table
check. Split in two, each half would have to reach into the other's state (h11 keeps its
``Connection`` whole for the same reason).
"""

from __future__ import annotations

from typing import Any

from protocol import payloads
from protocol.errors import (
    RETRYABLE_CODES,
    ErrorCode,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from protocol.events import CancelReceived, Event, PingReceived, PongReceived
from protocol.frames import (
    DEFAULT_LIMITS,
    FLAG_MORE,
    MAX_STREAM_ID,
    VERSION,
    Frame,
    FrameDecoder,
    FrameType,
    Limits,
    encode_frame,
    encode_json,
    encode_message,
)
from protocol.state import (
    CLOSED,
    CLOSING,
    IDLE,
    MESSAGE_TYPES,
    RECV,
    RESPONDER,
    SEND,
    STREAM_ZERO_TYPES,
    TRANSITIONS,
    ConnectionState,
    Role,
)
from protocol.streams import OutgoingFrames, StreamTable

F = FrameType


PING_SIZE = 8


class Connection:
    """One link connection seen from one side. See docs/protocol.md for the rules it enforces."""

    def __init__(self, role: Role, limits: Limits = DEFAULT_LIMITS) -> None:
        self.role = role
        self.limits = limits  # what we accept
        self.peer_limits = DEFAULT_LIMITS  # what the peer accepts (WELCOME tells the requester)
        self.state = IDLE
        self._decoder = FrameDecoder(limits.max_frame)
        self._streams = StreamTable(limits)
        self._next_stream_id = 1  # requester: next odd id to open
        self._last_peer_stream = 0  # responder: highest stream id the peer opened
        self._out = OutgoingFrames()
        self._handlers = {
            F.HELLO: self._recv_hello,
            F.WELCOME: self._recv_welcome,
            F.REQUEST: self._recv_request,
            F.RESPONSE: self._recv_answer,
            F.ERROR: self._recv_answer,
            F.CANCEL: self._recv_cancel,
            F.PING: self._recv_ping,
            F.PONG: self._recv_pong,
            F.GOAWAY: self._recv_goaway,
        }

    # -- receiving ---------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes from the peer; returns the events they complete.

        Raises RemoteProtocolError (after queuing a GOAWAY) on any malformed input; the
        connection is CLOSED from then on and ignores further data.
        """
        if self.state is CLOSED:
            return []
        events: list[Event] = []
        try:
            for frame in self._decoder.feed(data):
                if self.state is CLOSED:
                    break  # a closing GOAWAY earlier in this same read: ignore the rest
                event = self._receive_frame(frame)
                if event is not None:
                    events.append(event)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise
        return events

    def _receive_frame(self, frame: Frame) -> Event | None:
        next_state = TRANSITIONS.get((self.role, self.state, RECV, frame.type))
        if next_state is None:
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR,
                f"{frame.type.name} may not be sent to the {self.role.value} "
                f"while the connection is {self.state.value}",
            )
        if frame.type in STREAM_ZERO_TYPES:
            if frame.stream_id != 0:
                raise RemoteProtocolError(
                    ErrorCode.PROTOCOL_ERROR, f"{frame.type.name} must travel on stream 0"
                )
        elif frame.stream_id == 0:
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR, f"{frame.type.name} may not travel on stream 0"
            )
        if frame.flags & FLAG_MORE and frame.type not in MESSAGE_TYPES:
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR, f"{frame.type.name} may not be split (MORE flag)"
            )
        event = self._handlers[frame.type](frame)
        self.state = next_state
        return event

    def _recv_hello(self, frame: Frame) -> Event:
        hello = payloads.parse_hello(frame.payload)
        if VERSION not in hello.versions:
            raise RemoteProtocolError(
                ErrorCode.UNSUPPORTED_VERSION,
                f"this side speaks version {VERSION} only, peer offered {list(hello.versions)}",
            )
        return hello

    def _recv_welcome(self, frame: Frame) -> Event:
        welcome = payloads.parse_welcome(frame.payload)
        if welcome.version != VERSION:
            raise RemoteProtocolError(
                ErrorCode.UNSUPPORTED_VERSION, f"responder chose version {welcome.version}"
            )
        self.peer_limits = welcome.limits
        return welcome

    def _recv_request(self, frame: Frame) -> Event | None:
        streams = self._streams
        stream_id = frame.stream_id
        if self._streams.discard(frame):
            return None
        if stream_id not in streams.partial and not self._accept_new_stream(frame):
            return None
        payload = self._streams.reassemble(frame)
        if payload is None:
            return None
        try:
            request = payloads.parse_request(stream_id, payload)
        except payloads.InvalidPayload as exc:
            # One malformed request must not take down a link that other patients' requests
            # share: answer it on its own stream.
            self._queue_single(
                F.ERROR,
                stream_id,
                _error_payload(ErrorCode.INVALID_PARAMS, exc.message, retryable=False),
            )
            return None
        streams.open.add(stream_id)
        return request

    def _accept_new_stream(self, frame: Frame) -> bool:
        """Check a new request stream's id; answer it at once with busy/shutdown if refused."""
        stream_id = frame.stream_id
        if stream_id % 2 == 0:
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR, f"request stream id {stream_id} is not odd"
            )
        if stream_id <= self._last_peer_stream:
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR,
                f"stream id {stream_id} is not above the last one ({self._last_peer_stream})",
            )
        self._last_peer_stream = stream_id
        streams = self._streams
        if self.state is CLOSING:
            code, message = ErrorCode.SHUTDOWN, "the agent is shutting down; try again"
        elif len(streams.open) + len(streams.partial) >= self.limits.max_streams:
            code, message = ErrorCode.BUSY, "too many requests in flight; try again"
        else:
            return True
        self._queue_single(F.ERROR, stream_id, _error_payload(code, message, retryable=True))
        if frame.flags & FLAG_MORE:
            self._streams.start_discarding(stream_id)
        return False

    def _recv_answer(self, frame: Frame) -> Event | None:
        streams = self._streams
        stream_id = frame.stream_id
        if self._streams.discard(frame):
            return None
        if stream_id not in streams.partial and stream_id not in streams.open:
            if stream_id % 2 == 1 and stream_id < self._next_stream_id:
                # We cancelled it (or it was answered already): the answer crossed our CANCEL.
                # Every frame of it lands here and is dropped; nothing needs remembering.
                return None
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR, f"answer on stream {stream_id}, which was never opened"
            )
        payload = self._streams.reassemble(frame)
        if payload is None:
            return None
        streams.open.discard(stream_id)
        if frame.type is F.RESPONSE:
            return payloads.parse_response(stream_id, payload)
        return payloads.parse_error(stream_id, payload)

    def _recv_cancel(self, frame: Frame) -> Event | None:
        stream_id = frame.stream_id
        if frame.payload:
            raise RemoteProtocolError(ErrorCode.PROTOCOL_ERROR, "CANCEL carries no payload")
        if stream_id % 2 == 0 or stream_id > self._last_peer_stream:
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR, f"CANCEL of stream {stream_id}, which was never opened"
            )
        streams = self._streams
        streams.partial.pop(stream_id, None)  # half-received: the handler never saw it
        streams.discarding.discard(stream_id)
        if stream_id in streams.open:
            streams.open.discard(stream_id)
            return CancelReceived(stream_id)
        return None  # already answered: our answer crossed the CANCEL

    def _recv_ping(self, frame: Frame) -> Event:
        if len(frame.payload) != PING_SIZE:
            raise RemoteProtocolError(ErrorCode.PROTOCOL_ERROR, "PING carries exactly 8 bytes")
        self._out.add(encode_frame(F.PONG, 0, 0, frame.payload))
        return PingReceived(frame.payload)

    def _recv_pong(self, frame: Frame) -> Event:
        if len(frame.payload) != PING_SIZE:
            raise RemoteProtocolError(ErrorCode.PROTOCOL_ERROR, "PONG carries exactly 8 bytes")
        return PongReceived(frame.payload)

    def _recv_goaway(self, frame: Frame) -> Event:
        return payloads.parse_goaway(frame.payload)

    def _fail(self, exc: ProtocolError) -> None:
        if self.state is not CLOSED:
            self._out.drop_messages()
            body = {
                "code": exc.code,
                "last_stream_id": self._last_peer_stream,
                "message": exc.message,
            }
            self._out.add(encode_frame(F.GOAWAY, 0, 0, encode_json(body)))
            self.state = CLOSED

    # -- sending -----------------------------------------------------------------------------

    def _transition(self, frame_type: FrameType) -> ConnectionState:
        next_state = TRANSITIONS.get((self.role, self.state, SEND, frame_type))
        if next_state is None:
            raise LocalProtocolError(
                ErrorCode.PROTOCOL_ERROR,
                f"a {self.role.value} may not send {frame_type.name} "
                f"while the connection is {self.state.value}",
            )
        return next_state

    def _queue_single(self, frame_type: FrameType, stream_id: int, payload: bytes) -> None:
        self._out.add(encode_frame(frame_type, 0, stream_id, payload))

    def _queue_message(self, frame_type: FrameType, stream_id: int, body: Any) -> None:
        try:
            payload = encode_json(body)
        except (TypeError, ValueError) as exc:
            raise LocalProtocolError(ErrorCode.INTERNAL, f"payload is not JSON: {exc}") from exc
        if len(payload) > self.peer_limits.max_message:
            raise LocalProtocolError(
                ErrorCode.FRAME_TOO_LARGE,
                f"message of {len(payload)} bytes exceeds the peer's limit of "
                f"{self.peer_limits.max_message}",
            )
        frames = encode_message(frame_type, stream_id, payload, self.peer_limits.max_frame)
        if len(frames) > 1 and frame_type not in MESSAGE_TYPES:
            raise LocalProtocolError(
                ErrorCode.FRAME_TOO_LARGE, f"{frame_type.name} must fit in one frame"
            )
        self._out.add_message(stream_id, frames)

    def send_hello(self, tenant: str, requester_id: str) -> None:
        next_state = self._transition(F.HELLO)
        _check_local(_short(tenant) and _short(requester_id), "tenant and requester_id")
        body = {"versions": [VERSION], "tenant": tenant, "requester_id": requester_id}
        self._queue_message(F.HELLO, 0, body)
        self.state = next_state

    def send_welcome(self, agent_version: str, practice: dict[str, Any]) -> None:
        next_state = self._transition(F.WELCOME)
        _check_local(_short(agent_version) and isinstance(practice, dict), "WELCOME fields")
        body = {
            "version": VERSION,
            "agent_version": agent_version,
            "practice": practice,
            "limits": payloads.limits_object(self.limits),
        }
        self._queue_message(F.WELCOME, 0, body)
        self.state = next_state

    def send_request(
        self,
        method: str,
        params: dict[str, Any],
        *,
        session: str | None = None,
        idempotency_key: str | None = None,
        deadline_ms: int | None = None,
        client: dict[str, Any] | None = None,
    ) -> int:
        """Queue a REQUEST on a new stream and return the stream id."""
        next_state = self._transition(F.REQUEST)
        if self.state is CLOSING:
            raise LocalProtocolError(
                ErrorCode.PROTOCOL_ERROR, "no new streams after a GOAWAY; open a new connection"
            )
        stream_id = self._next_stream_id
        if stream_id > MAX_STREAM_ID:
            raise LocalProtocolError(ErrorCode.PROTOCOL_ERROR, "stream ids exhausted; reconnect")
        body = {
            "method": method,
            "params": params,
            "session": session,
            "idempotency_key": idempotency_key,
            "deadline_ms": deadline_ms,
            "client": client,
        }
        self._queue_message(F.REQUEST, stream_id, body)
        self._next_stream_id = stream_id + 2
        self._streams.open.add(stream_id)
        self.state = next_state
        return stream_id

    def send_response(self, stream_id: int, result: Any) -> bool:
        """Answer a request. False (and nothing sent) if the requester cancelled it."""
        return self._answer(F.RESPONSE, stream_id, {"result": result})

    def send_error(
        self,
        stream_id: int,
        code: str,
        message: str,
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> bool:
        """Answer a request with an error. `retryable` defaults from the code."""
        _check_local(
            _short(code)
            and isinstance(message, str)
            and (details is None or isinstance(details, dict)),
            "ERROR fields",
        )
        if retryable is None:
            retryable = code in RETRYABLE_CODES
        body = _error_body(code, message, retryable=retryable)
        if details is not None:
            body["details"] = details
        return self._answer(F.ERROR, stream_id, body)

    def _answer(self, frame_type: FrameType, stream_id: int, body: dict[str, Any]) -> bool:
        next_state = self._transition(frame_type)
        if stream_id not in self._streams.open:
            if 0 < stream_id <= self._last_peer_stream:
                return False  # cancelled by the requester, or answered already
            raise LocalProtocolError(ErrorCode.PROTOCOL_ERROR, f"no request on stream {stream_id}")
        self._queue_message(frame_type, stream_id, body)
        self._streams.open.discard(stream_id)
        self.state = next_state
        return True

    def send_cancel(self, stream_id: int) -> None:
        """Give up on a request. Its answer, if it still comes, is dropped."""
        next_state = self._transition(F.CANCEL)
        streams = self._streams
        if stream_id not in streams.open:
            return  # answered already: nothing to cancel
        streams.open.discard(stream_id)
        if streams.partial.pop(stream_id, None) is not None:
            streams.discarding.add(stream_id)  # the rest of its answer is on the way
        # Frames of the request not yet handed out are dropped; the responder discards the
        # half-received message when it sees the CANCEL.
        self._out.drop_message(stream_id)
        self._queue_single(F.CANCEL, stream_id, b"")
        self.state = next_state

    def send_ping(self, data: bytes) -> None:
        if len(data) != PING_SIZE:
            raise LocalProtocolError(ErrorCode.PROTOCOL_ERROR, "PING carries exactly 8 bytes")
        self.state = self._transition(F.PING)
        self._queue_single(F.PING, 0, data)

    def send_goaway(self, code: str, message: str = "") -> None:
        """No new streams from now on; in-flight streams finish (graceful when code=shutdown)."""
        next_state = self._transition(F.GOAWAY)
        _check_local(_short(code) and isinstance(message, str), "GOAWAY fields")
        last = self._last_peer_stream if self.role is RESPONDER else 0
        self._queue_single(
            F.GOAWAY, 0, encode_json({"code": code, "last_stream_id": last, "message": message})
        )
        self.state = next_state

    def data_to_send(self, max_bytes: int | None = None) -> bytes:
        """Bytes to write to the peer. Frames of large messages are interleaved round-robin.

        `max_bytes` is a soft cap that lets a writer drain between calls, so that a small
        answer queued meanwhile is not stuck behind a large one; single-frame messages and
        control frames are never held back.
        """
        return self._out.take(max_bytes)

    # -- introspection -----------------------------------------------------------------------

    @property
    def open_streams(self) -> int:
        """Requests sent and not yet answered (requester) or received and unanswered (responder)."""
        return len(self._streams.open)

    @property
    def incomplete_messages(self) -> int:
        """Messages whose first frame has arrived and whose last has not. A responder that
        said GOAWAY still owes an answer to each such request (docs/protocol.md §9)."""
        return len(self._streams.partial)

    @property
    def last_peer_stream(self) -> int:
        return self._last_peer_stream

    @property
    def has_pending_output(self) -> bool:
        return bool(self._out)


def _error_body(code: str, message: str, *, retryable: bool) -> dict[str, Any]:
    return {"code": code, "message": message, "retryable": retryable}


def _error_payload(code: str, message: str, *, retryable: bool) -> bytes:
    return encode_json(_error_body(code, message, retryable=retryable))


def _short(value: object) -> bool:
    return isinstance(value, str) and len(value) <= payloads.MAX_SHORT_STRING


def _check_local(ok: bool, what: str) -> None:
    """Refuse here what the peer would refuse there, so a bug in this program fails its own
    call instead of closing the connection at the far end."""
    if not ok:
        raise LocalProtocolError(ErrorCode.INTERNAL, f"invalid {what}")
