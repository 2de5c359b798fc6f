"""The link protocol: a sans-IO core plus asyncio and TLS adapters.

Imports nothing from agent or proxy, and nothing from its own :mod:`protocol.service` (what the
daemons need to run as services). The names below are the link's public API:

- the sans-IO core, imported here: errors (:mod:`.errors`), frames (:mod:`.frames`), events
  (:mod:`.events`), the state table (:mod:`.state`) and :class:`Connection`;
- the I/O adapters, loaded on first use (:func:`__getattr__`): TLS (:mod:`.tls`), the asyncio
  transport (:mod:`.transport`) and endpoints (:mod:`.aio`). Lazily, so that code needing only
  an error class (``from protocol.errors import LinkError``) pulls in neither asyncio, ssl nor
  cryptography by importing this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from protocol.connection import Connection
from protocol.errors import (
    RETRYABLE_CODES,
    ErrorCode,
    LinkError,
    LinkRefused,
    LocalProtocolError,
    ProtocolError,
    RemoteError,
    RemoteProtocolError,
)
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
from protocol.frames import DEFAULT_LIMITS, VERSION, Frame, FrameType, Limits
from protocol.payloads import InvalidPayload
from protocol.state import TRANSITIONS, ConnectionState, Direction, Role

if TYPE_CHECKING:
    from protocol.aio import Handler, HelloCheck, LinkClient, LinkServer, Request
    from protocol.tls import TLSConfig, TLSRefused, client_config, server_config
    from protocol.transport import DEFAULT_TIMEOUTS, Timeouts

# name -> the adapter module that defines it
_ADAPTERS = {
    "Handler": "protocol.aio",
    "HelloCheck": "protocol.aio",
    "LinkClient": "protocol.aio",
    "LinkServer": "protocol.aio",
    "Request": "protocol.aio",
    "TLSConfig": "protocol.tls",
    "TLSRefused": "protocol.tls",
    "client_config": "protocol.tls",
    "server_config": "protocol.tls",
    "DEFAULT_TIMEOUTS": "protocol.transport",
    "Timeouts": "protocol.transport",
}

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUTS",
    "RETRYABLE_CODES",
    "TRANSITIONS",
    "VERSION",
    "CancelReceived",
    "Connection",
    "ConnectionState",
    "Direction",
    "ErrorCode",
    "ErrorReceived",
    "Event",
    "Frame",
    "FrameType",
    "GoAwayReceived",
    "Handler",
    "HelloCheck",
    "HelloReceived",
    "InvalidPayload",
    "Limits",
    "LinkClient",
    "LinkError",
    "LinkRefused",
    "LinkServer",
    "LocalProtocolError",
    "PingReceived",
    "PongReceived",
    "ProtocolError",
    "RemoteError",
    "RemoteProtocolError",
    "Request",
    "RequestReceived",
    "ResponseReceived",
    "Role",
    "TLSConfig",
    "TLSRefused",
    "Timeouts",
    "WelcomeReceived",
    "client_config",
    "server_config",
]


def __getattr__(name: str) -> Any:
    """The I/O adapters' names, imported when first asked for (PEP 562)."""
    module = _ADAPTERS.get(name)
    if module is None:
        raise AttributeError(f"module 'protocol' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
