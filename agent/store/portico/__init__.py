"""The practice store over Portico's own practice schema (docs/schema.md): the default, and
what the demo seeds.

Its SQL is split by area (``booking.py``, ``patients.py``, ``records.py``, ``lookups.py``);
:class:`PorticoStore` is the one object agent/wiring.py builds from them. Practice tables and
Portico's ``portal_*`` tables are in one database here, so a transaction is simply the pool's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from agent.db import Database
from agent.store.portico.booking import PorticoBooking
from agent.store.portico.lookups import PorticoLookups
from agent.store.portico.patients import PorticoPatients
from agent.store.portico.records import PorticoRecords

T = TypeVar("T")


class PorticoStore(PorticoBooking, PorticoPatients, PorticoRecords, PorticoLookups):
    """:class:`agent.store.base.PracticeStore` over Portico's schema, on the agent's pool."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def transaction(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.db.transaction(fn, *args)
