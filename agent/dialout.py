"""Dial-out mode (issue 15): the agent keeps links open to the portal instead of listening.

For each endpoint in ``link.portal`` a watcher looks the name up and gives every address it
resolves to ``links_per_address`` keepers. A keeper dials its address, serves the link until it
ends, and dials again after a full-jitter backoff (reset by a link that comes up). Before every
attempt it looks the name up afresh: a portal that moves (new replicas, a new load balancer)
is followed at once, and a keeper whose address no longer resolves stops once its link ends.

Behind a load balancer one address hides several replicas, and each link lands on one of them.
Every replica must hold a link to the office (any replica may serve any patient), so with
``links_per_address`` set to the number of replicas a link that lands on a replica already
linked through the same address (same ``requester_id`` in its HELLO) is refused before WELCOME
(the portal never puts it to use) and dialled again after a backoff.

Every failure backs off: a refused or broken dial, a link that drops within STABLE_SECONDS of
coming up, a DNS answer that lacks the address (a keeper stops only after GONE_AFTER of those
in a row), and a bug in here.

What the logs say never includes patient data: endpoints, addresses, replica ids and reasons.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from agent.config_values import split_endpoint
from protocol.errors import ErrorCode, LinkError, LinkRefused, where_it_failed
from protocol.events import HelloReceived
from protocol.reconnect import Resolver, backoff_delay, resolve_host

log = structlog.get_logger("portico.agent")

BACKOFF_BASE = 0.5
"""Seconds: the first retry waits up to this long, each further one up to twice as long."""
REFRESH_SECONDS = 60.0
"""How often a name is looked up again while all its links are up, to find new addresses."""
STABLE_SECONDS = 10.0
"""A link up at least this long resets the backoff when it ends; one that drops sooner (the
portal closing it at once, say) counts as one more failure, so it is not redialled in a loop."""
GONE_AFTER = 3
"""Lookups in a row without its address before a keeper stops (a flapping DNS answer that
leaves an address out now and then must not stop and restart keepers in a loop)."""
PIN_REFUSED = (
    "the portal's key is not in tls.proxy_pins; check that link.portal is the link address your "
    "Portico provider gave you (not the web site), and add a pin there only if they confirm it"
)
KEY_REFUSED = (
    "the portal refused this agent's key; give your Portico provider this agent's pin "
    "(`portico-agent check` prints it)"
)


class PortalLink(Protocol):
    """What the supervisor needs of a dialled link (protocol.aio.DialledLink)."""

    @property
    def requester_id(self) -> str: ...

    @property
    def closed(self) -> asyncio.Future[None]: ...

    @property
    def is_open(self) -> bool: ...

    def close(self) -> None: ...


class Dialler(Protocol):
    """What dials (protocol.aio.LinkServer with a client-side TLS config)."""

    async def dial(
        self, host: str, port: int, *, check_hello: Callable[[HelloReceived], None] | None = None
    ) -> PortalLink: ...


@dataclass(frozen=True, slots=True)
class DialOutSettings:
    endpoints: tuple[str, ...]
    """``host:port`` each, as in link.portal."""
    links_per_address: int = 1
    backoff_cap: float = 30.0
    backoff_base: float = BACKOFF_BASE
    refresh: float = REFRESH_SECONDS


def failure_kind(exc: LinkRefused) -> tuple[str, str]:
    """(kind, reason) of a failed dial, the reason in words office IT can act on."""
    reason, cause = exc.reason, exc.__cause__
    if isinstance(cause, ConnectionRefusedError):
        return "refused", "connection refused (nothing listening there)"
    if isinstance(cause, OSError):
        return "network", reason
    if "timed out" in reason:
        return "timeout", "no answer within the handshake timeout"
    if "not pinned" in reason:
        return "pin", PIN_REFUSED
    if "peer refused the handshake" in reason or "ended unexpectedly" in reason:
        return "key", KEY_REFUSED
    if "HELLO refused" in reason or "refused by" in reason:
        return "portal", reason
    return "tls", reason


class _Keeper:
    """One link slot for one address of one endpoint."""

    def __init__(
        self, supervisor: DialOutSupervisor, endpoint: str, address: str, slot: int
    ) -> None:
        self.supervisor = supervisor
        self.endpoint = endpoint
        self.host, self.port = split_endpoint(endpoint)
        self.address = address
        self.slot = slot
        self.link: PortalLink | None = None
        # The replica (requester_id) this keeper's link serves, from its HELLO on, so that two
        # keepers dialling at once cannot both take the same replica.
        self.replica: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.log: Any = log

    async def run(self) -> None:
        sup = self.supervisor
        loop = asyncio.get_running_loop()
        failures, misses, delay = 0, 0, 0.0
        self.log = log.bind(endpoint=self.endpoint, address=self.address, slot=self.slot)
        while True:
            if delay:
                await asyncio.sleep(delay)
            try:
                addresses = await sup.resolve(self.host, self.port)
            except OSError as exc:
                failures += 1
                delay = self._failed(failures, "dns", f"DNS failure: {exc.strerror or exc}")
                continue
            if self.address not in addresses:
                misses += 1
                if misses >= GONE_AFTER:
                    self.log.info("agent.dial_out.address_gone")
                    return
                delay = sup.delay(misses)
                continue
            misses = 0
            duplicate: list[str] = []
            try:
                link = await sup.dialler.dial(
                    self.address, self.port, check_hello=self._one_per_replica(duplicate)
                )
            except LinkRefused as exc:
                self.replica = None
                failures += 1
                if duplicate:
                    # Landed on a replica this address already links to: refused before
                    # WELCOME, so the portal never used it; try for another one.
                    delay = self._failed(
                        failures,
                        "duplicate",
                        f"landed on replica {duplicate[0]}, already linked through this address",
                    )
                else:
                    delay = self._failed(failures, *failure_kind(exc))
                continue
            except Exception as exc:  # a bug, not the network: keep dialling, with backoff
                self.replica = None
                failures += 1
                self.log.error("agent.dial_out.error", **where_it_failed(exc))
                delay = self._failed(failures, "internal", f"unexpected {type(exc).__name__}")
                continue
            self.link = link
            up_since = loop.time()
            self.log.info(
                "agent.dial_out.connected", requester_id=link.requester_id, after_failures=failures
            )
            try:
                await asyncio.shield(link.closed)
            finally:
                self.link = self.replica = None
            # Lost after it was up: the portal may be restarting, so the next attempt waits up to
            # backoff_base (not at once: many offices would arrive together), then backs off.
            # A link that did not stay up long counts as one more failure instead.
            failures = 1 if loop.time() - up_since >= STABLE_SECONDS else failures + 1
            delay = sup.delay(failures)
            self.log.warning(
                "agent.dial_out.lost", requester_id=link.requester_id, retry_in=round(delay, 3)
            )

    def _one_per_replica(self, duplicate: list[str]) -> Callable[[HelloReceived], None]:
        """The HELLO check of this keeper's next link: one link per replica per address."""

        def check(hello: HelloReceived) -> None:
            if self.supervisor.replica_taken(self, hello.requester_id):
                duplicate.append(hello.requester_id)
                raise LinkError(ErrorCode.BUSY, "this agent already has a link to this replica")
            self.replica = hello.requester_id

        return check

    def _failed(self, failures: int, kind: str, reason: str) -> float:
        delay = self.supervisor.delay(failures)
        self.log.warning(
            "agent.dial_out.failed",
            kind=kind,
            reason=reason,
            failures=failures,
            retry_in=round(delay, 3),
        )
        return delay


