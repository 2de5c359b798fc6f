"""A running agent that mails appointment changes to a real SMTP server (aiosmtpd), in a
practice zone of the test's choosing, and helpers to read the calendar files it sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event

from agent.clock import FixedClock
from agent.config import AgentConfig
from agent.daemon import Agent
from protocol.aio import LinkClient
from tests.agent.access_fixtures import config_dict, outbox_drained
from tests.support.database import connect, execute
from tests.support.practice import SmallPractice, cheap_hasher, link_to_agent, signed_in_session
from tests.support.smtp import Received, RecordingHandler

CANARY = "CANARY-7f3a diabetes mellitus note"


@dataclass
class MailingPractice:
    agent: Agent
    client: LinkClient
    clock: FixedClock
    small: SmallPractice
    relay: RecordingHandler
    seen: int = 0

    async def call(self, method: str, patient: int = 1, **params: Any) -> Any:
        session = signed_in_session(
            self.small_connection(),
            self.small.email_of(self.small.patient(patient)),
            self.small.patient(patient),
            self.clock.now(),
        )
        return await self.client.request(method, params, session=session, deadline=30)

    def small_connection(self) -> Any:
        return connect(self.small.settings, dict_rows=True)

    async def deliver(self) -> list[Received]:
        """Send all due mail; the messages received since the last deliver()."""
        await outbox_drained(self.agent, self.small.settings)
        received = self.relay.received
        new, self.seen = received[self.seen :], len(received)
        return new


@asynccontextmanager
async def mailing_practice(
    small: SmallPractice,
    keys: Path,
    relay: tuple[RecordingHandler, int],
    *,
    now: datetime,
    timezone: str = "America/New_York",
    details: str = "date_time",
) -> AsyncIterator[MailingPractice]:
    handler, port = relay
    data = config_dict(small, keys, port)
    data["practice"]["timezone"] = timezone
    data["email"]["appointment_details"] = details
    clock = FixedClock(now)
    agent = Agent.build(AgentConfig.model_validate(data), clock=clock, hasher=cheap_hasher())
    await agent.start(port=0)
    try:
        client = await link_to_agent(agent, keys)
        try:
            yield MailingPractice(agent, client, clock, small, handler, len(handler.received))
        finally:
            await client.close()
    finally:
        await agent.stop(grace=5)


def calendar_of(message: Received) -> tuple[Calendar, str]:
    """The one calendar file attached to `message`, parsed, and its Content-Type's method."""
    parts = [
        p for p in message.message.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    assert len(parts) == 1, [p.get_content_type() for p in message.message.iter_attachments()]
    (part,) = parts
    assert part.get_filename() == "appointment.ics"
    return Calendar.from_ical(part.get_content()), str(part.get_param("method"))


def the_event(calendar: Calendar) -> Event:
    (event,) = calendar.events
    return event


def plant_canaries(small: SmallPractice) -> None:
    """CANARY text where the practice keeps what an appointment email must never say: the
    notes of every appointment row (OpenEMR's pc_hometext), and for Portico's own schema,
    whose appointments have no notes column, a visit reason and summary and a diagnosis."""
    if small.system == "openemr":
        db = small.db  # type: ignore[attr-defined]
        connection = db.connect()
        with connection, connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {db.tables.events} SET pc_hometext = %s WHERE pc_pid <> ''", (CANARY,)
            )
        return
    for patient in (1, 2):
        execute(
            small.settings,
            "INSERT INTO encounters (patient_id, provider_id, started_at, reason, summary)"
            " VALUES (%s, 1, '2026-01-10 15:00:00', %s, %s)",
            (patient, CANARY, CANARY),
        )
        execute(
            small.settings,
            "INSERT INTO patient_problems (patient_id, description, note) VALUES (%s, %s, %s)",
            (patient, CANARY, CANARY),
        )
