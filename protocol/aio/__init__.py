"""asyncio link endpoints: :class:`LinkServer` (the agent's side, :mod:`.server`) and
:class:`LinkClient` (the proxy's side, :mod:`.client`), over the sans-IO core.

The exceptions are defined in :mod:`protocol.errors` (domain code can raise and catch them
without importing asyncio) and named here as well, because they are what a handler raises and
what a request raises: part of this API.
"""

from protocol.aio.acceptor import LinkAcceptor
from protocol.aio.client import LinkClient
from protocol.aio.dialled import DialledLink
from protocol.aio.server import Handler, HelloCheck, LinkServer, Request
from protocol.errors import LinkError, LinkRefused, RemoteError

__all__ = [
    "DialledLink",
    "Handler",
    "HelloCheck",
    "LinkAcceptor",
    "LinkClient",
    "LinkError",
    "LinkRefused",
    "LinkServer",
    "RemoteError",
    "Request",
]
