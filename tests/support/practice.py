"""A small, fixed practice in a fresh database, served by a real agent over a real link.

Each test gets its own database (migrated with the real migrations) and its own agent on a
loopback port, with a FixedClock so "now" is whatever the test says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from agent.access import queries
from agent.access.passwords import PasswordHasher
from agent.clock import FixedClock
from agent.config import AgentConfig
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from agent.store.portico.patients import PorticoPatients
from protocol.aio import LinkClient
from protocol.tls import client_config
from tests.support.database import connect, query

TIMEZONE = "America/New_York"
# Monday 2026-11-23, 07:00 in New York.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FOLLOW_UP, NEW_PATIENT = 1, 2  # 30 and 60 minutes
DR_ADAMS, DR_BAKER = 1, 2
PATIENTS = 60


def seed_small_practice(settings: DatabaseSettings) -> None:
    connection = connect(settings)
    with connection, connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO providers (id, display_name) VALUES (%s, %s)",
            [(DR_ADAMS, "Dr. Adams"), (DR_BAKER, "Dr. Baker")],
        )
        cursor.executemany(
            "INSERT INTO appointment_types (id, name, duration_minutes) VALUES (%s, %s, %s)",
            [(FOLLOW_UP, "Follow-up", 30), (NEW_PATIENT, "New patient visit", 60)],
        )
        cursor.executemany(
            "INSERT INTO provider_appointment_types VALUES (%s, %s)",
            [(p, t) for p in (DR_ADAMS, DR_BAKER) for t in (FOLLOW_UP, NEW_PATIENT)],
        )
        cursor.executemany(
            "INSERT INTO provider_hours (provider_id, weekday, start_time, end_time)"
            " VALUES (%s, %s, '09:00', '17:00')",
            [(p, day) for p in (DR_ADAMS, DR_BAKER) for day in range(5)],
        )
        cursor.executemany(
            "INSERT INTO patients (id, first_name, last_name, date_of_birth, email, home_zip)"
            " VALUES (%s, %s, %s, '1970-01-01', %s, '10001')",
            [(i, f"Pat{i}", "Example", f"pat{i}@example.org") for i in range(1, PATIENTS + 1)],
        )


def agent_config_data(settings: DatabaseSettings, keys: Path, **booking: Any) -> dict[str, Any]:
    """The small practice's agent.yaml as data; tests add or replace sections."""
    return {
        "practice": {
            "name": "Example Family Clinic",
            "phone": "+1 555 0100",
            "timezone": TIMEZONE,
            "subdomain": "example-clinic",
        },
        "listen": {"host": "127.0.0.1", "port": 1234, "allowed_proxies": ["127.0.0.0/8"]},
        "tls": {
            "key_file": str(keys / "agent" / "key.pem"),
            "cert_file": str(keys / "agent" / "cert.pem"),
            "proxy_pins": [(keys / "proxy.pin").read_text()],
        },
        "database": {
            "host": settings.host,
            "port": settings.port,
            "name": settings.name,
            "user": settings.user,
            "password": settings.password,
            "pool_size": 8,
            "connect_timeout_seconds": 2,
            "read_timeout_seconds": 5,
            "write_timeout_seconds": 5,
        },
        "booking": {
            "horizon_days": 30,
            "min_notice_hours": 24,
            "cancel_cutoff_hours": 24,
            **booking,
        },
        "portal": {"url": "http://example-clinic.localhost:8080"},
        # Mail goes to a folder of the test run, never to /var/lib/portico/outbox.
        "email": {"mode": "folder", "outbox_dir": str(keys / "outbox")},
        # Off unless a test asks: many agents run at once here and cannot all have port 9123.
        "metrics": {"enabled": False},
    }


def write_config_file(path: Path, config: dict[str, Any]) -> str:
    """The YAML file `portico-agent` reads (`--config`)."""
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def agent_config(settings: DatabaseSettings, keys: Path, **booking: Any) -> AgentConfig:
    return AgentConfig.model_validate(agent_config_data(settings, keys, **booking))


def cheap_hasher() -> PasswordHasher:
    """argon2id with cheap parameters: these tests are about other things. The production
    parameters are tested in tests/agent/access."""
    return PasswordHasher(time_cost=1, memory_cost_kib=1024, allow_weak_for_tests=True)


@dataclass
class RunningPractice:
    agent: Agent
    client: LinkClient
    clock: FixedClock
    settings: DatabaseSettings  # where the test itself reads and writes (never via a relay)
    sessions: dict[int, str] = field(default_factory=dict)

    def session_for(self, patient: int) -> str:
        """A signed-in session for the patient, made the way sign-in makes one (an active,
        enabled account and a session row), without spending an argon2 hash per patient."""
        if patient not in self.sessions:
            connection = self.connect()
            with connection, connection.cursor() as cursor:
                account = queries.account_by(cursor, PorticoPatients(), "a.patient_id", patient)
                if account is None:
                    account_id = queries.create_account(
                        cursor,
                        patient_id=patient,
                        email=f"pat{patient}@example.org",
                        login_email=f"pat{patient}@example.org",
                        username=None,
                        status="active",
                        access_enabled=True,
                        now=self.clock.now(),
                    )
                else:
                    account_id = account["id"]
                token, _ = queries.create_session(
                    cursor, account_id, self.clock.now(), timedelta(hours=12), "127.0.0.1"
                )
            self.sessions[patient] = token
        return self.sessions[patient]

    def set_clock(self, now: datetime) -> None:
        """Move time; sessions made earlier may have expired, so new ones are made."""
        self.clock.set(now)
        self.sessions.clear()

    async def call(self, method: str, patient: int | None = 1, **params: Any) -> Any:
        session = None if patient is None else self.session_for(patient)
        return await self.client.request(method, params, session=session, deadline=20)

    def connect(self) -> Any:
        return connect(self.settings, dict_rows=True)

    def query(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        return query(self.settings, sql, args)


@asynccontextmanager
async def running_practice(
    settings: DatabaseSettings,
    keys: Path,
    *,
    now: datetime = NOW,
    direct: DatabaseSettings | None = None,
    **booking: Any,
) -> AsyncIterator[RunningPractice]:
    """An agent using `settings`; the test's own queries go to `direct` (default: the same),
    because a blocking query through a relay on the test's event loop would deadlock."""
    clock = FixedClock(now)
    config = agent_config(settings, keys, **booking)
    agent = Agent.build(config, clock=clock, hasher=cheap_hasher())
    await agent.start(port=0)
    client = await LinkClient.connect(
        "127.0.0.1",
        agent.server.port,
        tls=client_config(
            keys / "proxy" / "key.pem",
            keys / "proxy" / "cert.pem",
            [(keys / "agent.pin").read_text()],
        ),
        tenant="example-clinic",
        requester_id="test-proxy",
    )
    try:
        yield RunningPractice(agent, client, clock, direct or settings)
    finally:
        await client.close()
        await agent.stop(grace=5)
