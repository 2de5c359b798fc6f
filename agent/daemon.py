"""`portico-agent run`: serve the link on port 1234 until SIGTERM, then drain and stop.

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
from protocol.tls import server_config

log = structlog.get_logger("portico.agent")


# Settings a running agent applies without dropping a link: Agent.apply_live_settings applies
# exactly these. Everything else (listen address and port, database, the agent's own key and
# certificate, the practice's identity, email, portal URL, ...) is read once at start.
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
            tls=server_config(config.tls.key_file, config.tls.cert_file, config.tls.proxy_pins),
            on_hello=metrics.counting_hellos(on_hello),
            agent_version=__version__,
            allowed_networks=[str(n) for n in config.listen.proxy_networks()],
        )
        metrics.watch_connections(server)
        outbox = build_outbox(config, db, clock, services.access)
        return cls(config, db, server, methods, outbox, metrics, services.booking, services.access)

    async def start(self, port: int | None = None) -> None:
        listen = self.config.listen
        await self.server.start(listen.host, listen.port if port is None else port)
        self._mail_task = asyncio.create_task(self.outbox.run_forever(self._stop_mail))
        log.info("agent.listening", host=listen.host, port=self.server.port)
        if self.config.metrics.enabled:
            await self.metrics.serve(self.config.metrics.host, self.config.metrics.port)

    async def stop(self, grace: float = 20.0) -> None:
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
        networks = [str(n) for n in config.listen.proxy_networks()]
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
    manager READY once listening with the database answering, RELOADING/READY around each
    reload, STOPPING on the way out; feed its watchdog meanwhile."""
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
