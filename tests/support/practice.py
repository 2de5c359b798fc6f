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
from protocol.aio import LinkClient
from protocol.tls import client_config
from tests.support.database import connect, execute, query

TIMEZONE = "America/New_York"
# Monday 2026-11-23, 07:00 in New York.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FOLLOW_UP, NEW_PATIENT = 1, 2  # 30 and 60 minutes
DR_ADAMS, DR_BAKER = 1, 2
PATIENTS = 60
SMALL_PRACTICE_EMAIL = "pat{n}@example.org"


class SmallPractice:
    """The small practice as one practice system holds it: its ids, and how a test reads and
    writes the practice's own data there. The same people, providers, types and hours in every
    system (tests/support/openemr/practice.py is the OpenEMR twin), under different ids, so a
    test written against this object runs the same assertions on each.

    `settings` is where Portico's own tables are (portal_*): the test's own queries of them go
    there. Appointments read back as the same rows whatever the system: `appointments()`."""

    system = "portico"
    FOLLOW_UP, NEW_PATIENT = FOLLOW_UP, NEW_PATIENT
    DR_ADAMS, DR_BAKER = DR_ADAMS, DR_BAKER

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings

    def patient(self, n: int) -> int:
        """The id of the practice's patient number `n` (1..PATIENTS): Pat<n> Example."""
        assert 1 <= n <= PATIENTS, n
        return n

    def number(self, patient_id: int) -> int:
        """The inverse of patient(): which of the 60 patients has this id."""
        return patient_id

    def email_of(self, patient_id: int) -> str:
        return SMALL_PRACTICE_EMAIL.format(n=self.number(patient_id))

    def config_data(self, keys: Path, **booking: Any) -> dict[str, Any]:
        """agent.yaml as data for an agent on this practice."""
        return agent_config_data(self.settings, keys, **booking)

    def appointments(self, *columns: str, **where: Any) -> list[dict[str, Any]]:
        """The practice's appointments in id order, as Portico's schema words them: id,
        patient_id, provider_id, type_id, starts_at and ends_at (naive UTC), status (booked,
        cancelled, ...), late_cancel (0/1), source (portal/office); only `columns` (all when
        none), only rows whose values equal `where`'s."""
        rows = [row for row in self._appointments() if all(row[k] == v for k, v in where.items())]
        return [{c: row[c] for c in columns} if columns else row for row in rows]

    def _appointments(self) -> list[dict[str, Any]]:
        return query(
            self.settings,
            "SELECT id, patient_id, provider_id, appointment_type_id AS type_id, starts_at,"
            " ends_at, status, late_cancel, source FROM appointments ORDER BY id",
        )

    def patient_row(self, patient_id: int) -> list[dict[str, Any]]:
        """The patient's row in the practice system's own table, every column (a test checks
        it is left as it was)."""
        return query(self.settings, "SELECT * FROM patients WHERE id = %s", (patient_id,))

    def add_office_appointment(
        self, patient_id: int, provider_id: int, type_id: int, starts_at: datetime
    ) -> None:
        """An appointment the office books (not through the portal), at `starts_at` (aware),
        for the type's duration."""
        minutes = {FOLLOW_UP: 30, NEW_PATIENT: 60}[type_id]
        start = starts_at.astimezone(UTC).replace(tzinfo=None)
        execute(
            self.settings,
            "INSERT INTO appointments (patient_id, provider_id, appointment_type_id,"
            " starts_at, ends_at, source) VALUES (%s, %s, %s, %s, %s, 'office')",
            (patient_id, provider_id, type_id, start, start + timedelta(minutes=minutes)),
        )

    def set_portal_allowed(self, patient_id: int, allowed: bool) -> None:
        """Straight SQL, behind the agent's back: the switch that says whether the patient may
        use the portal. Portico's practice schema has none of its own, so here it is the
        account's `access_enabled` (what `access disable` sets, without ending sessions)."""
        execute(
            self.settings,
            "UPDATE portal_accounts SET access_enabled = %s WHERE patient_id = %s",
            (int(allowed), patient_id),
        )


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


