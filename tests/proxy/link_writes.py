"""What the proxy's link to an office writes, as a patient waits for a page.

A page's link round trips are the writes of its requests: requests written together travel
together and are answered within one round trip, while a request written after an earlier
one's answer arrived waits a whole round trip more. Counted where it happens, at the link
connection's socket (its transport's `write`), each write noted with the methods of the
requests queued since the one before: no clock and no relay timing, so the same page always
counts the same. Reaches into the link's connection, which has no public hook for this.
"""

from __future__ import annotations

from typing import Any

from proxy.agents import AgentConnections


class LinkWrites:
    """From now on, the methods of the requests each write of `tenant`'s link carried."""

    def __init__(self, agents: AgentConnections, tenant: str) -> None:
        client = agents._links[tenant].client
        assert client is not None and client.is_usable, "open the link first (sign in)"
        connection = client._connection
        self.batches: list[list[str]] = []
        self._queued: list[str] = []
        send_request = connection.conn.send_request
        transport = connection.transport
        assert transport is not None
        write = transport.write

        def sending(method: str, params: Any, **kwargs: Any) -> int:
            self._queued.append(method)
            return send_request(method, params, **kwargs)

        def writing(data: Any) -> None:
            if self._queued:
                self.batches.append(self._queued)
                self._queued = []
            write(data)

        connection.conn.send_request = sending  # type: ignore[method-assign]
        transport.write = writing  # type: ignore[method-assign]

    def clear(self) -> None:
        self.batches = []
        self._queued = []
