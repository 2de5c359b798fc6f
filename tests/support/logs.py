"""Log capture for tests: what `configure_logging` writes, parsed back into dicts.

Portico logs JSON lines (structlog); a test reads them as records to check what was logged and
that nothing a patient typed was.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import structlog

from protocol.service.logs import configure_logging

# Upper bound for a log line that should appear "soon": generous, so a slow CI box never fails.
PATIENCE = 5.0


class LogCapture:
    """The JSON lines configure_logging writes, parsed back into dicts."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def records(self, event: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        found = []
        for line in self.stream.getvalue().splitlines():
            record = json.loads(line)
            if event is not None and record.get("event") != event:
                continue
            if all(record.get(key) == value for key, value in fields.items()):
                found.append(record)
        return found

    async def wait_for(self, event: str, **fields: Any) -> dict[str, Any]:
        """The first matching record, waiting for it if the other side has not logged it yet."""
        async with asyncio.timeout(PATIENCE):
            while not (found := self.records(event, **fields)):
                await asyncio.sleep(0.01)
        return found[0]


@contextlib.contextmanager
def captured_logs() -> Iterator[LogCapture]:
    """Route logs to a buffer as JSON; put back the previous structlog and root-logger setup."""
    capture = LogCapture()
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("debug", stream=capture.stream)
    try:
        yield capture
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        structlog.configure(**saved)
