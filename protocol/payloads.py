"""JSON payloads of each message type: build them for sending, validate them on receipt.

A received payload that is not what docs/protocol.md says raises RemoteProtocolError; unknown
extra keys are ignored so that a later minor revision can add fields.
"""

from __future__ import annotations

from typing import Any

from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.events import (
    ErrorReceived,
    GoAwayReceived,
    HelloReceived,
    RequestReceived,
    ResponseReceived,
    WelcomeReceived,
)
from protocol.frames import Limits, decode_json_object

MAX_SHORT_STRING = 256  # method names, codes, ids, tenant names, idempotency keys


class InvalidPayload(RemoteProtocolError):
    """Valid JSON of the wrong shape. In a REQUEST this fails only that request (answered
    `invalid_params`); in any other message it is a protocol error like the rest."""


def _bad(what: str) -> InvalidPayload:
    return InvalidPayload(ErrorCode.PROTOCOL_ERROR, what)


def _string(obj: dict[str, Any], key: str, *, limit: int | None = MAX_SHORT_STRING) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        bound = f" of at most {limit} characters" if limit else ""
        raise _bad(f"'{key}' must be a string{bound}")
    return value


def _optional_string(obj: dict[str, Any], key: str) -> str | None:
    if obj.get(key) is None:
        return None
    return _string(obj, key)


def _integer(obj: dict[str, Any], key: str, low: int, high: int) -> int:
    value = obj.get(key)
    # bool is an int in Python but not in JSON's eyes: refuse it.
    if type(value) is not int or not low <= value <= high:
        raise _bad(f"'{key}' must be an integer in [{low}, {high}]")
    return value


def _optional_object(obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(f"'{key}' must be an object or null")
    return value


def _object(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise _bad(f"'{key}' must be an object")
    return value


def parse_hello(payload: bytes) -> HelloReceived:
    obj = decode_json_object(payload)
    versions = obj.get("versions")
    if (
        not isinstance(versions, list)
        or not 1 <= len(versions) <= 16
        or any(type(v) is not int for v in versions)
    ):
        raise _bad("'versions' must be a list of 1 to 16 integers")
    return HelloReceived(
        versions=tuple(versions),
        tenant=_string(obj, "tenant"),
        requester_id=_string(obj, "requester_id"),
    )


def parse_limits(obj: dict[str, Any]) -> Limits:
    limits = _object(obj, "limits")
    max_frame = _integer(limits, "max_frame", 1024, 2**24)
    return Limits(
        max_frame=max_frame,
        max_message=_integer(limits, "max_message", max_frame, 2**30),
        max_streams=_integer(limits, "max_streams", 1, 2**16),
    )


def parse_welcome(payload: bytes) -> WelcomeReceived:
    obj = decode_json_object(payload)
    return WelcomeReceived(
        version=_integer(obj, "version", 0, 255),
        agent_version=_string(obj, "agent_version"),
        practice=_object(obj, "practice"),
        limits=parse_limits(obj),
    )


def parse_request(stream_id: int, payload: bytes) -> RequestReceived:
    obj = decode_json_object(payload)
    deadline_ms = None
    if obj.get("deadline_ms") is not None:
        deadline_ms = _integer(obj, "deadline_ms", 0, 2**31 - 1)
    return RequestReceived(
        stream_id=stream_id,
        method=_string(obj, "method"),
        params=_object(obj, "params"),
        session=_optional_string(obj, "session"),
        idempotency_key=_optional_string(obj, "idempotency_key"),
        deadline_ms=deadline_ms,
        client=_optional_object(obj, "client"),
    )


def parse_response(stream_id: int, payload: bytes) -> ResponseReceived:
    obj = decode_json_object(payload, unique_keys=False)
    if "result" not in obj:
        raise _bad("RESPONSE needs a 'result'")
    return ResponseReceived(stream_id=stream_id, result=obj["result"])


def parse_error(stream_id: int, payload: bytes) -> ErrorReceived:
    obj = decode_json_object(payload, unique_keys=False)
    retryable = obj.get("retryable")
    if not isinstance(retryable, bool):
        raise _bad("'retryable' must be true or false")
    return ErrorReceived(
        stream_id=stream_id,
        code=_string(obj, "code"),
        message=_string(obj, "message", limit=None),
        retryable=retryable,
        details=_optional_object(obj, "details"),
    )


def parse_goaway(payload: bytes) -> GoAwayReceived:
    obj = decode_json_object(payload)
    return GoAwayReceived(
        code=_string(obj, "code"),
        last_stream_id=_integer(obj, "last_stream_id", 0, 2**32 - 1),
        message=_string(obj, "message", limit=None),
    )


def limits_object(limits: Limits) -> dict[str, int]:
    return {
        "max_frame": limits.max_frame,
        "max_message": limits.max_message,
        "max_streams": limits.max_streams,
    }
