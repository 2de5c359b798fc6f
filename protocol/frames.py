"""Frame codec of the link: pure functions and a bounded incremental decoder.

Wire format (docs/protocol.md): a 12-byte big-endian header
``version:u8 | type:u8 | flags:u16 | stream_id:u32 | length:u32`` followed by ``length`` bytes.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from protocol.errors import ErrorCode, RemoteProtocolError

VERSION = 1
HEADER = struct.Struct("!BBHII")
HEADER_SIZE = HEADER.size  # 12

FLAG_MORE = 0x1
KNOWN_FLAGS = FLAG_MORE
MAX_STREAM_ID = 2**32 - 1


class FrameType(IntEnum):
    HELLO = 1
    WELCOME = 2
    REQUEST = 3
    RESPONSE = 4
    ERROR = 5
    CANCEL = 6
    PING = 7
    PONG = 8
    GOAWAY = 9


_FRAME_TYPES = {int(t): t for t in FrameType}


@dataclass(frozen=True, slots=True)
class Limits:
    """What a receiver accepts. WELCOME announces the responder's; defaults are DESIGN.md's."""

    max_frame: int = 64 * 1024
    max_message: int = 8 * 1024 * 1024
    max_streams: int = 256


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Frame:
    type: FrameType
    flags: int
    stream_id: int
    payload: bytes


def encode_frame(frame_type: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return HEADER.pack(VERSION, frame_type, flags, stream_id, len(payload)) + payload


def encode_message(frame_type: int, stream_id: int, payload: bytes, max_frame: int) -> list[bytes]:
    """Split a message into frames of at most max_frame payload bytes; MORE on all but the last."""
    if len(payload) <= max_frame:
        return [HEADER.pack(VERSION, frame_type, 0, stream_id, len(payload)) + payload]
    view = memoryview(payload)
    frames = []
    last = len(payload) - max_frame
    for offset in range(0, len(payload), max_frame):
        chunk = view[offset : offset + max_frame]
        flags = FLAG_MORE if offset < last else 0
        frames.append(HEADER.pack(VERSION, frame_type, flags, stream_id, len(chunk)) + chunk)
    return frames


class FrameDecoder:
    """Turns a byte stream into frames, validating each header as soon as its 12 bytes arrive.

    The header is judged before any of its payload is buffered, so a length of 2**32-1 is refused
    without allocating it; the buffer never holds more than one header plus max_frame bytes
    beyond what the caller handed in.
    """

    __slots__ = ("_buffer", "max_frame")

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        buffer = self._buffer
        if buffer:
            buffer += data
            source: bytes | bytearray = buffer
        else:
            source = data  # the usual case: parse straight from the input, copy once
        frames: list[Frame] = []
        position = 0
        available = len(source)
        unpack = HEADER.unpack_from
        check = self._check_header
        while available - position >= HEADER_SIZE:
            version, type_code, flags, stream_id, length = unpack(source, position)
            frame_type = check(version, type_code, flags, length)
            start = position + HEADER_SIZE
            end = start + length
            if end > available:
                break
            frames.append(Frame(frame_type, flags, stream_id, bytes(source[start:end])))
            position = end
        if source is buffer:
            if position:
                del buffer[:position]
        elif position < available:
            buffer += data[position:]  # an incomplete frame waits for more bytes
        return frames

    def _check_header(self, version: int, type_code: int, flags: int, length: int) -> FrameType:
        if version != VERSION:
            raise RemoteProtocolError(
                ErrorCode.UNSUPPORTED_VERSION, f"frame version {version} is not supported"
            )
        frame_type = _FRAME_TYPES.get(type_code)
        if frame_type is None:
            raise RemoteProtocolError(ErrorCode.PROTOCOL_ERROR, f"unknown frame type {type_code}")
        if flags & ~KNOWN_FLAGS:
            raise RemoteProtocolError(ErrorCode.PROTOCOL_ERROR, f"unknown frame flags {flags:#x}")
        if length > self.max_frame:
            raise RemoteProtocolError(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame of {length} bytes exceeds the limit of {self.max_frame}",
            )
        return frame_type

    @property
    def buffered(self) -> int:
        return len(self._buffer)


# -- JSON payloads ---------------------------------------------------------------------------


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate keys are refused: two parsers could otherwise disagree on which value counts.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate key in JSON object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999: our own encoder could never send it on
        raise ValueError(f"{text} does not fit a float")
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates,
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
)
# Answers come from a pinned agent's own encoder, which cannot write duplicate keys; checking
# them costs ~40% of decoding a large answer, so only requests (which the agent must not
# trust blindly) pay for it.
_TRUSTING_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


# Objects and arrays nest at most this deep (docs/protocol.md §4). Without a limit the depth
# Python's parser gives up at depends on how deep its caller's stack already is; this one is
# well inside its default recursion limit (1000) and far above any real payload's nesting.
MAX_JSON_DEPTH = 512
# Strings (whose brackets do not count) and brackets, in one C-speed pass.
_JSON_NESTING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPENERS = frozenset(b"[{")


def _nested_too_deep(payload: bytes) -> bool:
    if payload.count(b"[") + payload.count(b"{") <= MAX_JSON_DEPTH:
        return False  # the usual case: too few brackets to be too deep
    depth = 0
    for match in _JSON_NESTING.finditer(payload):
        first = payload[match.start()]
        if first in _OPENERS:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif first != 0x22:  # a closing bracket (0x22 is the quote of a string)
            depth -= 1
    return False


def decode_json_object(payload: bytes, *, unique_keys: bool = True) -> dict[str, Any]:
    """Parse a payload that must be one JSON object (UTF-8, no NaN or infinity, no lone
    surrogates; no duplicate keys and no nesting beyond MAX_JSON_DEPTH unless unique_keys is
    False: answers from the pinned agent skip both checks)."""
    decoder = _DECODER if unique_keys else _TRUSTING_DECODER
    if unique_keys and _nested_too_deep(payload):
        raise RemoteProtocolError(
            ErrorCode.PROTOCOL_ERROR, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        )
    try:
        value = decoder.decode(payload.decode("utf-8"))
        if _SURROGATE_ESCAPE.search(payload):
            # An escaped lone surrogate decodes to a str that cannot be encoded again;
            # refuse it here rather than let it crash whoever handles the value later.
            _ENCODER.encode(value).encode("utf-8")
    except (ValueError, RecursionError) as exc:  # UnicodeError is a ValueError
        raise RemoteProtocolError(ErrorCode.PROTOCOL_ERROR, "payload is not valid JSON") from exc
    if not isinstance(value, dict):
        raise RemoteProtocolError(ErrorCode.PROTOCOL_ERROR, "payload is not a JSON object")
    return value


def encode_json(value: Any) -> bytes:
    """Encode a payload; raises TypeError/ValueError for values JSON cannot carry."""
    return _ENCODER.encode(value).encode("utf-8")
