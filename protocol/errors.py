"""Error codes of the link and its exceptions: those of the protocol core, and those the asyncio
endpoints raise (:class:`LinkError` in a handler, :class:`RemoteError` from a request), defined
here so that domain code can raise and catch them without importing asyncio.

Codes are stable strings: they travel in ERROR and GOAWAY payloads and programs on both sides
branch on them, so a code is never renamed, only added (docs/protocol.md lists them all).
"""

from __future__ import annotations

import traceback
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # Application errors, sent in ERROR frames on a request stream.
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INVALID_PARAMS = "invalid_params"
    SLOT_UNAVAILABLE = "slot_unavailable"
    OUTSIDE_BOOKING_WINDOW = "outside_booking_window"
    CANCEL_WINDOW_CLOSED = "cancel_window_closed"
    BOOKING_DISABLED = "booking_disabled"
    LIMIT_REACHED = "limit_reached"
    OVERLAPS_OWN_APPOINTMENT = "overlaps_own_appointment"
    RATE_LIMITED = "rate_limited"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    INTERNAL = "internal"
    # Connection-level codes, sent in GOAWAY frames.
    SHUTDOWN = "shutdown"
    PROTOCOL_ERROR = "protocol_error"
    FRAME_TOO_LARGE = "frame_too_large"
    UNSUPPORTED_VERSION = "unsupported_version"
    TIMEOUT = "timeout"


# Codes whose request may succeed if simply sent again later (possibly on a new connection).
RETRYABLE_CODES: frozenset[str] = frozenset(
    {
        ErrorCode.BUSY,
        ErrorCode.UNAVAILABLE,
        ErrorCode.RATE_LIMITED,
        ErrorCode.SHUTDOWN,
    }
)


class ProtocolError(Exception):
    """The link cannot continue: a code from ErrorCode plus a message safe to log.

    Like h11, the subclass says whose fault it was: RemoteProtocolError means the peer sent
    something invalid, LocalProtocolError means this side used the API wrongly.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class RemoteProtocolError(ProtocolError):
    """The peer violated the protocol; a GOAWAY carrying `code` has been queued to send."""


class LocalProtocolError(ProtocolError):
    """This side asked the connection to do something the protocol does not allow."""


class LinkError(Exception):
    """An error answer on the link. Raise it in a handler to answer with `code`; the message
    is shown to patients, so it must be plain language and carry no internal detail."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = code in RETRYABLE_CODES if retryable is None else retryable
        self.details = details


class RemoteError(LinkError):
    """What LinkClient.request raises when the answer is an error (or never comes)."""


class LinkRefused(ConnectionError):
    """LinkClient.connect could not establish the link (TLS refused, GOAWAY, timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def where_it_failed(exc: BaseException) -> dict[str, object]:
    """An exception as log fields without its message: the type and the frames (file, line,
    function). Messages can quote data — a database error repeats the duplicate email it
    refused — so they never reach a log line."""
    frames = [
        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    ]
    return {"error_type": type(exc).__name__, "frames": frames[-12:]}
