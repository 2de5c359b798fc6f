"""The links that dial_out offices' agents open to this replica (issue 15).

An office in ``mode: dial_out`` has no address the proxy could dial: its agent connects to the
link listener (``link.listen``, a :class:`protocol.aio.LinkAcceptor`) and is known by its key's
pin alone. The acceptor's TLS config trusts the union of every such office's pins, so an unknown
key, a plaintext peer, one without a certificate or with the wrong ALPN is refused in the
handshake, before any frame (the protocol layer logs ``link.refused``); the verified pin then
names the office (:meth:`DialInLinks.tenant_of`) and the ready link is handed over here
(:meth:`DialInLinks.link_arrived`).

An office may hold several links at once: its agent keeps one to every proxy address it
resolves (issue 15, Build 3), and behind a load balancer several of them can land on this
replica. Requests use the newest usable one; the others are spares, so a link that dies costs
no page once the next request comes. A link that dies is pruned (and logged) as its connection
closes.

When an office has no link, a request waits for one for at most ``connect_wait`` seconds from
the moment the office was first seen without one (an agent that just restarted dials again in
about a second), and after that gets None at once: a patient should see "call us" quickly,
not a spinner on every page while the office is offline.

Split from proxy/agents.py, which dials the listen-mode offices and routes requests to both.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from protocol.aio import LinkAcceptor, LinkClient
from protocol.tls import TLSConfig, server_config
from protocol.transport import Timeouts
from proxy.config import LinkIdentity, TenantConfig

__all__ = [
    "MAX_LINKS_PER_OFFICE",
    "DialInChanges",
    "DialInLinks",
    "close_quietly",
    "close_retired",
]

log = structlog.get_logger("portico.proxy.agents")

# An agent keeps one link per proxy address it resolves, and a few replicas' worth can land on
# one replica behind a balancer; far more than that is a loop or a misbehaving agent, and each
# link costs memory: past this, the oldest is retired for each new one.
MAX_LINKS_PER_OFFICE = 8


@dataclass(frozen=True, slots=True)
class DialInChanges:
    """What :meth:`DialInLinks.apply` changed, as sorted subdomains."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    repinned: tuple[str, ...]


@dataclass(eq=False, slots=True)
class _Office:
    """One dial_out office: the pins its agent may present and the links it has opened."""

    name: str
    pins: frozenset[str]
    without_since: float  # loop time since when it has had no usable link
    links: list[LinkClient] = field(default_factory=list)  # oldest first
    practice: dict[str, Any] | None = None
    arrived: asyncio.Future[None] | None = None  # requests waiting for a link wait on it


