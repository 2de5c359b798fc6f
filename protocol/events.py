"""Events that Connection.receive_data reports: one per complete, valid message received."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol.frames import Limits


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of every event."""


@dataclass(frozen=True, slots=True)
class HelloReceived(Event):
    versions: tuple[int, ...]
    tenant: str
    requester_id: str


@dataclass(frozen=True, slots=True)
class WelcomeReceived(Event):
    version: int
    agent_version: str
    practice: dict[str, Any]
    limits: Limits


@dataclass(frozen=True, slots=True)
class RequestReceived(Event):
    stream_id: int
    method: str
    params: dict[str, Any]
    session: str | None
    idempotency_key: str | None
    deadline_ms: int | None
    client: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ResponseReceived(Event):
    stream_id: int
    result: Any


@dataclass(frozen=True, slots=True)
class ErrorReceived(Event):
    stream_id: int
    code: str
    message: str
    retryable: bool
    details: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CancelReceived(Event):
    stream_id: int


@dataclass(frozen=True, slots=True)
class PingReceived(Event):
    """The connection has already queued the PONG."""

    data: bytes


@dataclass(frozen=True, slots=True)
class PongReceived(Event):
    data: bytes


@dataclass(frozen=True, slots=True)
class GoAwayReceived(Event):
    code: str
    last_stream_id: int
    message: str
