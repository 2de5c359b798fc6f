from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.cli import main
from agent.db.pool import DatabaseSettings
from tests.support.database import execute, query
from tests.support.practice import (
    RunningPractice,
    agent_config_data,
    running_practice,
    write_config_file,
)


@pytest.fixture
async def practice(
    practice_db: DatabaseSettings, link_keys: Path
) -> AsyncIterator[RunningPractice]:
    """The small practice's agent over a real link (patients 1..60, FixedClock at NOW)."""
    async with running_practice(practice_db, link_keys) as running:
        yield running


@dataclass
class Office:
    """The small practice's database and an agent.yaml pointing at it, for the staff CLI."""

    settings: DatabaseSettings
    config: str
    folder: Path

    def run(self, *argv: str) -> int:
        return main(["forms", *argv, "--config", self.config])

    def query(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        return query(self.settings, sql, args)

    def write(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def book(self, patient_id: int, type_id: int, starts_in: timedelta) -> None:
        """A booked appointment of the type, starting that long after the real now (the CLI
        runs on the system clock)."""
        start = (datetime.now(UTC) + starts_in).replace(tzinfo=None, microsecond=0)
        execute(
            self.settings,
            "INSERT INTO appointments (patient_id, provider_id, appointment_type_id, starts_at,"
            " ends_at) VALUES (%s, 1, %s, %s, %s)",
            (patient_id, type_id, start, start + timedelta(minutes=30)),
        )

    def staff_audit(self) -> list[tuple[Any, ...]]:
        rows = self.query(
            "SELECT patient_id, action, outcome, detail FROM portal_audit"
            " WHERE actor LIKE 'staff:%%' ORDER BY id"
        )
        return [tuple(row.values()) for row in rows]


@pytest.fixture
def office(practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path) -> Office:
    config = write_config_file(tmp_path / "agent.yaml", agent_config_data(practice_db, link_keys))
    return Office(practice_db, config, tmp_path)