class DialOutSupervisor:
    """Keeps the agent's links to the portal up: start() once, stop() on the way out."""

    def __init__(
        self,
        dialler: Dialler,
        settings: DialOutSettings,
        *,
        resolve: Resolver = resolve_host,
        rng: random.Random | None = None,
    ) -> None:
        self.dialler = dialler
        self.settings = settings
        self.resolve = resolve
        self.rng = rng or random.Random()
        self._keepers: dict[tuple[str, str, int], _Keeper] = {}
        self._watchers: list[asyncio.Task[None]] = []
        self._changed = asyncio.Event()

    @property
    def links(self) -> list[PortalLink]:
        """The links up now."""
        return [k.link for k in self._keepers.values() if k.link is not None and k.link.is_open]

    def delay(self, failures: int) -> float:
        """Seconds before the next attempt after ``failures`` in a row (full jitter)."""
        settings = self.settings
        return backoff_delay(
            failures, base=settings.backoff_base, cap=settings.backoff_cap, rng=self.rng
        )

    def replica_taken(self, keeper: _Keeper, requester_id: str) -> bool:
        return any(
            other is not keeper
            and other.endpoint == keeper.endpoint
            and other.address == keeper.address
            and other.replica == requester_id
            for other in self._keepers.values()
        )

    async def start(self) -> None:
        """Start dialling (returns at once: links come up in the background)."""
        for endpoint in self.settings.endpoints:
            self._watchers.append(asyncio.create_task(self._watch(endpoint)))

    async def stop(self, grace: float = 20.0) -> None:
        """Stop dialling, say GOAWAY on every link, and wait up to ``grace`` s for them to
        finish the requests in flight."""
        tasks = [*self._watchers, *(k.task for k in self._keepers.values() if k.task)]
        links = self.links
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for link in links:
            link.close()
        if links:
            await asyncio.wait([link.closed for link in links], timeout=grace)
        self._keepers.clear()
        self._watchers.clear()

    async def _watch(self, endpoint: str) -> None:
        host, port = split_endpoint(endpoint)
        failures = 0
        while True:
            try:
                addresses: Sequence[str] = await self.resolve(host, port)
            except OSError as exc:
                addresses = ()
                failures += 1
                delay = self.delay(failures)
                log.warning(
                    "agent.dial_out.failed",
                    endpoint=endpoint,
                    address=None,
                    kind="dns",
                    reason=f"DNS failure: {exc.strerror or exc}",
                    failures=failures,
                    retry_in=round(delay, 3),
                )
            else:
                failures = 0
                delay = self.settings.refresh
                if not addresses:
                    log.warning("agent.dial_out.no_address", endpoint=endpoint)
                for address in addresses:
                    for slot in range(self.settings.links_per_address):
                        self._keep(endpoint, address, slot)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                # A keeper that stops (its address went away) is a reason to look again.
                async with asyncio.timeout(delay):
                    await self._changed.wait()

    def _keep(self, endpoint: str, address: str, slot: int) -> None:
        key = (endpoint, address, slot)
        if key in self._keepers:
            return
        keeper = _Keeper(self, endpoint, address, slot)
        self._keepers[key] = keeper
        keeper.task = asyncio.create_task(keeper.run())
        keeper.task.add_done_callback(lambda _: self._retired(key, keeper))

    def _retired(self, key: tuple[str, str, int], keeper: _Keeper) -> None:
        task = keeper.task
        failure = None if task is None or task.cancelled() else task.exception()
        if failure is not None:
            # run() turns every failure into a backoff, so this is a bug: say where.
            log.error("agent.dial_out.keeper_failed", **where_it_failed(failure))
        if self._keepers.get(key) is keeper:
            del self._keepers[key]
        self._changed.set()