class DialInLinks:
    """The link listener and the links the dial_out offices' agents opened through it."""

    def __init__(
        self,
        link: LinkIdentity,
        tenants: Mapping[str, TenantConfig],
        *,
        requester_id: str,
        timeouts: Timeouts,
        connect_wait: float,
        retire_grace: float,
    ) -> None:
        """``tenants`` are the dial_out offices. Raises OSError/ValueError when the link key
        cannot be loaded or a pin not used, so a replica with a broken identity does not start;
        ValueError when there are dial_out offices and no ``link.listen``."""
        self._link = link
        self._requester_id = requester_id
        self._timeouts = timeouts
        self._connect_wait = connect_wait
        self._retire_grace = retire_grace
        self._server_tls: TLSConfig | None = None  # the key pair, loaded on first need
        self._closed = False
        self._acceptor: LinkAcceptor | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self._retiring: set[LinkClient] = set()  # out of use, closing once answered
        self._warm_after: float | None = None  # loop time the warm-up ends, once listening
        self._tls = self.prepare(tenants)
        self._offices: dict[str, _Office] = {}
        self._owner: dict[str, str] = {}
        self.apply(tenants, self._tls, now=0.0)

    # -- the listener ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``link.listen`` (when set), even with no dial_out office yet: a reload can
        add one, and until then every connection is refused (and logged) by the acceptor.
        Raises OSError when the port cannot be bound."""
        listen = self._link.listen
        if listen is None or self._acceptor is not None:
            return
        loop_time = asyncio.get_running_loop().time()
        for office in self._offices.values():
            office.without_since = loop_time  # agents dial in from now on
        acceptor = LinkAcceptor(
            self._tls,
            tenant_of=self.tenant_of,
            on_link=self.link_arrived,
            requester_id=self._requester_id,
            timeouts=self._timeouts,
        )
        try:
            await acceptor.start(listen.host, listen.port)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"link.listen: cannot listen on {listen.host}:{listen.port} for agents dialling "
                f"in ({exc.strerror or exc}); is another program using the port?",
            ) from None
        self._acceptor = acceptor
        self._warm_after = loop_time + (listen.warm_up_seconds if listen else 0)
        log.info(
            "agents.link_listener",
            host=listen.host,
            port=acceptor.port,
            dial_out_offices=len(self._offices),
        )

    def warming_up(self) -> bool:
        """Just started, and some dial_out office has not dialled in yet (for /healthz: a load
        balancer should send this replica no patients until their offices are back, but
        never wait longer than ``link.listen.warm_up_seconds``, or one office that stays
        offline would keep the replica out of the pool for everyone else)."""
        if self._warm_after is None:
            return False
        if asyncio.get_running_loop().time() >= self._warm_after or all(
            self._newest(office) is not None for office in self._offices.values()
        ):
            self._warm_after = None  # warm for good: later outages are one office's business
            return False
        return True

    @property
    def port(self) -> int | None:
        """The link listener's port (useful with ``port: 0``), None when not listening."""
        return None if self._acceptor is None else self._acceptor.port

    def tenant_of(self, pin: str) -> str | None:
        """The dial_out office whose agent holds the key ``pin`` names, if any."""
        return self._owner.get(pin)

    def link_arrived(self, tenant: str, client: LinkClient) -> None:
        """The acceptor's ``on_link``: an office's agent dialled in and answered HELLO."""
        office = self._offices.get(tenant)
        if self._closed or office is None or client.peer_pin not in office.pins:
            # The registry changed between the handshake and now: never used.
            log.info("agent.link_retiring", tenant=tenant, reason="pin revoked")
            self._spawn(close_quietly(client))
            return
        self._prune(office)
        office.links.append(client)
        client.closed.add_done_callback(lambda _: self._prune(office))
        office.practice = dict(client.welcome.practice)
        log.info(
            "agent.dialled_in",
            tenant=tenant,
            peer=client.peer,
            agent_version=client.welcome.agent_version,
            links=len(office.links),
        )
        while len(office.links) > MAX_LINKS_PER_OFFICE:
            self._retire(office, office.links[0], "too many links from one office", grace=True)
        if office.arrived is not None and not office.arrived.done():
            office.arrived.set_result(None)

    # -- what requests use -------------------------------------------------------------------------

    def serves(self, tenant: str) -> bool:
        """``tenant`` is a dial_out office here."""
        return tenant in self._offices

    async def usable_client(self, tenant: str) -> LinkClient | None:
        """The office's newest usable link, waiting for one to arrive while the office has been
        without one for less than ``connect_wait``; None when there is none (or the office was
        removed meanwhile)."""
        office = self._offices.get(tenant)
        if office is None or self._closed:
            return None
        client = self._newest(office)
        if client is not None:
            return client
        loop = asyncio.get_running_loop()
        remaining = office.without_since + self._connect_wait - loop.time()
        if remaining <= 0:
            return None
        if office.arrived is None or office.arrived.done():
            office.arrived = loop.create_future()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await asyncio.shield(office.arrived)
        return None if self._closed or office.name not in self._offices else self._newest(office)

    def practice(self, tenant: str) -> dict[str, Any] | None:
        """The practice from the office's newest WELCOME, else None."""
        office = self._offices.get(tenant)
        return None if office is None or office.practice is None else dict(office.practice)

    def live_links(self) -> dict[str, int]:
        """How many usable links each dial_out office has now."""
        counts = {}
        for office in self._offices.values():
            self._prune(office)
            counts[office.name] = len(office.links)
        return counts

    # -- the registry changing ---------------------------------------------------------------------

    def prepare(self, tenants: Mapping[str, TenantConfig]) -> TLSConfig | None:
        """The listener's TLS config for serving ``tenants`` (None: no dial_out office).
        Raises ValueError (or OSError, loading the key) and changes nothing when it cannot be
        had, so that a reload can check it before changing anything."""
        pins = frozenset(pin for agent in tenants.values() for pin in agent.pins)
        if not pins:
            return None
        if self._link.listen is None:
            names = ", ".join(sorted(tenants))
            raise ValueError(
                f"the dial_out offices {names} need the link listener (link.listen), which is "
                "set up at start: add it and restart"
            )
        if self._server_tls is None:
            self._server_tls = server_config(self._link.key_file, self._link.cert_file, pins)
        return self._server_tls.with_allowed_pins(pins)

    def apply(
        self,
        tenants: Mapping[str, TenantConfig],
        tls: TLSConfig | None,
        *,
        now: float | None = None,
    ) -> DialInChanges:
        """Serve exactly the dial_out offices ``tenants``, with ``tls`` from :meth:`prepare`.

        New offices are accepted from the next handshake on. A removed office's links are
        retired: no new request uses them, and they close with GOAWAY once the requests on them
        are answered. A link whose agent's pin is no longer one of its office's pins is closed
        with GOAWAY at once: that key is no longer trusted, so nothing more goes over it."""
        if now is None:
            now = asyncio.get_running_loop().time()
        added: list[str] = []
        removed: list[str] = []
        repinned: list[str] = []
        for name in sorted(set(self._offices) - set(tenants)):
            gone = self._offices.pop(name)
            for client in list(gone.links):
                self._retire(gone, client, "removed from the registry", grace=True)
            if gone.arrived is not None and not gone.arrived.done():
                gone.arrived.set_result(None)  # waiting requests learn it at once
            removed.append(name)
        for name, agent in tenants.items():
            pins = frozenset(agent.pins)
            office = self._offices.get(name)
            if office is None:
                self._offices[name] = _Office(name, pins, without_since=now)
                added.append(name)
            elif office.pins != pins:
                office.pins = pins
                for client in [c for c in office.links if c.peer_pin not in pins]:
                    self._retire(office, client, "pin revoked", grace=False)
                repinned.append(name)
        self._owner = {pin: name for name, office in self._offices.items() for pin in office.pins}
        self._tls = tls
        if self._acceptor is not None:
            self._acceptor.reconfigure(tls)
        return DialInChanges(tuple(added), tuple(removed), tuple(sorted(repinned)))

    async def close(self) -> int:
        """Stop listening and close every link (GOAWAY first); the number of links closed."""
        self._closed = True
        if self._acceptor is not None:
            await self._acceptor.close()  # no new links; handshakes under way are dropped
        clients = [client for office in self._offices.values() for client in office.links]
        for office in self._offices.values():
            office.links.clear()
            if office.arrived is not None and not office.arrived.done():
                office.arrived.set_result(None)
        clients += self._retiring  # no more grace for their requests: the proxy is going away
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.gather(*(close_quietly(c) for c in clients))
        return len(clients)

    # -- inside ------------------------------------------------------------------------------------

    def _newest(self, office: _Office) -> LinkClient | None:
        self._prune(office)
        return office.links[-1] if office.links else None

    def _prune(self, office: _Office) -> None:
        dead = [client for client in office.links if not client.is_usable]
        if not dead:
            return
        office.links = [client for client in office.links if client.is_usable]
        for client in dead:
            log.info("agent.link_lost", tenant=office.name, peer=client.peer)
            self._spawn(close_quietly(client))
        if not office.links:
            office.without_since = asyncio.get_running_loop().time()

    def _retire(self, office: _Office, client: LinkClient, reason: str, *, grace: bool) -> None:
        """No new request uses ``client``; it closes with GOAWAY once its requests are answered
        (``grace``) or at once."""
        office.links.remove(client)
        if not office.links:
            office.without_since = asyncio.get_running_loop().time()
        log.info("agent.link_retiring", tenant=office.name, reason=reason, peer=client.peer)
        self._retiring.add(client)
        self._spawn(self._close_retired(office.name, client, self._retire_grace if grace else 0.0))

    async def _close_retired(self, tenant: str, client: LinkClient, grace: float) -> None:
        try:
            await close_retired(tenant, client, grace)
        finally:
            self._retiring.discard(client)

    def _spawn(self, coroutine: Awaitable[object]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def close_retired(tenant: str, client: LinkClient, grace: float) -> None:
    """Close a link taken out of use, after its requests are answered (at most ``grace``
    seconds), and log how it went."""
    if await close_quietly(client, grace) is False:
        log.warning("agent.link_retire_timeout", tenant=tenant, grace_seconds=grace)
    log.info("agent.link_retired", tenant=tenant)


async def close_quietly(client: LinkClient, grace: float = 0.0) -> bool | None:
    """``client.close(grace)``, never raising: True when nothing was cut off, False when
    requests still unanswered after `grace` were, None when the close itself failed or hung
    (the link is gone either way; only False means a request was cut off)."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(grace + 5.0):
            return await client.close(grace=grace)
    return None
