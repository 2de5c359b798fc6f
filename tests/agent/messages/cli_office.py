"""The staff CLI against the small practice: `portico-agent messages ...` run through
agent.cli.main with a written agent.yaml, as office staff run it on the practice server."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.caller import Caller
from agent.cli import main
from agent.clock import FixedClock
from agent.db import Database
from agent.db.pool import DatabaseSettings
from agent.messages.service import MessageService
from agent.store.portico import PorticoStore
from tests.support.database import query
from tests.support.practice import NOW, TIMEZONE, agent_config_data, write_config_file

STAFF = f"staff:{getpass.getuser()}"


@dataclass
class CliOffice:
    settings: DatabaseSettings
    config: str
    files: Path

    def run(self, *argv: str) -> int:
        return main([*argv, "--config", self.config])

    def file(self, name: str, data: bytes | str) -> str:
        path = self.files / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return str(path)

    def query(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        return query(self.settings, sql, args)

    def patient_replies(self, patient: int, thread_id: int, body: str) -> int:
        """The patient answers, through the service the link method calls; the message id."""
        answer = self._as_patient(lambda s: s.reply(Caller(patient), thread_id, body, None))
        return int(answer["message_id"])

    def patient_starts(self, patient: int, topic: str, subject: str, body: str) -> int:
        """The patient starts a conversation, through the service the link method calls;
        the thread id."""
        answer = self._as_patient(
            lambda s: s.start(Caller(patient), topic=topic, subject=subject, body=body)
        )
        return int(answer["thread_id"])

    def _as_patient(
        self, act: Callable[[MessageService], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            db = Database(self.settings)
            service = MessageService(
                db,
                FixedClock(NOW),
                ZoneInfo(TIMEZONE),
                practice_name="x",
                notice=None,
                lookups=PorticoStore(db),
            )
            try:
                return await act(service)
            finally:
                await db.close()

        return asyncio.run(run())


def cli_office(settings: DatabaseSettings, keys: Path, tmp_path: Path) -> CliOffice:
    files = tmp_path / "files"
    files.mkdir()
    config = write_config_file(tmp_path / "agent.yaml", agent_config_data(settings, keys))
    return CliOffice(settings, config, files)
