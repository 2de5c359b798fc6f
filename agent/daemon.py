"""`portico-agent run`: serve the link on port 1234 until SIGTERM, then drain and stop."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from agent import __version__
from agent.booking.service import BookingRules, BookingService
from agent.clock import Clock, SystemClock
from agent.config import AgentConfig
from agent.db import Database, DatabaseSettings
from agent.rpc import AgentMethods, DevPatientSessions, NoPatientSessions, PracticeInfo
from protocol.aio import LinkError, LinkServer
from protocol.errors import ErrorCode
from protocol.events import HelloReceived
from protocol.tls import server_config

log = structlog.get_logger("portico.agent")


class UnsafeDevMode(Exception):
    """--dev-patient-sessions asked for where it could be reached from outside."""


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


def check_dev_mode_is_local(config: AgentConfig) -> None:
    """Development patient sessions let any pinned proxy act as any patient: only ever on a
    machine where both ends are loopback."""
    host = config.listen.host
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise UnsafeDevMode(f"listen.host is {host}; dev patient sessions need 127.0.0.1")
    for network in config.listen.proxy_networks():
        if not network.is_loopback:
            raise UnsafeDevMode(
                f"listen.allowed_proxies contains {network}; dev patient sessions need "
                "loopback-only proxies"
            )


@dataclass
class Agent:
    """Everything `run` starts, so tests can run the same thing in-process."""

    config: AgentConfig
    db: Database
    server: LinkServer
    methods: AgentMethods

    @classmethod
    def build(
        cls, config: AgentConfig, *, clock: Clock | None = None, dev_patient_sessions: bool = False
    ) -> Agent:
        if dev_patient_sessions:
            check_dev_mode_is_local(config)
        db = Database(database_settings(config))
        practice = config.practice
        booking = BookingService(
            db, booking_rules(config), ZoneInfo(practice.timezone), clock or SystemClock(),
            phone=practice.phone,
        )
        methods = AgentMethods(
            PracticeInfo(practice.name, practice.phone, practice.timezone),
            booking,
            DevPatientSessions() if dev_patient_sessions else NoPatientSessions(),
        )

        def on_hello(hello: HelloReceived) -> dict[str, Any]:
            if hello.tenant.lower() != practice.subdomain:
                raise LinkError(ErrorCode.FORBIDDEN, "this agent serves another practice")
            return {"name": practice.name, "phone": practice.phone, "timezone": practice.timezone}

        server = LinkServer(
            methods,
            tls=server_config(config.tls.key_file, config.tls.cert_file, config.tls.proxy_pins),
            on_hello=on_hello,
            agent_version=__version__,
            allowed_networks=[str(n) for n in config.listen.proxy_networks()],
        )
        return cls(config, db, server, methods)

    async def start(self, port: int | None = None) -> None:
        listen = self.config.listen
        await self.server.start(listen.host, listen.port if port is None else port)
        log.info("agent.listening", host=listen.host, port=self.server.port)

    async def stop(self, grace: float = 20.0) -> None:
        await self.server.close(grace=grace)
        await self.db.close()


async def run(config: AgentConfig, *, dev_patient_sessions: bool = False) -> None:
    agent = Agent.build(config, dev_patient_sessions=dev_patient_sessions)
    if dev_patient_sessions:
        log.warning("agent.dev_patient_sessions", note="development only: never in production")
    await agent.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("agent.stopping")
    await agent.stop()
