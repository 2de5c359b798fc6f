"""Which request streams a connection is tracking, the reassembly of split messages, and the
queue of frames waiting to go out.

Part of the sans-IO core (:mod:`protocol.connection` owns one table per connection). Every set
here is bounded by the connection's limits, so a peer cannot make it grow without end.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.frames import FLAG_MORE, Frame, FrameType, Limits

__all__ = ["OutgoingFrames", "StreamTable"]


@dataclass(slots=True)
class _Reassembly:
    type: FrameType
    chunks: list[bytes]
    size: int


@dataclass(slots=True)
class StreamTable:
    """The streams of one connection: ``open`` requests awaiting their answer, ``partial``
    messages being received, and ``discarding`` streams (refused or cancelled) whose remaining
    frames are dropped."""

    limits: Limits
    open: set[int] = field(default_factory=set)
    partial: dict[int, _Reassembly] = field(default_factory=dict)
    discarding: set[int] = field(default_factory=set)

    def reassemble(self, frame: Frame) -> bytes | None:
        """Collect a message's frames; returns the whole payload once its last frame is in."""
        partial = self.partial.get(frame.stream_id)
        if partial is None:
            if not frame.flags & FLAG_MORE:
                return frame.payload
            self.partial[frame.stream_id] = _Reassembly(
                frame.type, [frame.payload], len(frame.payload)
            )
            return None
        if partial.type is not frame.type:
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR,
                f"stream {frame.stream_id} switched from {partial.type.name} to "
                f"{frame.type.name} in the middle of a message",
            )
        partial.size += len(frame.payload)
        if partial.size > self.limits.max_message:
            raise RemoteProtocolError(
                ErrorCode.FRAME_TOO_LARGE,
                f"message exceeds the limit of {self.limits.max_message} bytes",
            )
        partial.chunks.append(frame.payload)
        if frame.flags & FLAG_MORE:
            return None
        del self.partial[frame.stream_id]
        return b"".join(partial.chunks)

    def discard(self, frame: Frame) -> bool:
        """Drop frames of a stream we refused or cancelled; True if the frame was dropped."""
        if frame.stream_id not in self.discarding:
            return False
        if not frame.flags & FLAG_MORE:
            self.discarding.discard(frame.stream_id)
        return True

    def start_discarding(self, stream_id: int) -> None:
        # Bounded, so a peer cannot make this set grow without limit; generous, because a
        # correct requester may have many refused split requests still arriving.
        if len(self.discarding) >= 64 * self.limits.max_streams:
            raise RemoteProtocolError(
                ErrorCode.PROTOCOL_ERROR, "too many unfinished messages on refused streams"
            )
        self.discarding.add(stream_id)


class OutgoingFrames:
    """Encoded frames waiting to be written. Single frames go out in the order they were
    queued; the further frames of large messages are interleaved round-robin, so one large
    answer cannot hold back a small one queued after it."""

    __slots__ = ("_out", "_queued")

    def __init__(self) -> None:
        self._out = bytearray()
        self._queued: dict[int, deque[bytes]] = {}  # multi-frame messages, sent round-robin

    def __bool__(self) -> bool:
        return bool(self._out or self._queued)

    def add(self, frame: bytes) -> None:
        self._out += frame

    def add_message(self, stream_id: int, frames: list[bytes]) -> None:
        # The first frame goes out in call order, so streams open in increasing id order
        # even when a small request is queued behind a large one; the rest interleave.
        self._out += frames[0]
        if len(frames) > 1:
            self._queued[stream_id] = deque(frames[1:])

    def drop_message(self, stream_id: int) -> None:
        """Forget the frames of `stream_id`'s message not yet handed out."""
        self._queued.pop(stream_id, None)

    def drop_messages(self) -> None:
        self._queued.clear()

    def take(self, max_bytes: int | None = None) -> bytes:
        """See :meth:`protocol.connection.Connection.data_to_send`."""
        out = self._out
        queued = self._queued
        while queued and (max_bytes is None or len(out) < max_bytes):
            stream_id = next(iter(queued))
            pending = queued.pop(stream_id)
            out += pending.popleft()
            if pending:
                queued[stream_id] = pending  # to the back of the line
        data = bytes(out)
        out.clear()
        return data
