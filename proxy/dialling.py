"""Dialling one office's agent: resolve its host name afresh, try each address, and say in
words why an attempt failed (for the logs, `portico-proxy check` and the metrics).

Split from proxy/agents.py, which keeps the links once they are up.
"""

from __future__ import annotations

from protocol.aio import LinkClient, LinkRefused
from protocol.reconnect import Resolver, backoff_delay, resolve_host
from protocol.tls import TLSConfig
from protocol.transport import DEFAULT_TIMEOUTS, Timeouts
from proxy.config import TenantConfig

__all__ = ["ConnectFailed", "Resolver", "backoff_delay", "connect_agent", "resolve_host"]


class ConnectFailed(Exception):
    """One connection attempt to an agent failed.

    ``kind`` is one of ``dns``, ``refused`` (nothing listening / port closed), ``network``
    (another socket error), ``timeout``, ``pin`` (the agent's key is not pinned here),
    ``tls`` (the agent refused this proxy, or TLS broke), ``agent`` (the agent refused the
    HELLO, e.g. it serves another practice) and ``internal`` (a bug here); ``reason`` says it
    for a person and never holds patient data."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _classify(exc: LinkRefused) -> ConnectFailed:
    reason = exc.reason
    cause = exc.__cause__
    if isinstance(cause, ConnectionRefusedError):
        return ConnectFailed("refused", "connection refused (nothing listening on that port)")
    if isinstance(cause, OSError):
        return ConnectFailed("network", reason)
    if "timed out" in reason:
        return ConnectFailed("timeout", "timed out (no answer within the handshake timeout)")
    if "not pinned" in reason:
        start = reason.find("sha256/")
        presented = f" ({reason[start:].split(')')[0]})" if start >= 0 else ""
        return ConnectFailed("pin", f"refused pin: the agent's key{presented} is not pinned here")
    if "refused by the agent" in reason:
        return ConnectFailed("agent", reason)
    if "peer refused the handshake" in reason:
        return ConnectFailed(
            "tls", "the agent refused this proxy's key; is its pin in the agent's tls.proxy_pins?"
        )
    return ConnectFailed("tls", reason)


async def connect_agent(
    tenant: str,
    agent: TenantConfig,
    tls: TLSConfig,
    *,
    requester_id: str,
    resolve: Resolver = resolve_host,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
) -> tuple[LinkClient, str]:
    """Resolve the agent's host now and open a link to the first address that accepts it.

    Returns the client and the address used; raises :class:`ConnectFailed` (the last
    address's failure when none worked)."""
    host, port = agent.address  # ValueError for a dial_out office: it is never dialled
    try:
        addresses = await resolve(host, port)
    except OSError as exc:
        raise ConnectFailed("dns", f"DNS failure: {host}: {exc.strerror or exc}") from None
    if not addresses:
        raise ConnectFailed("dns", f"DNS failure: {host} has no address")
    failure = ConnectFailed("dns", "no address tried")
    for address in addresses:
        try:
            client = await LinkClient.connect(
                address,
                port,
                tls=tls,
                tenant=tenant,
                requester_id=requester_id,
                timeouts=timeouts,
            )
        except LinkRefused as exc:
            failure = _classify(exc)
            continue
        return client, address
    raise failure
