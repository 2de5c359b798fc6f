"""One provider's November 2026 in an OpenEMR database, and the OpenEMR store on Portico's pool,
for the tests of what the store writes (test_store_writes*.py, test_store_concurrency*.py).

Dr. Grey (a `users` row whose own facility is 3) works every workday of November 2026 from
09:00 to 17:00 (In Office / Out Of Office series, written as the staff dialog writes them) at
facility 7. Patients 1001 and 1002 (pid) exist. New York time: EDT until 1 November 02:00,
EST after, so the clock (20 October) and the bookings (3 November) are on different offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from agent.clock import FixedClock
from agent.db import Database
from agent.openemr.store import OpenEMRSettings, OpenEMRStore
from agent.openemr.store.tables import Tables
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.portal import OpenEMRPortal
from tests.support.openemr.recurrspec import WORKDAY, every
from tests.support.openemr.rows import (
    IN_OFFICE,
    OUT_OF_OFFICE,
    add_event,
    add_patient,
    add_provider,
)

ZONE = ZoneInfo("America/New_York")
OFFICE_VISIT = 5  # default category: "Office Visit", 900 s
WORK_FACILITY = 7  # pc_facility of the In Office series
NOW = datetime(2026, 10, 20, 14, 5, 9, tzinfo=UTC)  # 10:05:09 EDT
PATIENT, OTHER_PATIENT = 1001, 1002


def minute(text: str) -> int:
    """'2026-11-03 15:30' (UTC) as an epoch minute."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) // 60


# Tuesday 3 November 2026, 10:30 EST = 15:30 UTC.
TUESDAY_1030 = minute("2026-11-03 15:30")


@dataclass
class Office:
    openemr: OpenEMRDatabase
    store: OpenEMRStore
    provider: int


def open_office(pair: OpenEMRPortal, **settings: object) -> Office:
    db = pair.openemr
    provider = add_provider(db, username="mgrey", fname="Meredith", lname="Grey")
    for category, start in ((IN_OFFICE, "9:00"), (OUT_OF_OFFICE, "17:00")):
        add_event(
            db,
            provider=provider,
            category=category,
            day="2026-11-02",
            start=start,
            repeat=every(1, WORKDAY),
            until="2026-11-30",
            facility=WORK_FACILITY,
        )
    add_patient(db, PATIENT, fname="Ada", lname="Lovelace")
    add_patient(db, OTHER_PATIENT, fname="Alan", lname="Turing")
    store = OpenEMRStore(
        Database(pair.portal),
        OpenEMRSettings(tables=Tables.of(db.settings.name), zone=ZONE, **settings),  # type: ignore[arg-type]
        FixedClock(NOW),
    )
    return Office(db, store, provider)


def active_rows(db: OpenEMRDatabase, provider: int) -> list[dict[str, object]]:
    """The provider's patient appointments whose status does not free the slot."""
    return db.query(
        "SELECT pc_eid, pc_pid, pc_eventDate, pc_startTime, pc_apptstatus"
        " FROM openemr_postcalendar_events WHERE pc_aid = %s AND pc_pid <> ''"
        " AND pc_apptstatus NOT IN ('x', '%%') ORDER BY pc_eid",
        (str(provider),),
    )


def event_count(db: OpenEMRDatabase) -> int:
    return int(db.query("SELECT COUNT(*) AS n FROM openemr_postcalendar_events")[0]["n"])
