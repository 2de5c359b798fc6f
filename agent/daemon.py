"""`portico-agent run`: serve the link until SIGTERM, then drain and stop.

In listen mode the portal connects to port 1234; in dial_out mode (issue 15) the agent opens
no port at all and keeps links open to the portal itself (agent/dialout.py).

SIGHUP reloads the config file (agent/reload.py). The process never forks: systemd
(``Type=notify``, told how it is doing through protocol/service/notify.py) and launchd both watch it
directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from agent import __version__
from agent.access.passwords import PasswordHasher
from agent.access.service import AccessService
from agent.booking.service import BookingService
from agent.clock import Clock, SystemClock
from agent.config import AgentConfig
from agent.db import Database
from agent.db.pool import DatabaseUnavailable
from agent.dialout import DialOutSettings, DialOutSupervisor
from agent.mail.outbox import OutboxWorker
from agent.metrics import AgentMetrics, MeasuredHandler
from agent.reload import agent_reloader, report_identity_change
from agent.rpc import AgentMethods
from agent.wiring import (
    access_rules,
    booking_rules,
    build_outbox,
    build_services,
    database_settings,
)
from protocol.aio import LinkError, LinkServer
from protocol.errors import ErrorCode
from protocol.events import HelloReceived
from protocol.service.logs import set_log_level
from protocol.service.notify import ServiceNotifier, ServiceSignals
from protocol.service.reload import ConfigChanges
from protocol.tls import TLSConfig, client_config, server_config

log = structlog.get_logger("portico.agent")


# Settings a running agent applies without dropping a link: Agent.apply_live_settings applies
# exactly these. Everything else (link mode and endpoints, listen address and port, database, the
# agent's own key and certificate, the practice's identity, email, portal URL, ...) is read once
# at start.
LIVE_SETTINGS = ("booking", "access", "logging", "tls.proxy_pins", "listen.allowed_proxies")


@dataclass
class Agent:
    """Everything `run` starts, so tests can run the same thing in-process."""

    config: AgentConfig
    db: Database
    server: LinkServer
    methods: AgentMethods
    outbox: OutboxWorker
    metrics: AgentMetrics
    booking: BookingService
    """Its rules are replaced in place by a reload (apply_live_settings)."""
    access: AccessService
    """Likewise; stop() closes its password hasher."""
    dial_out: DialOutSupervisor | None = None
    """Keeps the links to the portal up, in dial_out mode; None in listen mode."""
    _stop_mail: asyncio.Event = field(default_factory=asyncio.Event)
    _mail_task: asyncio.Task[None] | None = None
    _background: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        config: AgentConfig,
        *,
        clock: Clock | None = None,
        hasher: PasswordHasher | None = None,
    ) -> Agent:
        clock = clock or SystemClock()
        db = Database(database_settings(config))
        practice = config.practice
        services = build_services(config, db, clock, hasher)
        methods = services.methods

        def on_hello(hello: HelloReceived) -> dict[str, Any]:
            if hello.tenant.lower() != practice.subdomain:
                raise LinkError(ErrorCode.FORBIDDEN, "this agent serves another practice")
            return {"name": practice.name, "phone": practice.phone, "timezone": practice.timezone}

        metrics = AgentMetrics(db)
        server = LinkServer(
            MeasuredHandler(methods, methods.method_names, metrics),
            tls=link_tls(config),
            on_hello=metrics.counting_hellos(on_hello),
            agent_version=__version__,
            allowed_networks=allowed_networks(config),
        )
        metrics.watch_connections(server)
        outbox = build_outbox(config, db, clock, services.access)
        agent = cls(config, db, server, methods, outbox, metrics, services.booking, services.access)
        if config.link.mode == "dial_out":
            agent.dial_out = DialOutSupervisor(server, dial_out_settings(config))
        return agent

    async def start(self, port: int | None = None) -> None:
        """Listen (on `port` instead of listen.port, for tests: 0 picks a free one), or in
        dial_out mode start dialling the portal: then no listening socket is opened at all."""
        if self.dial_out is not None:
            await self.dial_out.start()
            log.info("agent.dialling_out", endpoints=list(self.dial_out.settings.endpoints))
        else:
            listen = self.config.listening
            await self.server.start(listen.host, listen.port if port is None else port)
            log.info("agent.listening", host=listen.host, port=self.server.port)
        self._mail_task = asyncio.create_task(self.outbox.run_forever(self._stop_mail))
        if self.config.metrics.enabled:
            await self.metrics.serve(self.config.metrics.host, self.config.metrics.port)

    async def stop(self, grace: float = 20.0) -> None:
        if self.dial_out is not None:
            await self.dial_out.stop(grace)  # no new links; GOAWAY on those up
        await self.server.close(grace=grace)
        if self._background:
            await asyncio.wait(self._background, timeout=grace)
        self._stop_mail.set()
        if self._mail_task is not None:
            await self._mail_task
        await self.metrics.close()
        self.access.hasher.close()
        await self.db.close()

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` without waiting for it (kept referenced until done; stop() waits)."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def apply_live_settings(self, config: AgentConfig) -> None:
        """Put LIVE_SETTINGS of `config` into effect without dropping a link (a proxy whose pin
        or network was removed is told to go away). What can fail (ValueError) is worked out
        before anything changes, so a failure leaves the running config as it was."""
        tls = self.server.tls.with_allowed_pins(config.tls.proxy_pins)
        networks = allowed_networks(config)
        booking, access = booking_rules(config), access_rules(config)
        self.booking.rules = booking
        self.access.rules = access
        self.server.reconfigure(tls=tls, allowed_networks=networks)
        set_log_level(config.logging.level)
        self.config = config

    def reload_config(self, path: Path) -> ConfigChanges | None:
        """Re-read `path` and apply what can be applied (SIGHUP); None, and the running config
        kept, when the file cannot be read, is not valid or cannot be put into effect."""
        reloader = agent_reloader(
            path,
            live_settings=LIVE_SETTINGS,
            current=lambda: self.config,
            apply=self.apply_live_settings,
            identity_changed=lambda before, after: self.in_background(
                report_identity_change(self.db, before, after)
            ),
        )
        return reloader.reload()

    async def database_answers(self) -> None:
        """A real `SELECT 1` through the pool; raises DatabaseUnavailable when it cannot."""
        await self.db.transaction(lambda cursor: cursor.execute("SELECT 1"))


def link_tls(config: AgentConfig) -> TLSConfig:
    """The link's TLS side: the server in listen mode; in dial_out mode the client, which
    checks the portal's key against tls.proxy_pins and presents this agent's certificate."""
    tls = config.tls
    make = client_config if config.link.mode == "dial_out" else server_config
    return make(tls.key_file, tls.cert_file, tls.proxy_pins)


def allowed_networks(config: AgentConfig) -> list[str] | None:
    """Where proxies may connect from: listen.allowed_proxies; None in dial_out mode, where
    the agent picks the address itself (and the pins still apply)."""
    if config.listen is None:
        return None
    return [str(n) for n in config.listen.proxy_networks()]


def dial_out_settings(config: AgentConfig) -> DialOutSettings:
    link = config.link
    return DialOutSettings(
        endpoints=link.portal or (),
        links_per_address=link.links_per_address,
        backoff_cap=float(link.backoff_cap_seconds),
    )


async def _until_database_answers(agent: Agent, signals: ServiceSignals) -> bool:
    """Wait until the database answers (True) or a stop is asked for (False). Not READY before:
    systemd would count the agent as up while every patient request fails."""
    delay = 1.0
    while not signals.stop.is_set():
        try:
            await agent.database_answers()
            return True
        except DatabaseUnavailable as exc:
            log.warning("agent.waiting_for_database", reason=str(exc), retry_in=delay)
        if await signals.stopped_within(delay):
            break
        delay = min(delay * 2, 30.0)
    return False


async def run(config: AgentConfig, config_path: Path | None = None) -> None:
    """Serve until SIGTERM or SIGINT, reloading `config_path` on SIGHUP; tell the service
    manager READY once listening (or dialling out) with the database answering,
    RELOADING/READY around each reload, STOPPING on the way out; feed its watchdog meanwhile."""
    notifier = ServiceNotifier.from_environment()
    agent = Agent.build(config)
    signals = ServiceSignals()
    watchdog = asyncio.create_task(notifier.keep_watchdog_fed())
    try:
        await agent.start()
        notifier.status("waiting for the database")
        if await _until_database_answers(agent, signals):
            notifier.ready(status="serving")
            log.info("agent.ready")
        while await signals.next_reload():
            notifier.reloading(status="reloading the configuration")
            if config_path is None:
                log.warning("agent.reload_unavailable", reason="started without a config file")
            else:
                agent.reload_config(config_path)
            notifier.ready(status="serving")
        notifier.stopping(status="stopping: finishing requests in flight")
        log.info("agent.stopping")
    finally:
        await agent.stop()
        watchdog.cancel()
        signals.remove()
