"""A link the agent dialled (dial-out mode): what its supervisor sees of it.

The connection itself is protocol/aio/server.py's, the same as on an accepted link (the agent
answers the portal either way); this is the handle :meth:`LinkServer.dial` returns.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from protocol.errors import ErrorCode
from protocol.tls import TLSEngine


class _Connection(Protocol):
    """What of protocol/aio/server.py's connection a DialledLink uses."""

    requester_id: str
    peer: str
    engine: TLSEngine
    closed: asyncio.Future[None]

    def send_goaway(self, code: str, message: str) -> None: ...

    def _close_when_drained(self) -> None: ...


__all__ = ["DialledLink"]


class DialledLink:
    """One link this agent dialled (dial-out mode): still the responder, answering the portal."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    @property
    def requester_id(self) -> str:
        """The proxy replica's id, from its HELLO: two links to one replica share it."""
        return self._connection.requester_id

    @property
    def peer(self) -> str:
        """``address:port`` of the portal end."""
        return self._connection.peer

    @property
    def peer_pin(self) -> str:
        return self._connection.engine.peer_pin or ""

    @property
    def closed(self) -> asyncio.Future[None]:
        """Done when the connection is gone, for whatever reason."""
        return self._connection.closed

    @property
    def is_open(self) -> bool:
        return not self._connection.closed.done()

    def close(self) -> None:
        """Say GOAWAY; close once the requests already received are answered."""
        connection = self._connection
        connection.send_goaway(ErrorCode.SHUTDOWN, "the agent is closing this link")
        connection._close_when_drained()
