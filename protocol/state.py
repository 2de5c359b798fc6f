"""The link's connection states and the table of which frame may be sent or received in which.

h11-style: the rules are data, ``TRANSITIONS[(role, state, direction, frame type)] -> next
state``, not nested ifs, so docs/protocol.md can print the table and the hypothesis test can walk
it. :class:`protocol.connection.Connection` consults it for every frame in and out.
"""

from __future__ import annotations

from enum import Enum

from protocol.frames import FrameType

__all__ = [
    "MESSAGE_TYPES",
    "STREAM_ZERO_TYPES",
    "TRANSITIONS",
    "ConnectionState",
    "Direction",
    "Role",
]


class Role(Enum):
    REQUESTER = "requester"  # the proxy: says HELLO, opens odd request streams
    RESPONDER = "responder"  # the agent: says WELCOME, answers requests


class ConnectionState(Enum):
    IDLE = "idle"  # nothing exchanged yet
    HANDSHAKING = "handshaking"  # HELLO sent/received, WELCOME pending
    OPEN = "open"
    CLOSING = "closing"  # a GOAWAY went one way or the other: no new streams
    CLOSED = "closed"  # refused or failed; nothing more is processed


class Direction(Enum):
    SEND = "send"
    RECV = "recv"


REQUESTER, RESPONDER = Role.REQUESTER, Role.RESPONDER
IDLE, HANDSHAKING, OPEN, CLOSING, CLOSED = (
    ConnectionState.IDLE,
    ConnectionState.HANDSHAKING,
    ConnectionState.OPEN,
    ConnectionState.CLOSING,
    ConnectionState.CLOSED,
)
SEND, RECV = Direction.SEND, Direction.RECV
F = FrameType

# (role, state, direction, frame type) -> next state. Anything absent is a protocol error:
# received, the peer's fault (RemoteProtocolError + GOAWAY); sent, ours (LocalProtocolError).
TRANSITIONS: dict[tuple[Role, ConnectionState, Direction, FrameType], ConnectionState] = {
    # The handshake. Nothing else is allowed before it completes.
    (REQUESTER, IDLE, SEND, F.HELLO): HANDSHAKING,
    (REQUESTER, HANDSHAKING, RECV, F.WELCOME): OPEN,
    (REQUESTER, HANDSHAKING, RECV, F.GOAWAY): CLOSED,
    (REQUESTER, HANDSHAKING, SEND, F.GOAWAY): CLOSED,
    (RESPONDER, IDLE, RECV, F.HELLO): HANDSHAKING,
    (RESPONDER, HANDSHAKING, SEND, F.WELCOME): OPEN,
    (RESPONDER, HANDSHAKING, SEND, F.GOAWAY): CLOSED,
    (RESPONDER, HANDSHAKING, RECV, F.GOAWAY): CLOSED,
    # New requests only while open. While closing, REQUEST frames are the rest of a split
    # request whose stream opened before the GOAWAY: it is still answered, so the requester
    # finishes sending it (send_request refuses a new stream). A new stream reaching the
    # responder after its GOAWAY is answered `shutdown` by the connection itself.
    (REQUESTER, OPEN, SEND, F.REQUEST): OPEN,
    (REQUESTER, CLOSING, SEND, F.REQUEST): CLOSING,
    (RESPONDER, OPEN, RECV, F.REQUEST): OPEN,
    (RESPONDER, CLOSING, RECV, F.REQUEST): CLOSING,
    # Going away: either side, once open; in-flight streams finish.
    (REQUESTER, OPEN, SEND, F.GOAWAY): CLOSING,
    (REQUESTER, OPEN, RECV, F.GOAWAY): CLOSING,
    (RESPONDER, OPEN, SEND, F.GOAWAY): CLOSING,
    (RESPONDER, OPEN, RECV, F.GOAWAY): CLOSING,
    (REQUESTER, CLOSING, SEND, F.GOAWAY): CLOSING,
    (REQUESTER, CLOSING, RECV, F.GOAWAY): CLOSING,
    (RESPONDER, CLOSING, SEND, F.GOAWAY): CLOSING,
    (RESPONDER, CLOSING, RECV, F.GOAWAY): CLOSING,
}
# Traffic on existing streams and liveness continue while open or closing.
for _state in (OPEN, CLOSING):
    for _role, _direction, _type in (
        (REQUESTER, SEND, F.CANCEL),
        (REQUESTER, RECV, F.RESPONSE),
        (REQUESTER, RECV, F.ERROR),
        (RESPONDER, RECV, F.CANCEL),
        (RESPONDER, SEND, F.RESPONSE),
        (RESPONDER, SEND, F.ERROR),
    ):
        TRANSITIONS[(_role, _state, _direction, _type)] = _state
    for _role in Role:
        for _direction in Direction:
            TRANSITIONS[(_role, _state, _direction, F.PING)] = _state
            TRANSITIONS[(_role, _state, _direction, F.PONG)] = _state

STREAM_ZERO_TYPES = frozenset({F.HELLO, F.WELCOME, F.PING, F.PONG, F.GOAWAY})
MESSAGE_TYPES = frozenset({F.REQUEST, F.RESPONSE, F.ERROR})  # the only ones that may use MORE
