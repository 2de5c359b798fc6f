"""The staff CLI's office: the small practice made untidy, a config file pointing at a real
SMTP relay, and a way to deliver what the commands queued (through the agent's own outbox).
Shared by the staff command tests (tests/agent/access/test_access_staff_cli.py,
test_fix_staff_*)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agent.cli import main
from agent.clock import FixedClock
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import access_config, config_dict, email_of
from tests.support.database import execute
from tests.support.practice import cheap_hasher, write_config_file
from tests.support.smtp import RecordingHandler, mail_relay

T = TypeVar("T")
SHARED_RAW = ("Ann.Lee@Example.org ", "ann.lee@example.org")  # patients 2 and 3
NO_EMAIL, NO_ZIP, ACTIVE, BAD_EMAIL = 4, 5, 6, 7


@dataclass
class Office:
    settings: DatabaseSettings
    keys: Path
    config: str
    relay: RecordingHandler
    port: int

    def run(self, *argv: str) -> int:
        return main([*argv, "--config", self.config])

    def _with_agent(self, work: Callable[[Agent], Awaitable[T]]) -> T:
        """`work` done by the agent `portico-agent run` builds, on this office's config."""

        async def run() -> T:
            # The CLI stamps mail with the system clock; the agent's clock is a minute later.
            clock = FixedClock(datetime.now(UTC) + timedelta(minutes=1))
            config = access_config(self.settings, self.keys, self.port)
            agent = Agent.build(config, clock=clock, hasher=cheap_hasher())
            try:
                return await work(agent)
            finally:
                agent.access.hasher.close()
                await agent.db.close()

        return asyncio.run(run())

    def deliver(self) -> list[list[str]]:
        """Send what the CLI queued, through the agent's outbox; the recipients received."""

        async def send_all(agent: Agent) -> None:
            while await agent.outbox.run_once():
                pass

        before = len(self.relay.received)
        self._with_agent(send_all)
        return [message.rcpt_tos for message in self.relay.received[before:]]

    def confirm_email_change(self, token: str) -> dict[str, Any]:
        """What the agent does when the patient opens the emailed confirmation link."""

        async def redeem(agent: Agent) -> dict[str, Any]:
            return await agent.access.credentials.confirm_email_change(token, "203.0.113.9")

        return self._with_agent(redeem)


@pytest.fixture
def office(practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path) -> Iterator[Office]:
    """The small practice, made untidy: a shared (differently typed) email, a patient with no
    email, one with no zip, one with an active account, one with an unusable address."""
    settings = practice_db
    for patient, raw in zip((2, 3), SHARED_RAW, strict=True):
        execute(settings, "UPDATE patients SET email = %s WHERE id = %s", (raw, patient))
    execute(settings, "UPDATE patients SET email = NULL WHERE id = %s", (NO_EMAIL,))
    execute(settings, "UPDATE patients SET home_zip = NULL WHERE id = %s", (NO_ZIP,))
    execute(settings, "UPDATE patients SET email = 'not-an-address' WHERE id = %s", (BAD_EMAIL,))
    execute(
        settings,
        "INSERT INTO portal_accounts (patient_id, email, login_email, status, access_enabled,"
        " created_at) VALUES (%s, %s, %s, 'active', 1, '2026-01-01')",
        (ACTIVE, email_of(ACTIVE), email_of(ACTIVE)),
    )
    with mail_relay() as (handler, port):
        path = write_config_file(
            tmp_path / "agent.yaml",
            config_dict(settings, link_keys, port, access={"activate_without_confirmation": True}),
        )
        yield Office(settings, link_keys, path, handler, port)
