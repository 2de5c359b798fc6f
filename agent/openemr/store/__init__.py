"""The practice store over an unmodified OpenEMR database (docs/openemr.md).

OpenEMR's tables live in the practice database (`database.name`); Portico's own ``portal_*``
tables in another database on the same server (`database.portal_name`), which is the pool's
default database. Every OpenEMR table is therefore named with its database
(:class:`~agent.openemr.store.tables.Tables`), and one transaction spans both databases, so a
booking row and its audit row commit together.

The SQL is split by area: ``schedule.py`` (booking reads), ``changes.py`` (locks and the rows
Portico writes), ``patients.py`` (identity, portal permission), ``charts.py`` (clinical
records), ``lookups.py`` (what messages and forms look up). :class:`OpenEMRStore` is the one
object agent/wiring.py builds from them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from agent.clock import Clock, SystemClock
from agent.db import Database
from agent.errors import Refused
from agent.openemr.store import locks
from agent.openemr.store.changes import OpenEMRChanges
from agent.openemr.store.charts import OpenEMRCharts
from agent.openemr.store.lookups import OpenEMRLookups
from agent.openemr.store.patients import OpenEMRPatients
from agent.openemr.store.schedule import OpenEMRSchedule
from agent.openemr.store.settings import OpenEMRSettings
from protocol.errors import ErrorCode

T = TypeVar("T")

CALENDAR_BUSY = "The office's calendar is busy right now. Please try again in a moment."

__all__ = ["OpenEMRSettings", "OpenEMRStore"]


class OpenEMRStore(OpenEMRSchedule, OpenEMRChanges, OpenEMRPatients, OpenEMRCharts, OpenEMRLookups):
    """:class:`agent.store.base.PracticeStore` over OpenEMR's tables, on the agent's pool."""

    def __init__(self, db: Database, settings: OpenEMRSettings, clock: Clock | None = None) -> None:
        self.db = db
        self.settings = settings
        self.tables = settings.tables
        # "Today" for the providers still working and "now" for what has ended in a chart.
        self.clock: Clock = clock or SystemClock()

    async def transaction(self, fn: Callable[..., T], *args: Any) -> T:
        """The pool's transaction; the named locks it took are released after it ends, on its
        connection (locks.py). A lock not granted in time refuses like any busy service."""
        try:
            return await self.db.transaction(fn, *args, after=locks.release)
        except locks.LockTimeout:
            raise Refused(ErrorCode.BUSY, CALENDAR_BUSY) from None
