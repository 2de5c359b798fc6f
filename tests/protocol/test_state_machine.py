"""Random conversations between two well-behaved Connections (hypothesis stateful testing).

Whatever the order of local calls and however the bytes are cut and delayed on the wire:
- a local call either works or raises LocalProtocolError, and exactly when TRANSITIONS says so;
- receive_data never raises (both peers follow the protocol), and each state change it makes
  is the one TRANSITIONS gives for the frames it processed;
- every event is one the other side caused, and every request gets at most one answer, which
  is the one the responder sent (or `busy`/`shutdown` from the responder's connection itself);
- open_streams matches the requests still waiting for an answer on each side;
- once everything is answered and the wire drained, every request has had exactly one answer.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from protocol.connection import Connection
from protocol.errors import LocalProtocolError
from protocol.events import (
    CancelReceived,
    ErrorReceived,
    Event,
    GoAwayReceived,
    HelloReceived,
    PingReceived,
    PongReceived,
    RequestReceived,
    ResponseReceived,
    WelcomeReceived,
)
from protocol.frames import MAX_STREAM_ID, FrameDecoder, FrameType, Limits
from protocol.state import TRANSITIONS, ConnectionState, Direction, Role

# Small limits so that split requests, `busy` and round-robin happen within a few steps. The
# responder always sends with the default 64 KiB frames (the requester announces no limits).
RESPONDER_LIMITS = Limits(max_frame=1024, max_message=16 * 1024, max_streams=3)
SIZES = {"small": 10, "split": 2500, "big": 70_000}  # "big" only for answers (64 KiB frames)
LIVE = (ConnectionState.OPEN, ConnectionState.CLOSING)
sides = st.sampled_from(["requester", "responder"])


class TwoPeersConversation(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.conn = {
            "requester": Connection(Role.REQUESTER),
            "responder": Connection(Role.RESPONDER, RESPONDER_LIMITS),
        }
        # Bytes written by a side and not yet delivered to the other, and a shadow decoder per
        # receiver that sees exactly the same bytes, to know which frames each call processed.
        self.wire = {"requester": bytearray(), "responder": bytearray()}
        self.shadow = {side: FrameDecoder(MAX_STREAM_ID) for side in self.conn}
        self.ping_counter = 0
        # The model.
        self.requested: dict[int, dict[str, Any]] = {}  # stream -> params
        self.cancelled: set[int] = set()  # cancelled by the requester while unanswered
        self.answers: dict[int, Event] = {}  # answer events at the requester
        self.received: set[int] = set()  # RequestReceived at the responder
        self.sent_answers: dict[int, tuple[str, Any]] = {}  # what the responder answered
        self.cancels_received: set[int] = set()
        self.pings: dict[str, set[bytes]] = {"requester": set(), "responder": set()}
        self.pongs: dict[str, set[bytes]] = {"requester": set(), "responder": set()}
        self.goaways_sent = {"requester": 0, "responder": 0}
        self.goaways_seen = {"requester": 0, "responder": 0}
        # The responder's last_peer_stream when it stopped taking new streams (GOAWAY either
        # way): streams above it are refused with `shutdown`, streams up to it are processed.
        self.closing_mark: int | None = None

    @property
    def requester(self) -> Connection:
        return self.conn["requester"]

    @property
    def responder(self) -> Connection:
        return self.conn["responder"]

    @initialize(handshake=st.booleans())
    def start(self, handshake: bool) -> None:
        """Half the conversations start already open, so the steps go to the streams."""
        if handshake:
            self.send_hello()
            self.flush("requester", None)
            self.deliver("requester", 1 << 20)
            self.send_welcome()
            self.flush("responder", None)
            self.deliver("responder", 1 << 20)
            assert self.requester.state is self.responder.state is ConnectionState.OPEN

    # -- local calls -----------------------------------------------------------------------

    def local(self, side: str, frame_type: FrameType, call: Any, allowed: bool = True) -> Any:
        """Run a send_* call; it must fail exactly when TRANSITIONS (or `allowed`) says so."""
        conn = self.conn[side]
        before = conn.state
        expected = TRANSITIONS.get((conn.role, before, Direction.SEND, frame_type))
        try:
            result = call()
        except LocalProtocolError:
            assert expected is None or not allowed, f"{frame_type.name} refused in {before}"
            assert conn.state is before
            return LocalProtocolError
        assert expected is not None and allowed, f"{frame_type.name} allowed in {before}"
        assert conn.state is expected
        self.note_closing()
        return result

    def note_closing(self) -> None:
        if self.closing_mark is None and self.responder.state is ConnectionState.CLOSING:
            self.closing_mark = self.responder.last_peer_stream

    @rule()
    def send_hello(self) -> None:
        self.local("requester", FrameType.HELLO, lambda: self.requester.send_hello("t", "p"))

    @rule()
    def send_welcome(self) -> None:
        self.local("responder", FrameType.WELCOME, lambda: self.responder.send_welcome("1", {}))

    @rule(size=st.sampled_from(["small", "split"]), n=st.integers(0, 9))
    def send_request(self, size: str, n: int) -> None:
        params = {"n": n, "pad": "p" * SIZES[size]}
        # While closing, REQUEST frames may only finish a stream opened before: no new one.
        stream_id = self.local(
            "requester",
            FrameType.REQUEST,
            lambda: self.requester.send_request("m", params),
            allowed=self.requester.state is not ConnectionState.CLOSING,
        )
        if stream_id is not LocalProtocolError:
            assert stream_id not in self.requested and stream_id % 2 == 1
            assert all(stream_id > s for s in self.requested)
            self.requested[stream_id] = params

    def pick_stream(self, data: st.DataObject, candidates: set[int]) -> int:
        if candidates and data.draw(st.booleans()):
            return data.draw(st.sampled_from(sorted(candidates)))
        return data.draw(st.integers(-1, 2 * len(self.requested) + 3))

    def answerable(self) -> set[int]:
        return self.received - set(self.sent_answers) - self.cancels_received

    def answer(self, data: st.DataObject, frame_type: FrameType, answer: tuple[str, Any]) -> None:
        stream_id = self.pick_stream(data, self.answerable())
        open_now = stream_id in self.answerable()
        seen = 0 < stream_id <= self.responder.last_peer_stream
        if answer[0] == "response":
            call = lambda: self.responder.send_response(stream_id, answer[1])  # noqa: E731
        else:
            call = lambda: self.responder.send_error(stream_id, answer[1], "m")  # noqa: E731
        result = self.local("responder", frame_type, call, allowed=open_now or seen)
        if result is LocalProtocolError:
            return
        assert result is open_now, f"answering stream {stream_id} returned {result}"
        if result:
            self.sent_answers[stream_id] = answer

    @rule(data=st.data(), size=st.sampled_from(sorted(SIZES)))
    def send_response(self, data: st.DataObject, size: str) -> None:
        self.answer(data, FrameType.RESPONSE, ("response", "r" * SIZES[size]))

    @rule(data=st.data(), code=st.sampled_from(["not_found", "unavailable", "busy"]))
    def send_error(self, data: st.DataObject, code: str) -> None:
        self.answer(data, FrameType.ERROR, ("error", code))

    @rule(data=st.data())
    def send_cancel(self, data: st.DataObject) -> None:
        waiting = set(self.requested) - self.cancelled - set(self.answers)
        stream_id = self.pick_stream(data, waiting)
        result = self.local(
            "requester", FrameType.CANCEL, lambda: self.requester.send_cancel(stream_id)
        )
        if result is not LocalProtocolError and stream_id in waiting:
            self.cancelled.add(stream_id)

    @rule(side=sides)
    def send_ping(self, side: str) -> None:
        self.ping_counter += 1
        payload = self.ping_counter.to_bytes(8, "big")
        result = self.local(side, FrameType.PING, lambda: self.conn[side].send_ping(payload))
        if result is not LocalProtocolError:
            self.pings[side].add(payload)

    @rule(side=sides, code=st.sampled_from(["shutdown", "timeout"]))
    def send_goaway(self, side: str, code: str) -> None:
        result = self.local(side, FrameType.GOAWAY, lambda: self.conn[side].send_goaway(code))
        if result is not LocalProtocolError:
            self.goaways_sent[side] += 1

    # -- the wire ----------------------------------------------------------------------------

    @rule(side=sides, max_bytes=st.sampled_from([None, 1, 1500, 70_000]))
    def flush(self, side: str, max_bytes: int | None) -> None:
        conn = self.conn[side]
        data = conn.data_to_send(max_bytes)
        # Stream frames still written after a GOAWAY (the rest of a split request or answer)
        # must be ones TRANSITIONS allows while closing.
        if conn.state is ConnectionState.CLOSING:
            for f in FrameDecoder(MAX_STREAM_ID).feed(data):
                allowed = (conn.role, conn.state, Direction.SEND, f.type) in TRANSITIONS
                assert allowed or f.stream_id == 0, f"{side} wrote {f.type.name} while closing"
        self.wire[side] += data

    @rule(side=sides, size=st.integers(1, 200_000))
    def deliver(self, side: str, size: int) -> None:
        """Hand up to `size` bytes written by `side` to the other side."""
        wire = self.wire[side]
        chunk = bytes(wire[:size])
        del wire[:size]
        self.receive(side, chunk)

    def receive(self, sender: str, chunk: bytes) -> None:
        receiver = "responder" if sender == "requester" else "requester"
        conn = self.conn[receiver]
        state = conn.state
        frames = self.shadow[receiver].feed(chunk)
        events = conn.receive_data(chunk)  # must not raise: both sides follow the protocol
        for f in frames:
            if state is ConnectionState.CLOSED:
                break
            next_state = TRANSITIONS.get((conn.role, state, Direction.RECV, f.type))
            assert next_state is not None, f"{f.type.name} reached the {receiver} in {state}"
            state = next_state
        assert conn.state is state
        self.note_closing()
        for event in events:
            self.check(receiver, event)

    def check(self, receiver: str, event: Event) -> None:
        other = "responder" if receiver == "requester" else "requester"
        if isinstance(event, PingReceived):
            assert event.data in self.pings[other]
        elif isinstance(event, PongReceived):
            assert event.data in self.pings[receiver] and event.data not in self.pongs[receiver]
            self.pongs[receiver].add(event.data)
        elif isinstance(event, GoAwayReceived):
            self.goaways_seen[receiver] += 1
            assert self.goaways_seen[receiver] <= self.goaways_sent[other]
        elif receiver == "responder":
            if isinstance(event, RequestReceived):
                assert event.params == self.requested.get(event.stream_id)
                assert event.stream_id not in self.received
                mark = self.closing_mark
                assert mark is None or event.stream_id <= mark, "a new stream after GOAWAY"
                self.received.add(event.stream_id)
            elif isinstance(event, CancelReceived):
                assert event.stream_id in self.cancelled
                assert event.stream_id in self.answerable()
                self.cancels_received.add(event.stream_id)
            else:
                assert isinstance(event, HelloReceived), event
        elif isinstance(event, (ResponseReceived, ErrorReceived)):
            stream_id = event.stream_id
            assert stream_id in self.requested and stream_id not in self.cancelled
            assert stream_id not in self.answers, f"a second answer on stream {stream_id}"
            self.answers[stream_id] = event
            if isinstance(event, ResponseReceived):
                assert self.sent_answers.get(stream_id) == ("response", event.result)
            elif stream_id in self.sent_answers:
                assert self.sent_answers[stream_id] == ("error", event.code)
            else:  # refused by the responder's connection itself
                assert stream_id not in self.received
                assert event.retryable is True
                mark = self.closing_mark
                if event.code == "shutdown":
                    # Only the responder's own GOAWAY refuses streams; a request the requester
                    # made before saying GOAWAY itself is still in flight and must be served.
                    assert self.goaways_sent["responder"] > 0
                    assert mark is not None and stream_id > mark
                else:
                    assert event.code == "busy"
                    assert mark is None or stream_id <= mark
        else:
            assert isinstance(event, WelcomeReceived), event

    # -- the end of the conversation -----------------------------------------------------------

    @precondition(lambda self: self.requester.state in LIVE and self.responder.state in LIVE)
    @rule()
    def answer_everything_and_drain(self) -> None:
        for _ in range(1000):
            self.drain()
            if not self.answerable():
                break
            for stream_id in sorted(self.answerable()):
                assert self.responder.send_response(stream_id, "done") is True
                self.sent_answers[stream_id] = ("response", "done")
        waiting = set(self.requested) - self.cancelled - set(self.answers)
        assert not waiting, f"requests never answered: {sorted(waiting)}"
        assert self.requester.open_streams == 0
        assert self.responder.open_streams == 0
        for side in self.conn:
            assert self.pongs[side] == self.pings[side], "a PING was never answered"

    def drain(self) -> None:
        while any(self.wire.values()) or any(c.has_pending_output for c in self.conn.values()):
            for side in self.conn:
                self.flush(side, None)
                self.deliver(side, len(self.wire[side]))

    @invariant()
    def open_streams_match_the_model(self) -> None:
        assert self.requester.open_streams >= 0 and self.responder.open_streams >= 0
        waiting = set(self.requested) - self.cancelled - set(self.answers)
        assert self.requester.open_streams == len(waiting)
        assert self.responder.open_streams == len(self.answerable())


TwoPeersConversation.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_two_peers_conversation = TwoPeersConversation.TestCase
