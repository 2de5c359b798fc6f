"""The links from this proxy replica to the offices' agents: one per tenant, shared, kept alive.

Each tenant gets one multiplexed :class:`LinkClient`, opened on first use and shared by every
concurrent request for that office. When it drops, the requests in flight fail at once with
:class:`AgentUnavailable` (the page tells the patient to call the office) and a new link is
dialled in the background with full-jitter exponential backoff. While that backoff runs, requests
fail immediately rather than queueing: a patient should see "call us" in a second, not a spinner.

Every connection attempt resolves the agent's host name again. Offices without a static IP use
dynamic DNS (seed 001): when their ISP hands out a new address, the name changes and the next
attempt must follow it, so the address is never cached here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from protocol.aio import LinkClient, LinkRefused, RemoteError
from protocol.errors import ErrorCode
from protocol.logconfig import where_it_failed
from protocol.tls import TLSConfig, client_config
from protocol.transport import DEFAULT_TIMEOUTS, Timeouts
from proxy.config import ProxyConfig, TenantConfig

log = structlog.get_logger("portico.proxy.agents")

Resolver = Callable[[str, int], Awaitable[list[str]]]

BACKOFF_BASE = 0.2
# How long a request waits for a link being dialled before the page says "call us" instead.
CONNECT_WAIT = 1.0
# What LinkClient raises for requests cut off by the link itself (not answered by the agent).
_LINK_LOST_CODES = frozenset({ErrorCode.UNAVAILABLE, ErrorCode.SHUTDOWN})


class AgentUnavailable(Exception):
    """There is no working link to the tenant's agent right now; ``reason`` is for logs."""

    def __init__(self, tenant: str, reason: str) -> None:
        super().__init__(f"agent for {tenant!r} unavailable: {reason}")
        self.tenant = tenant
        self.reason = reason


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


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses of ``host``, freshly looked up, in the resolver's order (duplicates out)."""
    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host))]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def backoff_delay(failures: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row: "full jitter", uniform
    between 0 and ``min(cap, base * 2 ** (failures - 1))``, so that many replicas reconnecting
    to one office after an outage spread out instead of arriving together."""
    ceiling = min(cap, base * 2.0 ** min(max(failures - 1, 0), 62))
    return rng.uniform(0.0, ceiling)


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
    try:
        addresses = await resolve(agent.host, agent.port)
    except OSError as exc:
        raise ConnectFailed("dns", f"DNS failure: {agent.host}: {exc.strerror or exc}") from None
    if not addresses:
        raise ConnectFailed("dns", f"DNS failure: {agent.host} has no address")
    failure = ConnectFailed("dns", "no address tried")
    for address in addresses:
        try:
            client = await LinkClient.connect(
                address,
                agent.port,
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


@dataclass(eq=False)
class _TenantLink:
    """One tenant's link and the dialling around it."""

    name: str
    agent: TenantConfig
    tls: TLSConfig
    client: LinkClient | None = None
    attempt: asyncio.Future[LinkClient] | None = None  # set while an attempt is under way
    dialer: asyncio.Task[None] | None = None  # attempts, backing off between them
    failures: int = 0
    practice: dict[str, Any] | None = None


class AgentConnections:
    """One lazily opened, shared link per tenant, for the life of the proxy process."""

    def __init__(
        self,
        config: ProxyConfig,
        *,
        requester_id: str,
        resolve: Resolver | None = None,
        timeouts: Timeouts | None = None,
        backoff_cap: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        """``resolve`` looks an agent's host up (default: the system resolver, every time);
        ``rng`` draws the backoff jitter. Raises OSError/ValueError if the proxy's link key
        cannot be loaded, so a replica with a broken identity does not start."""
        self._requester_id = requester_id
        self._resolve = resolve or resolve_host
        self._timeouts = timeouts or DEFAULT_TIMEOUTS
        self._backoff_cap = backoff_cap
        self._rng = rng or random.Random()
        self._closed = False
        self._background: set[asyncio.Task[None]] = set()
        link = config.link
        self._links = {
            name: _TenantLink(name, agent, client_config(link.key_file, link.cert_file, agent.pins))
            for name, agent in config.tenants.items()
        }

    async def request(
        self,
        tenant: str,
        method: str,
        params: dict[str, Any],
        *,
        session: str | None = None,
        idempotency_key: str | None = None,
        client: dict[str, Any] | None = None,
        deadline: float = 10.0,
    ) -> Any:
        """Send one request to the tenant's agent and return its result.

        Raises :class:`RemoteError` for the agent's own error answers (including
        ``unavailable`` when its database is down), :class:`AgentUnavailable` when there is no
        link (never waiting more than about a second for one), and LookupError for a tenant that
        is not configured."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        link = self._links.get(tenant.lower())
        if link is None:
            raise LookupError(f"no tenant {tenant!r} in the proxy's config")
        agent = await self._usable_client(link)
        remaining = max(0.001, deadline - (loop.time() - started))
        try:
            return await agent.request(
                method,
                params,
                session=session,
                idempotency_key=idempotency_key,
                deadline=remaining,
                client=client,
            )
        except RemoteError as exc:
            if exc.code in _LINK_LOST_CODES and not agent.is_usable:
                # Cut off by the link going away, not answered by the agent: the next request
                # dials again.
                raise AgentUnavailable(link.name, f"link lost ({exc.code})") from None
            raise

    def practice(self, tenant: str) -> dict[str, Any] | None:
        """The practice {name, phone, timezone} from the tenant's last WELCOME, else None."""
        link = self._links.get(tenant.lower())
        return None if link is None or link.practice is None else dict(link.practice)

    async def close(self) -> None:
        """Stop dialling and close every link (GOAWAY first, so agents log a clean close)."""
        self._closed = True
        for link in self._links.values():
            if link.dialer is not None:
                link.dialer.cancel()
        tasks = [link.dialer for link in self._links.values() if link.dialer is not None]
        tasks += self._background
        await asyncio.gather(*tasks, return_exceptions=True)
        clients = [link.client for link in self._links.values() if link.client is not None]
        for link in self._links.values():
            link.client = None
        await asyncio.gather(*(_close_quietly(c) for c in clients))
        log.info("agents.closed", links=len(clients))

    # -- the link's life -------------------------------------------------------------------------

    async def _usable_client(self, link: _TenantLink) -> LinkClient:
        # No await until the attempt is started or found: concurrent first callers share one.
        if self._closed:
            raise AgentUnavailable(link.name, "the proxy is shutting down")
        client = link.client
        if client is not None and client.is_usable:
            return client
        if client is not None:
            link.client = None
            log.info("agent.link_lost", tenant=link.name)
            self._spawn(_close_quietly(client))
        if link.dialer is None or link.dialer.done():
            link.attempt = _new_attempt()
            link.dialer = asyncio.get_running_loop().create_task(self._dial(link))
        attempt = link.attempt
        if attempt is None:
            raise AgentUnavailable(link.name, "reconnecting after a failure (backing off)")
        try:
            async with asyncio.timeout(CONNECT_WAIT):
                return await asyncio.shield(attempt)
        except TimeoutError:
            raise AgentUnavailable(link.name, "still connecting") from None

    async def _dial(self, link: _TenantLink) -> None:
        """Attempt until a link is up, backing off between failures; runs in the background so
        that a patient never waits for a retry."""
        assert link.attempt is not None
        attempt = link.attempt
        while True:
            try:
                client, address = await connect_agent(
                    link.name,
                    link.agent,
                    link.tls,
                    requester_id=self._requester_id,
                    resolve=self._resolve,
                    timeouts=self._timeouts,
                )
            except Exception as exc:
                if isinstance(exc, ConnectFailed):
                    failure = exc
                else:  # a bug, not the network: log it, but keep dialling with backoff
                    log.error("agent.connect_error", tenant=link.name, **where_it_failed(exc))
                    failure = ConnectFailed("internal", f"unexpected {type(exc).__name__}")
                link.failures += 1
                delay = backoff_delay(
                    link.failures, base=BACKOFF_BASE, cap=self._backoff_cap, rng=self._rng
                )
                log.warning(
                    "agent.connect_failed",
                    tenant=link.name,
                    kind=failure.kind,
                    reason=failure.reason,
                    failures=link.failures,
                    retry_in=round(delay, 3),
                )
                link.attempt = None
                attempt.set_exception(AgentUnavailable(link.name, failure.reason))
                await asyncio.sleep(delay)
                attempt = link.attempt = _new_attempt()
                continue
            except BaseException:  # cancelled by close(): nobody may be left waiting
                link.attempt = None
                attempt.set_exception(AgentUnavailable(link.name, "the proxy is shutting down"))
                raise
            if self._closed:
                await _close_quietly(client)
                attempt.set_exception(AgentUnavailable(link.name, "the proxy is shutting down"))
                return
            link.client, link.attempt = client, None
            link.practice = dict(client.welcome.practice)
            log.info(
                "agent.connected",
                tenant=link.name,
                address=address,
                port=link.agent.port,
                agent_version=client.welcome.agent_version,
                after_failures=link.failures,
            )
            link.failures = 0
            attempt.set_result(client)
            return

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _new_attempt() -> asyncio.Future[LinkClient]:
    future: asyncio.Future[LinkClient] = asyncio.get_running_loop().create_future()
    # Nobody may be waiting when an attempt fails; that is normal, not worth a warning.
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future


async def _close_quietly(client: LinkClient) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5.0):
            await client.close()
