"""The links between this proxy replica and the offices' agents: one per tenant, shared, kept alive.

Each tenant gets one multiplexed :class:`LinkClient`, opened on first use and shared by every
concurrent request for that office. When it drops, the requests in flight fail at once with
:class:`AgentUnavailable` (the page tells the patient to call the office) and a new link is
dialled in the background with full-jitter exponential backoff. While that backoff runs, requests
fail immediately rather than queueing: a patient should see "call us" in a second, not a spinner.

Every connection attempt resolves the agent's host name again. Offices without a static IP use
dynamic DNS (seed 001): when their ISP hands out a new address, the name changes and the next
attempt must follow it, so the address is never cached here.

The registry can change while the proxy runs (a reload, proxy/reload.py): :meth:`apply_registry`
adds offices, drops them, and points them at a new address or key. A link that the new
registry no longer vouches for is *retired*: no new request uses it, and it is closed with GOAWAY
once the requests already on it are answered (``LinkClient.close``'s grace period), so
nobody's page is cut off half-way.

Longer than ~400 lines on purpose: :class:`AgentConnections` is one object whose state
(each office's link, its dialler, the links being retired) every method reads and changes, and
the reload path (:meth:`AgentConnections.apply_registry`) races the dialling path by design;
kept in one file, the interleavings they must survive can be read together. Dialling itself
(resolving, TLS, backoff) is in proxy/dialling.py.

Offices in ``mode: dial_out`` are not dialled: their agents connect to this replica's link
listener, and may hold several links at once (proxy/dial_in.py keeps those). Requests for them
go through :meth:`AgentConnections.request` all the same.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from protocol.aio import LinkClient, RemoteError
from protocol.errors import ErrorCode, where_it_failed
from protocol.tls import TLSConfig, client_config
from protocol.transport import DEFAULT_TIMEOUTS, Timeouts
from proxy.config import ProxyConfig, TenantConfig
from proxy.dial_in import DialInLinks, close_retired
from proxy.dial_in import close_quietly as _close_quietly
from proxy.dialling import (
    ConnectFailed,
    Resolver,
    backoff_delay,
    connect_agent,
    resolve_host,
)

__all__ = [
    "LINK_STATES",
    "AgentConnections",
    "AgentUnavailable",
    "LinkStatus",
    "RegistryChanges",
]

log = structlog.get_logger("portico.proxy.agents")

BACKOFF_BASE = 0.2
# How long a request waits for a link being dialled before the page says "call us" instead.
CONNECT_WAIT = 1.0
# What LinkClient raises for requests cut off by the link itself (not answered by the agent).
_LINK_LOST_CODES = frozenset({ErrorCode.UNAVAILABLE, ErrorCode.SHUTDOWN})
# How long a retired link waits for its requests in flight before it is closed anyway. A page's
# requests carry a 10 s deadline (proxy/views/base.py): one still running after this is stuck.
RETIRE_GRACE = 15.0
# What link_states() reports (and the metrics endpoint exports): "idle" — not needed yet (links
# open on first use); "connecting"; "connected"; "backing_off" — the last attempt failed, the
# next waits; "lost" — the link dropped and is dialled again on the next request; "waiting" — a
# dial_out office whose agent has no link to this replica (it dials in; nothing to do here).
LINK_STATES = ("idle", "connecting", "connected", "backing_off", "lost", "waiting")


class AgentUnavailable(Exception):
    """There is no working link to the tenant's agent right now; ``reason`` is for logs."""

    def __init__(self, tenant: str, reason: str) -> None:
        super().__init__(f"agent for {tenant!r} unavailable: {reason}")
        self.tenant = tenant
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """One office's link at the moment :meth:`AgentConnections.link_states` was called."""

    state: str  # one of LINK_STATES
    failures: int  # failed connection attempts in a row (always 0 for a dial_out office)
    links: int = 0  # usable links: 0 or 1 for a dialled office; a dial_out one may hold spares


