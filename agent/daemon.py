"""`portico-agent run`: serve the link on port 1234 until SIGTERM, then drain and stop.

SIGHUP reloads the config file (agent/reload.py). The process never forks: systemd
(``Type=notify``, told how it is doing through protocol/sdnotify.py) and launchd both watch it
directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from agent import __version__
from agent.access.context import AccessRules
from agent.access.link import link_methods as access_methods
from agent.access.passwords import PasswordHasher
from agent.access.service import AccessService
from agent.booking.link import link_methods as booking_methods
from agent.booking.reads import BookingRules
from agent.booking.service import BookingService
from agent.clock import Clock, SystemClock
from agent.config import AgentConfig
from agent.db import Database, DatabaseSettings
from agent.db.pool import DatabaseUnavailable
from agent.forms.link import link_methods as form_methods
from agent.mail.emails import MailTemplates
from agent.mail.outbox import OutboxWorker, sender_from_config
from agent.messages.link import link_methods as message_methods
from agent.metrics import AgentMetrics, MeasuredHandler
from agent.practice import link_methods as practice_methods
from agent.records.link import link_methods as record_methods
from agent.reload import reload_from_file
from agent.rpc import AgentMethods, DomainContext, SessionCallers
from protocol.aio import LinkError, LinkServer
from protocol.errors import ErrorCode
from protocol.events import HelloReceived
from protocol.logconfig import set_log_level
from protocol.sdnotify import ServiceNotifier, ServiceSignals
from protocol.tls import server_config

log = structlog.get_logger("portico.agent")


def database_settings(config: AgentConfig) -> DatabaseSettings:
    db = config.database
    return DatabaseSettings(
        host=db.host,
        port=db.port,
        name=db.name,
        user=db.user,
        password=db.password_value(),
        pool_size=db.pool_size,
        connect_timeout=db.connect_timeout_seconds,
        read_timeout=db.read_timeout_seconds,
        write_timeout=db.write_timeout_seconds,
    )


def booking_rules(config: AgentConfig) -> BookingRules:
    b = config.booking
    return BookingRules(
        enabled=b.enabled,
        horizon_days=b.horizon_days,
        min_notice_hours=b.min_notice_hours,
        cancel_cutoff_hours=b.cancel_cutoff_hours,
        allow_cancel_reschedule=b.allow_cancel_reschedule,
        round_to_minutes=b.round_to_minutes,
        allow_no_preference=b.allow_no_preference,
        late_cancel_fee_hours=b.late_cancel_fee_hours,
        max_upcoming_per_patient=b.max_upcoming_per_patient,
    )


def access_rules(config: AgentConfig) -> AccessRules:
    a = config.access
    return AccessRules(
        identity=a.identity,
        activate_without_confirmation=a.activate_without_confirmation,
        self_registration=a.self_registration,
        session_idle_minutes=a.session_idle_minutes,
        session_absolute_hours=a.session_absolute_hours,
        lockout_failures=a.lockout_failures,
        lockout_minutes=a.lockout_minutes,
        reset_emails_per_hour=a.reset_emails_per_hour,
    )


def mail_templates(config: AgentConfig) -> MailTemplates:
    return MailTemplates(
        practice_name=config.practice.name,
        practice_phone=config.practice.phone,
        portal_url=config.portal.url,
    )


def build_access(
    config: AgentConfig, db: Database, clock: Clock, hasher: PasswordHasher | None = None
) -> AccessService:
    return AccessService(
        db, access_rules(config), hasher or PasswordHasher(), mail_templates(config), clock
    )


@dataclass
class Agent:
    """Everything `run` starts, so tests can run the same thing in-process."""

    config: AgentConfig
    db: Database
    server: LinkServer
    methods: AgentMethods
    outbox: OutboxWorker
    metrics: AgentMetrics
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
        booking = BookingService(
            db,
            booking_rules(config),
            ZoneInfo(practice.timezone),
            clock,
            phone=practice.phone,
        )
        access = build_access(config, db, clock, hasher)
        callers = SessionCallers(access)
        context = DomainContext(
            config=config,
            db=db,
            clock=clock,
            callers=callers,
            mail=mail_templates(config),
            zone=ZoneInfo(practice.timezone),
        )
        methods = AgentMethods(
            [
                practice_methods(context, booking, access),
                booking_methods(context, booking),
                access_methods(context, access),
                message_methods(context),
                form_methods(context),
                record_methods(context),
            ],
            phone=practice.phone,
            booking=booking,
            access=access,
        )

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
        outbox = OutboxWorker(
            db,
            sender_from_config(config.email),
            clock,
            prepare=[
                access.credentials.answer_reset_requests,
                # Expired links first: they no longer count towards an address's cap.
                access.registrations.forget_expired,
                access.registrations.answer_sign_ups,
            ],
        )
        return cls(config, db, server, methods, outbox, metrics)

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
        self.methods.access.hasher.close()
        await self.db.close()

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` without waiting for it (kept referenced until done; stop() waits)."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def apply_live_settings(self, config: AgentConfig) -> None:
        """Put reload.LIVE_SETTINGS of `config` into effect without dropping a link (a proxy
        whose pin or network was removed is told to go away)."""
        self.methods.booking.rules = booking_rules(config)
        self.methods.access.rules = access_rules(config)
        self.server.reconfigure(
            tls=self.server.tls.with_allowed_pins(config.tls.proxy_pins),
            allowed_networks=[str(n) for n in config.listen.proxy_networks()],
        )
        set_log_level(config.logging.level)
        self.config = config

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
                reload_from_file(agent, config_path)
            notifier.ready(status="serving")
        notifier.stopping(status="stopping: finishing requests in flight")
        log.info("agent.stopping")
    finally:
        await agent.stop()
        watchdog.cancel()
        signals.remove()
