"""The OpenEMR store on a pool whose default database is an EMPTY throwaway one, so any SQL of
the store that names an OpenEMR table without its database fails ("table doesn't exist"):
every store test is also a test that the store qualifies its table names."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from agent.clock import FixedClock
from agent.db import Database
from agent.openemr.store import OpenEMRSettings, OpenEMRStore
from tests.support.database import connect
from tests.support.openemr import OpenEMRDatabase

T = TypeVar("T")
NEW_YORK = ZoneInfo("America/New_York")  # EDT (-4) until 2026-11-01 02:00, EST (-5) after


@asynccontextmanager
async def openemr_store(
    db: OpenEMRDatabase, now: datetime, **settings: Any
) -> AsyncIterator[OpenEMRStore]:
    """OpenEMRStore(Tables.of(db's name), America/New_York, FixedClock(now)) on a pool whose
    default database is a new empty one; `settings` replace OpenEMRSettings fields."""
    server = db.server
    name = f"portico_empty_{secrets.token_hex(5)}"
    admin = connect(server.settings(""))
    with admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    pool = Database(server.settings(name))
    chosen = replace(OpenEMRSettings(tables=db.tables, zone=NEW_YORK), **settings)
    try:
        yield OpenEMRStore(pool, chosen, FixedClock(now))
    finally:
        await pool.close()
        admin = connect(server.settings(""))
        with admin, admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


async def read(store: OpenEMRStore, fn: Callable[..., T], *args: Any) -> T:
    """`fn(tx, *args)` in one store transaction."""
    return await store.transaction(fn, *args)