@dataclass(frozen=True, slots=True)
class RegistryChanges:
    """What :meth:`AgentConnections.apply_registry` changed, as sorted subdomains."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    # A new host, port, pins or mode: the next connection uses them (an office switching
    # between listen and dial_out loses its links, as if removed and added again).
    relinked: tuple[str, ...]


@dataclass(eq=False, slots=True)
class _TenantLink:
    """One tenant's link and the dialling around it: a few hundred bytes until the link is
    needed (its TLS settings are made when it is dialled, from the one shared context)."""

    name: str
    agent: TenantConfig
    client: LinkClient | None = None
    attempt: asyncio.Future[LinkClient] | None = None  # set while an attempt is under way
    dialer: asyncio.Task[None] | None = None  # attempts, backing off between them
    failures: int = 0
    practice: dict[str, Any] | None = None
    # What requests waiting for a connection are told when the dialling is stopped.
    stop_reason: str = "the proxy is shutting down"


def _dial_target(agent: TenantConfig) -> tuple[str | None, int, frozenset[str]]:
    """What a connection to an office's agent depends on (its name and phone do not)."""
    return agent.host, agent.port, frozenset(agent.pins)


def _state_of(link: _TenantLink) -> str:
    if link.client is not None and link.client.is_usable:
        return "connected"
    if link.attempt is not None:
        return "connecting"
    if link.dialer is not None and not link.dialer.done():
        return "backing_off"
    return "idle" if link.client is None else "lost"


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
        connect_wait: float = CONNECT_WAIT,
    ) -> None:
        """``resolve`` looks an agent's host up (default: the system resolver, every time);
        ``rng`` draws the backoff jitter; ``connect_wait`` is how long a request waits for a
        link to come up. Raises OSError/ValueError if the proxy's link key cannot be loaded,
        so a replica with a broken identity does not start. Call :meth:`start` to open the
        link listener for dial_out offices."""
        self._requester_id = requester_id
        self._resolve = resolve or resolve_host
        self._timeouts = timeouts or DEFAULT_TIMEOUTS
        self._backoff_cap = backoff_cap
        self._rng = rng or random.Random()
        self._connect_wait = connect_wait
        self._closed = False
        self._background: set[asyncio.Future[Any]] = set()
        # The link key is read once, here, into one TLS context that every office's link
        # shares (each connection checks its own office's pins: TLSConfig.with_allowed_pins);
        # a new link key takes a restart.
        first = next(iter(config.tenants.values()))
        self._identity = client_config(config.link.key_file, config.link.cert_file, first.pins)
        for agent in config.tenants.values():
            self._tls_for(agent)  # unusable pins fail here, at start, not at the first page
        dialled, dialling_in = _by_mode(config.tenants)
        self._links = {name: _TenantLink(name, agent) for name, agent in dialled.items()}
        self._dial_in = DialInLinks(
            config.link,
            dialling_in,
            requester_id=requester_id,
            timeouts=self._timeouts,
            connect_wait=connect_wait,
            retire_grace=RETIRE_GRACE,
        )
        self._removed: set[str] = set()  # dropped by apply_registry (and not added back)
        self._retiring: dict[LinkClient, asyncio.Task[None]] = {}

    async def start(self) -> None:
        """Open the link listener for dial_out offices (when ``link.listen`` is set). Raises
        OSError when its port cannot be bound."""
        await self._dial_in.start()

    def warming_up(self) -> bool:
        """Just started, with dial_out offices not yet dialled in (see DialInLinks)."""
        return self._dial_in.warming_up()

    @property
    def link_listener_port(self) -> int | None:
        """The port agents dial in to, None when not listening."""
        return self._dial_in.port

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
        link (never waiting more than about a second for one) or the office was removed by
        :meth:`apply_registry`, and LookupError for a tenant that was never configured."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        name = tenant.lower()
        link = self._links.get(name)
        if link is not None:
            agent = await self._usable_client(link)
        elif self._dial_in.serves(name):
            agent = await self._dialled_in_client(name)
        elif name in self._removed:
            # Past the app's tenant check just before a reload dropped the office.
            raise AgentUnavailable(name, "the office was removed from the registry")
        else:
            raise LookupError(f"no tenant {tenant!r} in the proxy's config")
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
                # dials again (or uses another link the office dialled in).
                raise AgentUnavailable(name, f"link lost ({exc.code})") from None
            raise

    def practice(self, tenant: str) -> dict[str, Any] | None:
        """The practice {name, phone, timezone} from the tenant's last WELCOME, else None."""
        name = tenant.lower()
        if self._dial_in.serves(name):
            return self._dial_in.practice(name)
        link = self._links.get(name)
        return None if link is None or link.practice is None else dict(link.practice)

    def link_states(self) -> dict[str, LinkStatus]:
        """Each configured office's link as it is now, by subdomain (a copy: read-only)."""
        states = {}
        for name, link in self._links.items():
            state = _state_of(link)
            states[name] = LinkStatus(state, link.failures, int(state == "connected"))
        for name, count in self._dial_in.live_links().items():
            states[name] = LinkStatus("connected" if count else "waiting", 0, count)
        return dict(sorted(states.items()))

    def apply_registry(self, tenants: Mapping[str, TenantConfig]) -> RegistryChanges:
        """Serve exactly ``tenants`` from now on (a reload), keeping the links of every office
        whose entry did not change.

        - A new office gets a link, opened on first use as at start.
        - A removed office's link is retired: the requests on it are answered, then it closes
          with GOAWAY. New requests for the office raise AgentUnavailable.
        - An office with a new host, port or pins is dialled with them from the next
          connection on. Its current link is retired when the address changed or a pin was
          removed (the agent may be using the key that pin named, which is no longer
          trusted); when pins were only added, the key it was accepted under still is, and the
          link stays. A dialler backing off under the old settings tries again at once.
        - A new name or phone changes no link.
        - dial_out offices: see :meth:`DialInLinks.apply` (a revoked pin's live link is closed
          at once). An office switching between listen and dial_out is removed and added
          again (reported as relinked).

        Call it on the event loop. Raises ValueError (or OSError, loading the link key for the
        first dial_out office), having changed nothing, when a tenant's pins cannot be used."""
        if self._closed:
            raise RuntimeError("these agent connections are closed")
        dialled, dialling_in = _by_mode(tenants)
        # Everything that can fail comes first, so that a failure changes nothing.
        for name, agent in dialled.items():
            if name not in self._links or set(self._links[name].agent.pins) != set(agent.pins):
                self._tls_for(agent)
        listener_tls = self._dial_in.prepare(dialling_in)
        removed = sorted(set(self._links) - set(dialled))
        for name in removed:
            self._drop(self._links.pop(name))
        added, relinked = [], []
        for name, agent in dialled.items():
            link = self._links.get(name)
            if link is None:
                self._links[name] = _TenantLink(name, agent)
                added.append(name)
            elif self._relink(link, agent):
                relinked.append(name)
        dial_in = self._dial_in.apply(dialling_in, listener_tls)
        switched = set(removed + added) & set(dial_in.added + dial_in.removed)
        changes = RegistryChanges(
            tuple(sorted(set(added + list(dial_in.added)) - switched)),
            tuple(sorted(set(removed + list(dial_in.removed)) - switched)),
            tuple(sorted(set(relinked + list(dial_in.repinned)) | switched)),
        )
        self._removed = (self._removed | set(changes.removed)) - set(tenants)
        log.info(
            "agents.registry_applied",
            added=list(changes.added),
            removed=list(changes.removed),
            relinked=list(changes.relinked),
            tenants=len(self._links),
        )
        return changes

    async def close(self) -> None:
        """Stop dialling and close every link (GOAWAY first, so agents log a clean close)."""
        self._closed = True
        for link in self._links.values():
            if link.dialer is not None:
                link.dialer.cancel()
        # Retired links still draining close now too: the proxy is going away.
        retiring = list(self._retiring)
        for task in self._retiring.values():
            task.cancel()
        tasks: list[asyncio.Future[Any]] = [
            link.dialer for link in self._links.values() if link.dialer is not None
        ]
        tasks += self._background
        tasks += self._retiring.values()
        await asyncio.gather(*tasks, return_exceptions=True)
        clients = [link.client for link in self._links.values() if link.client is not None]
        for link in self._links.values():
            link.client = None
        await asyncio.gather(*(_close_quietly(c) for c in clients + retiring))
        dialled_in = await self._dial_in.close()
        log.info("agents.closed", links=len(clients) + len(retiring) + dialled_in)

    # -- the registry changing -------------------------------------------------------------------

    def _tls_for(self, agent: TenantConfig) -> TLSConfig:
        return self._identity.with_allowed_pins(agent.pins)

    def _relink(self, link: _TenantLink, agent: TenantConfig) -> bool:
        """Give ``link`` the office's new entry; True when how it connects changed."""
        old, link.agent = link.agent, agent
        if _dial_target(old) == _dial_target(agent):
            return False
        moved = (old.host, old.port) != (agent.host, agent.port)
        if moved or not set(old.pins) <= set(agent.pins):
            self._retire(link, "the agent's address changed" if moved else "a pin was removed")
        link.failures = 0
        dialer = link.dialer
        if dialer is not None and not dialer.done() and link.attempt is None:
            # Backing off after failures under the old settings (perhaps the very pin being
            # fixed now): the next request dials at once. An attempt under way notices the
            # change itself when it ends (_dial).
            dialer.cancel()
            self._track(dialer)
            link.dialer = None
        return True

    def _drop(self, link: _TenantLink) -> None:
        link.stop_reason = "the office was removed from the registry"
        if link.dialer is not None and not link.dialer.done():
            link.dialer.cancel()
            self._track(link.dialer)
        self._retire(link, "removed from the registry")

    def _retire(self, link: _TenantLink, reason: str) -> None:
        """No new request uses the link's connection; it closes once its requests are answered."""
        client, link.client = link.client, None
        if client is None:
            return
        if not client.is_usable:
            self._spawn(_close_quietly(client))
            return
        log.info("agent.link_retiring", tenant=link.name, reason=reason)
        task = asyncio.get_running_loop().create_task(
            close_retired(link.name, client, RETIRE_GRACE)
        )
        self._retiring[client] = task
        task.add_done_callback(lambda _: self._retiring.pop(client, None))

    # -- the link's life -------------------------------------------------------------------------

    async def _dialled_in_client(self, name: str) -> LinkClient:
        if self._closed:
            raise AgentUnavailable(name, "the proxy is shutting down")
        client = await self._dial_in.usable_client(name)
        if client is None:
            raise AgentUnavailable(name, "no link from the office's agent (it dials in)")
        return client

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
            async with asyncio.timeout(self._connect_wait):
                return await asyncio.shield(attempt)
        except TimeoutError:
            raise AgentUnavailable(link.name, "still connecting") from None

    async def _dial(self, link: _TenantLink) -> None:
        """Attempt until a link is up, backing off between failures; runs in the background so
        that a patient never waits for a retry."""
        assert link.attempt is not None
        attempt = link.attempt
        while True:
            target = _dial_target(link.agent)
            try:
                client, address = await connect_agent(
                    link.name,
                    link.agent,
                    self._tls_for(link.agent),
                    requester_id=self._requester_id,
                    resolve=self._resolve,
                    timeouts=self._timeouts,
                )
            except Exception as exc:
                if _dial_target(link.agent) != target:
                    continue  # a reload changed the office's entry meanwhile: try it at once
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
            except BaseException:  # cancelled (close, removal): nobody may be left waiting
                link.attempt = None
                attempt.set_exception(AgentUnavailable(link.name, link.stop_reason))
                raise
            if self._closed or self._links.get(link.name) is not link:
                await _close_quietly(client)
                attempt.set_exception(AgentUnavailable(link.name, link.stop_reason))
                return
            if _dial_target(link.agent) != target:
                # Accepted under settings a reload has replaced since (perhaps a pin no longer
                # trusted): never used; dial again with the new ones.
                self._spawn(_close_quietly(client))
                continue
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

    def _spawn(self, coroutine: Awaitable[object]) -> None:
        self._track(asyncio.ensure_future(coroutine))

    def _track(self, task: asyncio.Future[Any]) -> None:
        """close() waits for ``task``."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _by_mode(
    tenants: Mapping[str, TenantConfig],
) -> tuple[dict[str, TenantConfig], dict[str, TenantConfig]]:
    """(the offices this proxy dials, the dial_out offices whose agents dial in)."""
    dialled = {name: agent for name, agent in tenants.items() if not agent.dials_in}
    return dialled, {name: agent for name, agent in tenants.items() if agent.dials_in}


def _new_attempt() -> asyncio.Future[LinkClient]:
    future: asyncio.Future[LinkClient] = asyncio.get_running_loop().create_future()
    # Nobody may be waiting when an attempt fails; that is normal, not worth a warning.
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future