def signed_in_session(connection: Any, email: str, patient: int, now: datetime) -> str:
    """A session token for ``patient`` as of ``now``, written straight into Portico's tables
    (an active, enabled account is made first if the patient has none)."""
    with connection, connection.cursor() as cursor:
        # Portico's own table only: the practice's data may be in another database.
        cursor.execute("SELECT id FROM portal_accounts WHERE patient_id = %s", (patient,))
        account = cursor.fetchone()
        if account is None:
            account_id = queries.create_account(
                cursor,
                patient_id=patient,
                email=email,
                login_email=email,
                username=None,
                status="active",
                access_enabled=True,
                now=now,
            )
        else:
            account_id = account["id"]
        token, _ = queries.create_session(cursor, account_id, now, timedelta(hours=12), "127.0.0.1")
    return str(token)


async def link_to_agent(agent: Agent, keys: Path, tenant: str = "example-clinic") -> LinkClient:
    """A link to an in-process agent listening on its port, as the test proxy opens it."""
    return await LinkClient.connect(
        "127.0.0.1",
        agent.server.port,
        tls=client_config(
            keys / "proxy" / "key.pem",
            keys / "proxy" / "cert.pem",
            [(keys / "agent.pin").read_text()],
        ),
        tenant=tenant,
        requester_id="test-proxy",
    )


@dataclass
class RunningPractice:
    agent: Agent
    client: LinkClient
    clock: FixedClock
    settings: DatabaseSettings  # where the test itself reads and writes (never via a relay)
    sessions: dict[int, str] = field(default_factory=dict)
    small: SmallPractice | None = None  # the practice's ids and data, when the test gave one

    @property
    def ids(self) -> SmallPractice:
        """The practice served: its ids (`ids.FOLLOW_UP`, `ids.patient(n)`) and data."""
        return self.small or SmallPractice(self.settings)

    def session_for(self, patient: int) -> str:
        """A signed-in session for the patient, made the way sign-in makes one (an active,
        enabled account and a session row), without spending an argon2 hash per patient."""
        if patient not in self.sessions:
            self.sessions[patient] = signed_in_session(
                self.connect(), self.ids.email_of(patient), patient, self.clock.now()
            )
        return self.sessions[patient]

    def set_clock(self, now: datetime) -> None:
        """Move time; sessions made earlier may have expired, so new ones are made."""
        self.clock.set(now)
        self.sessions.clear()

    async def call(self, method: str, patient: int | None = 0, **params: Any) -> Any:
        """`method` as `patient` (default: the practice's first patient; None: signed out)."""
        if patient == 0:
            patient = self.ids.patient(1)
        session = None if patient is None else self.session_for(patient)
        return await self.client.request(method, params, session=session, deadline=20)

    def connect(self) -> Any:
        return connect(self.settings, dict_rows=True)

    def query(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        return query(self.settings, sql, args)

    def appointments(self, *columns: str, **where: Any) -> list[dict[str, Any]]:
        """SmallPractice.appointments of the practice this agent serves."""
        return self.ids.appointments(*columns, **where)


@asynccontextmanager
async def running_practice(
    settings: DatabaseSettings | SmallPractice,
    keys: Path,
    *,
    now: datetime = NOW,
    direct: DatabaseSettings | None = None,
    **booking: Any,
) -> AsyncIterator[RunningPractice]:
    """An agent using `settings` (or serving a SmallPractice, in its system); the test's own
    queries go to `direct` (default: the same), because a blocking query through a relay on the
    test's event loop would deadlock."""
    clock = FixedClock(now)
    small = settings if isinstance(settings, SmallPractice) else None
    if isinstance(settings, SmallPractice):
        config = AgentConfig.model_validate(settings.config_data(keys, **booking))
        settings = settings.settings
    else:
        config = agent_config(settings, keys, **booking)
    agent = Agent.build(config, clock=clock, hasher=cheap_hasher())
    await agent.start(port=0)
    client = await link_to_agent(agent, keys)
    try:
        yield RunningPractice(agent, client, clock, direct or settings, small=small)
    finally:
        await client.close()
        await agent.stop(grace=5)
