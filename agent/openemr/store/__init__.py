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
from agent.openemr.store import locks
from agent.openemr.store.changes import OpenEMRChanges
from agent.openemr.store.charts import OpenEMRCharts
from agent.openemr.store.lookups import OpenEMRLookups
from agent.openemr.store.patients import OpenEMRPatients
from agent.openemr.store.schedule import OpenEMRSchedule
from agent.openemr.store.settings import OpenEMRSettings

T = TypeVar("T")

__all__ = ["OpenEMRSettings", "OpenEMRStore"]


class OpenEMRStore(OpenEMRSchedule, OpenEMRChanges, OpenEMRPatients, OpenEMRCharts, OpenEMRLookups):
    """:class:`agent.store.base.PracticeStore` over OpenEMR's tables, on the agent's pool."""

    def __init__(self, db: Database, settings: OpenEMRSettings, clock: Clock | None = None) -> None:
        self.db = db
        self.settings = settings
        self.tables = settings.tables
        # "Today" for the providers still working and "now" for what has ended in a chart.
        self.clock: Clock = clock or SystemClock()
        # GET_LOCK waits inside a query: it must give up before the driver's read timeout
        # would (that reads as "database unavailable" and drops the connection).
        self.lock_wait_seconds = max(1, min(locks.WAIT_SECONDS, int(db.settings.read_timeout) - 2))
        db.after_every_transaction(locks.release)

    async def transaction(self, fn: Callable[..., T], *args: Any) -> T:
        """The pool's transaction. The named locks it took are released after it ends, on its
        connection, by the hook registered in __init__ (so also for the services that open
        their transaction on the pool itself); a lock not granted in time is a BUSY refusal
        (locks.LockTimeout)."""
        return await self.db.transaction(fn, *args)
