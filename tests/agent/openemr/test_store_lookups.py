"""What messages and forms look up in OpenEMR (agent/openemr/store/lookups.py), and messages and
forms working on an OpenEMR practice: names from `patient_data`, appointment types from the
categories, "patients booked for a type" from the calendar, in the practice's zone. Both
sql_modes; expected values written by hand from README sections 2.1, 2.4 and 2.5.

The calendar below (America/New_York, EST = UTC-5 in late November 2026):

    pid 1  Office Visit  Tue 2026-11-24 09:00 '-'  = 14:00 UTC  counted
    pid 1  Office Visit  Thu 2026-11-26 10:00 '@'               counted (once)
    pid 2  Office Visit  Tue 2026-11-24 09:00 'x'  cancelled
    pid 3  Office Visit  Tue 2026-11-24 09:00 '?'  no show
    pid 4  New Patient   Tue 2026-11-24 09:00 '-'  another type
    pid 5  Office Visit  Mon 2026-11-23 09:00 '-'  before the range
    pid 6  Office Visit  Wed 2026-11-25 16:30 '^'  counted (pending: OpenEMR's portal booking)
    pid 7  Office Visit  Mon 2026-11-30 08:00 '-'  = 13:00 UTC, the range's end: out
    '07'   Office Visit  Wed 2026-11-25 10:00 '-'  not how OpenEMR writes pid 7: nobody
    pid 99 Office Visit  Wed 2026-11-25 11:00 '-'  no such patient
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.booking.slots import to_minute
from agent.clock import FixedClock
from agent.db import Database
from agent.forms.definition import parse_definition
from agent.forms.service import FormService
from agent.messages.office import OfficeMessage
from agent.messages.rules import MessageRefused
from agent.messages.service import MessageService
from agent.openemr.store import OpenEMRStore
from agent.store.base import PatientName
from agent.wiring import database_settings, openemr_settings
from tests.agent.forms.seeding import CHECKUP
from tests.support.openemr.portal import OpenEMRPortal
from tests.support.openemr.rows import ADMIN, add_category, add_event, add_patient
from tests.support.practice import TIMEZONE

OFFICE_VISIT, NEW_PATIENT = 5, 10  # default categories (README 2.4)
START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tue 09:00 in New York
END = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # Mon 08:00 in New York


def seed(pair: OpenEMRPortal) -> None:
    db = pair.openemr
    for pid, fname in enumerate(
        ["Ada", "Grace", "Edsger", "Barbara", "Alan", "Frances", "Niklaus"]
    ):
        add_patient(db, pid + 1, fname=fname, lname=f"Test{pid + 1}")
    visits = [
        (1, "2026-11-24", "9:00", "-"),
        (1, "2026-11-26", "10:00", "@"),
        (2, "2026-11-24", "9:00", "x"),
        (3, "2026-11-24", "9:00", "?"),
        (5, "2026-11-23", "9:00", "-"),
        (6, "2026-11-25", "16:30", "^"),
        (7, "2026-11-30", "8:00", "-"),
        ("07", "2026-11-25", "10:00", "-"),
        (99, "2026-11-25", "11:00", "-"),
    ]
    for patient, day, start, status in visits:
        add_event(
            db,
            provider=ADMIN,
            category=OFFICE_VISIT,
            day=day,
            start=start,
            minutes=15,
            patient=patient,
            status=status,
        )
    add_event(db, provider=ADMIN, category=NEW_PATIENT, day="2026-11-24", start="9:00", patient=4)


def store_for(pair: OpenEMRPortal, keys: Path) -> OpenEMRStore:
    """The store exactly as the agent builds it, on a pool whose default database is the
    portal database."""
    config = pair.config(keys)
    return OpenEMRStore(Database(database_settings(config)), openemr_settings(config))


async def test_names_types_and_booked_patients_come_from_openemrs_tables(
    openemr_portal: OpenEMRPortal, link_keys: Path
) -> None:
    seed(openemr_portal)
    mine = add_category(openemr_portal.openemr, "retired_visit", "Retired visit", 1200, active=0)
    add_category(openemr_portal.openemr, "staff_meeting", "Staff meeting", 3600, cattype=1)
    store = store_for(openemr_portal, link_keys)
    try:
        names = await store.transaction(lambda tx: store.patient_names(tx, [2, 99, 7]))
        types = await store.transaction(store.all_appointment_types)
        booked = await store.transaction(
            store.patients_with_appointment_type, OFFICE_VISIT, to_minute(START), to_minute(END)
        )
        none = await store.transaction(lambda tx: store.patient_names(tx, []))
    finally:
        await store.db.close()

    assert names == {2: PatientName("Grace", "Test2"), 7: PatientName("Niklaus", "Test7")}
    assert none == {}
    # Patient categories (cattype 0) by id, inactive ones too, not No Show (1); minutes from
    # seconds, rounded up.
    assert [(t.id, t.duration_minutes) for t in types] == [
        (5, 15),
        (9, 15),
        (10, 30),
        (12, 15),
        (13, 15),
        (14, 15),
        (mine, 20),
    ]
    assert [t.name for t in types[:3]] == ["Office Visit", "Established Patient", "New Patient"]
    assert booked == [1, 6]


async def test_messages_and_forms_work_on_an_openemr_practice(
    openemr_portal: OpenEMRPortal, link_keys: Path
) -> None:
    seed(openemr_portal)
    store = store_for(openemr_portal, link_keys)
    clock, zone = FixedClock(START), ZoneInfo(TIMEZONE)
    messages = MessageService(
        store.db, clock, zone, practice_name="Clinic", notice=None, lookups=store
    )
    forms = FormService(store.db, clock, zone, lookups=store)
    try:
        hello = OfficeMessage(patient_id=6, body="Hello", author="Office", subject="Hi")
        await messages.send("staff:test", hello)
        with pytest.raises(MessageRefused, match="there is no patient 99"):
            await messages.send("staff:test", OfficeMessage(99, "Hello", "Office", "Hi"))
        threads = await messages.staff_threads("staff:test", None, False)

        await forms.add_definition(parse_definition(CHECKUP), "staff:test")
        summary = await forms.assign_by_appointment_type("checkup", "office visit", 6, "staff:test")
    finally:
        await store.db.close()

    assert [(t["patient_id"], t["first_name"], t["last_name"]) for t in threads] == [
        (6, "Frances", "Test6")
    ]
    # From Tue 14:00 UTC for six days: up to Mon 14:00 UTC, so pid 7's 13:00 UTC counts now.
    assert sorted(summary.assigned) == [1, 6, 7]
    rows = openemr_portal.openemr.query(
        f"SELECT patient_id FROM `{openemr_portal.portal.name}`.portal_form_assignments"
        " ORDER BY patient_id"
    )
    assert [row["patient_id"] for row in rows] == [1, 6, 7]
